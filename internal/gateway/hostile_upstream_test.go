package gateway_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// An upstream that hangs (no response headers within
// server.upstream_timeout) or resets the connection is answered 502, and
// the gateway keeps serving requests that Chatwoot does answer.
func TestHostileUpstreamHangsOrResets(t *testing.T) {
	stop := make(chan struct{})
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		case "/reset":
			c, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				c.(*net.TCPConn).SetLinger(0) // RST, not FIN
				c.Close()
			}
		case "/half":
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "only part")
			c, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				c.Close()
			}
		default:
			io.WriteString(w, "ok\n")
		}
	})
	h := newHostile(t, up, trustLocal+"server: {upstream_timeout: 1s}\n")
	defer close(stop)
	done := make(chan int, 3)
	for range 3 {
		go func() { done <- h.get("/hang", "198.51.100.1") }()
	}
	h.stillServes("203.0.113.1") // while three requests hang
	for range 3 {
		if got := <-done; got != 502 {
			t.Fatalf("hanging upstream: %d, want 502", got)
		}
	}
	if got := h.get("/reset", "198.51.100.1"); got != 502 {
		t.Fatalf("upstream reset: %d, want 502", got)
	}
	h.stillServes("203.0.113.1")
	// A response cut off mid-body: the client's connection is aborted (no
	// complete response ever reaches it) and the gateway carries on.
	if resp, err := client().Get(h.url + "/half"); err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("a truncated upstream body reached the client as complete")
		}
	}
	h.stillServes("203.0.113.1")
}

// Chatwoot down: 502 at once, not a hang.
func TestHostileUpstreamDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	gw := gatewayToURL(t, "http://"+addr, "preset: none\n")
	start := time.Now()
	resp, err := client().Get(gw.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 || time.Since(start) > 3*time.Second {
		t.Fatalf("upstream down: %d after %v", resp.StatusCode, time.Since(start))
	}
}
