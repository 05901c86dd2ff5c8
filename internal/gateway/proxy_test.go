package gateway_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// gatewayTo starts a gateway (chatwoot preset, no trusted proxies unless
// given) in front of handler.
func gatewayTo(t *testing.T, handler http.Handler, yaml string) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(handler)
	t.Cleanup(up.Close)
	return gatewayToURL(t, up.URL, yaml)
}

func gatewayToURL(t *testing.T, upstreamURL, yaml string) *httptest.Server {
	t.Helper()
	path := t.TempDir() + "/wootguard.yaml"
	writeFile(t, path, "upstream: "+upstreamURL+"\n"+yaml)
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{SweepEvery: -1})
	t.Cleanup(func() { st.Close() })
	opts, err := gateway.FromConfig(cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(gateway.New(opts))
	t.Cleanup(gw.Close)
	return gw
}

func TestSpoofedForwardingHeadersFromUntrustedPeerChangeNothing(t *testing.T) {
	var seen http.Header
	gw := gatewayTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Clone() }),
		"preset: none\nthrottles: [{name: t, limit: 2, period: 60, key: ip}]\n")
	var got []int
	for i := 0; i < 3; i++ {
		hr, _ := http.NewRequest("GET", gw.URL+"/x", nil)
		hr.Header.Set("X-Forwarded-For", fmt.Sprintf("1.2.3.%d", i))
		hr.Header.Set("Forwarded", fmt.Sprintf("for=5.6.7.%d", i))
		hr.Header.Set("X-Real-IP", "9.9.9.9")
		hr.Header.Set("Client-IP", "8.8.8.8")
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	if !equalInts(got, codes(200, 200, 429)) {
		t.Fatalf("spoofed XFF picked a new bucket: %v", got)
	}
	// Chatwoot sees one clean chain naming the real peer.
	if seen.Get("X-Forwarded-For") != "127.0.0.1" || seen.Get("X-Real-Ip") != "127.0.0.1" ||
		seen.Get("Forwarded") != "" || seen.Get("Client-Ip") != "" || seen.Get("X-Forwarded-Proto") != "http" {
		t.Fatalf("upstream headers: %v", seen)
	}
}

func TestUpstreamHeadersFromTrustedProxy(t *testing.T) {
	var seen *http.Request
	gw := gatewayTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.Clone(r.Context()) }),
		"preset: none\nclient_ip: {trusted_proxies: [127.0.0.0/8]}\n")
	hr, _ := http.NewRequest("POST", gw.URL+"/api/v1/accounts/1/conversations?x=1", strings.NewReader("{}"))
	hr.Host = "chat.example.com"
	hr.Header.Set("X-Forwarded-For", "6.6.6.6, 203.0.113.5")
	hr.Header.Set("X-Forwarded-Proto", "https")
	hr.Header["api_access_token"] = []string{"tok_123"} // underscore, as Chatwoot's API clients send it
	hr.Header.Set("Access-Token", "dta")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := seen.Header
	if h.Get("X-Forwarded-For") != "203.0.113.5" || h.Get("X-Forwarded-Proto") != "https" || seen.Host != "chat.example.com" ||
		h.Get("Api_access_token") != "tok_123" || h.Get("Access-Token") != "dta" || seen.URL.RawQuery != "x=1" || seen.Method != "POST" {
		t.Fatalf("upstream saw host %q headers %v query %q", seen.Host, h, seen.URL.RawQuery)
	}
}

func TestDeadUpstreamIs502(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	gw := gatewayToURL(t, dead, "preset: none\n")
	resp, err := http.Get(gw.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || !strings.Contains(string(body), "Bad Gateway") || len(body) > 100 {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
}

func TestWebSocketThroughCable(t *testing.T) {
	// A minimal WebSocket-shaped upstream: answers the upgrade with 101 and
	// echoes bytes, as ActionCable's socket would carry frames.
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cable" || r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "no", 400)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprint(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n")
		rw.Flush()
		buf := make([]byte, 64)
		for {
			n, err := rw.Read(buf)
			if err != nil {
				return
			}
			conn.Write(buf[:n])
		}
	})
	gw := gatewayTo(t, up, "") // chatwoot preset on
	conn, err := net.Dial("tcp", strings.TrimPrefix(gw.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(conn, "GET /cable HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	for _, msg := range []string{"ping", "{\"command\":\"subscribe\"}"} {
		conn.Write([]byte(msg))
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != msg {
			t.Fatalf("echo %q: %q %v", msg, got, err)
		}
	}
}

func TestStreamingResponseIsNotBuffered(t *testing.T) {
	release := make(chan struct{})
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "data: second\n\n")
	})
	gw := gatewayTo(t, up, "preset: none\n")
	resp, err := http.Get(gw.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n') // arrives while the upstream still holds the rest
	close(release)
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event %q %v", line, err)
	}
}

func TestLargeUploadStreamsAndBodyRulesAreBounded(t *testing.T) {
	var gotSum [32]byte
	var gotLen int64
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		gotLen, _ = io.Copy(h, r.Body)
		copy(gotSum[:], h.Sum(nil))
	})
	gw := gatewayTo(t, up, "body_limit: 1KiB\n")     // chatwoot preset: /auth/sign_in reads the body
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB, not on a rule that reads bodies
	resp, err := http.Post(gw.URL+"/api/v1/accounts/1/upload", "application/octet-stream", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || gotLen != int64(len(big)) || gotSum != sha256.Sum256([]byte(big)) {
		t.Fatalf("upload: %d, upstream got %d bytes", resp.StatusCode, gotLen)
	}
	// A body a rule must read is buffered up to body_limit, then refused.
	form := url.Values{"email": {strings.Repeat("a", 2000)}}.Encode()
	resp, err = http.Post(gw.URL+"/auth/sign_in", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("oversized login body: %d, want 413", resp.StatusCode)
	}
	// Within the limit it is replayed to Chatwoot unchanged.
	small := `{"email":"a@b.c","password":"pw"}`
	var seen string
	gw2 := gatewayTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = string(b)
	}), "")
	resp, err = http.Post(gw2.URL+"/auth/sign_in", "application/json", strings.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if seen != small {
		t.Fatalf("replayed body %q", seen)
	}
}

func TestBadRequestsDoNotPanic(t *testing.T) {
	gw := gatewayTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), "")
	for _, raw := range []string{
		"POST /auth/sign_in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{\"ema",
		"POST /auth/sign_in HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz\r\nContent-Length: 9\r\n\r\n--zz\r\nbad",
		"GET /%zz/../..%00 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /auth/sign_in?email=%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(gw.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, raw)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil || resp.StatusCode >= 500 {
			t.Fatalf("%q: %v %v", raw, resp, err)
		}
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	started := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(200 * time.Millisecond)
		io.WriteString(w, "done")
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	gw := gateway.New(gateway.Options{Upstream: u, Engine: mustEmptyEngine(t)})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- gateway.Serve(ctx, ln, gw, gateway.ServerOptions{ReadHeaderTimeout: time.Second, ShutdownTimeout: 5 * time.Second,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel()
	if b := <-got; b != "done" {
		t.Fatalf("in-flight request got %q", b)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

func TestSlowHeadersAreCutOff(t *testing.T) {
	gw := gateway.New(gateway.Options{Upstream: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}, Engine: mustEmptyEngine(t)})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go gateway.Serve(ctx, ln, gw, gateway.ServerOptions{ReadHeaderTimeout: 200 * time.Millisecond, ShutdownTimeout: time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n") // and never finish the headers
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("server kept a half-sent request open: slowloris")
	}
}
