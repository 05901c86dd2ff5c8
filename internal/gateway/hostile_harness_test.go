package gateway_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// hostile is a gateway served as `wootguard serve` serves it (real
// listener, connection limits, server timeouts), for the hostile-input
// suite.
type hostile struct {
	t     testing.TB
	addr  string // host:port of the gateway
	url   string
	gw    *gateway.Gateway
	conns *gateway.ConnLimitListener
	logs  *syncBuffer
}

// newHostile starts handler as Chatwoot and a gateway configured by yaml
// in front of it; the read header timeout is short (1s, unless yaml sets
// server.read_header_timeout) so slowloris cases end fast.
func newHostile(t testing.TB, handler http.Handler, yaml string) *hostile {
	t.Helper()
	up := httptest.NewServer(handler)
	t.Cleanup(up.Close)
	path := filepath.Join(t.TempDir(), "wootguard.yaml")
	if err := os.WriteFile(path, []byte("upstream: "+up.URL+"\n"+yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{SweepEvery: -1})
	t.Cleanup(func() { st.Close() })
	h := &hostile{t: t, logs: &syncBuffer{}}
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts, err := gateway.FromConfig(cfg, st, log)
	if err != nil {
		t.Fatal(err)
	}
	h.gw = gateway.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.conns = gateway.LimitConns(ln, gateway.ConnLimits{Max: cfg.Limits.Connections, PerClient: cfg.Limits.ConnectionsPerClient,
		Trusted: h.gw.TrustedPeer, Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	headerTimeout := time.Second
	if d := cfg.Raw.Server.ReadHeaderTimeout; d != 0 {
		headerTimeout = time.Duration(d)
	}
	go func() {
		done <- gateway.Serve(ctx, h.conns, h.gw, gateway.ServerOptions{ReadHeaderTimeout: headerTimeout,
			IdleTimeout: 30 * time.Second, ShutdownTimeout: time.Second, Logger: log})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	h.addr = ln.Addr().String()
	h.url = "http://" + h.addr
	return h
}

// client is an HTTP client of its own (no shared keep-alive pool), with a
// timeout so that a hung gateway fails the test instead of hanging it.
func client() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

// get sends a GET as client ip (X-Forwarded-For when ip != "") and returns
// the status, or 0 when there was no answer.
func (h *hostile) get(path, ip string) int {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.url+path, nil)
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	resp, err := client().Do(req)
	if err != nil {
		h.t.Logf("GET %s: %v", path, err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// stillServes asserts that an ordinary client is answered promptly.
func (h *hostile) stillServes(ip string) {
	h.t.Helper()
	start := time.Now()
	if got := h.get("/api/v1/profile", ip); got != 200 {
		h.t.Fatalf("an ordinary request got %d, want 200: the gateway stopped serving others", got)
	}
	if d := time.Since(start); d > 3*time.Second { // generous: CI shares two cores
		h.t.Fatalf("an ordinary request took %v", d)
	}
}

// dial opens a raw connection to the gateway from local address from
// ("" = any; 127.0.0.2 and up are other loopback clients on Linux).
func (h *hostile) dial(from string) net.Conn {
	h.t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", h.addr)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

// readStatus reads the status code of the response on c (0: none within
// the timeout or the connection closed without one).
func readStatus(c net.Conn, timeout time.Duration) int {
	c.SetReadDeadline(time.Now().Add(timeout))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// logCount counts log records whose msg starts with prefix.
func (h *hostile) logCount(prefix string) int {
	n := 0
	for _, l := range h.logs.lines() {
		if m, _ := l["msg"].(string); strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// okHandler is a Chatwoot that answers 200 and echoes what the rules care
// about in headers.
func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Seen-Xff", r.Header.Get("X-Forwarded-For"))
		io.WriteString(w, "ok\n")
	})
}
