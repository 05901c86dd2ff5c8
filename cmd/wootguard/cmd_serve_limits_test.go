package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// serve puts its listener behind limits.connections: over it, a new
// connection is answered 503 at once.
func TestServeLimitsConnections(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	cfg := filepath.Join(t.TempDir(), "w.yaml")
	if err := os.WriteFile(cfg, []byte("upstream: "+up.URL+"\npreset: none\nlimits: {connections: 2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env, _, errb := testEnv(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, env, []string{"serve", "--config", cfg, "--listen", "127.0.0.1:0"}) }()
	addr := waitFor(t, errb, regexp.MustCompile(`listen=(127\.0\.0\.1:\d+)`))
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("third connection: %v %v, want 503", resp, err)
	}
	c.Close()
	waitFor(t, errb, regexp.MustCompile(`connection refused: too many open connections`))
	for _, c := range held {
		c.Close()
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d: %s", code, errb.String())
	}
}
