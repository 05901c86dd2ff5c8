package gateway_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Connections that send their headers a byte at a time are closed after
// the read header timeout (1s in the rig); others are served meanwhile.
func TestHostileSlowlorisHeaders(t *testing.T) {
	h := newHostile(t, okHandler(), trustLocal)
	var cs []net.Conn
	for i := 0; i < 200; i++ {
		c := h.dial("")
		io.WriteString(c, "POST /auth/sign_in HTTP/1.1\r\nHost: x\r\nX-Pad: ")
		cs = append(cs, c)
	}
	h.stillServes("203.0.113.1")
	start := time.Now()
	for _, c := range cs {
		c.Write([]byte("a")) // still trickling
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 512)
		for {
			if _, err := c.Read(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("a slow header connection was still open after %v", time.Since(start))
				}
				break // closed by the gateway (after a 408, or without one)
			}
		}
	}
	h.stillServes("203.0.113.1")
}

// Many idle connections (no request at all, from ten clients, under the
// default limits) do not stop others.
func TestHostileManyIdleConnections(t *testing.T) {
	// A long header timeout: idle connections must stay open while the
	// test opens the rest, on a loaded machine too.
	h := newHostile(t, okHandler(), "server: {read_header_timeout: 60s}\n")
	for i := 0; i < 1000; i++ {
		h.dial(fmt.Sprintf("127.0.0.%d", 2+i%10))
	}
	waitFor(t, "1000 idle connections open", func() bool { return h.conns.Open() >= 1000 })
	h.stillServes("") // from 127.0.0.1: a different client
}

// Over limits.connections_per_client a direct client's connection gets a
// 503 at once; another client, and a trusted proxy, do not.
func TestHostileConnectionsPerClient(t *testing.T) {
	h := newHostile(t, okHandler(), "client_ip: {trusted_proxies: [127.0.0.3]}\nlimits: {connections_per_client: 20}\n")
	for i := 0; i < 20; i++ {
		h.dial("127.0.0.2")
	}
	waitFor(t, "20 connections open", func() bool { return h.conns.Open() == 20 })
	c := h.dial("127.0.0.2")
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := readStatus(c, 2*time.Second); got != 503 {
		t.Fatalf("21st connection: %d, want 503", got)
	}
	if h.conns.Refused() != 1 || h.logCount("connection refused") != 1 {
		t.Fatalf("refused %d, log lines %d", h.conns.Refused(), h.logCount("connection refused"))
	}
	h.stillServes("") // 127.0.0.1
	for i := 0; i < 25; i++ {
		h.dial("127.0.0.3") // the trusted proxy is never capped
	}
	waitFor(t, "proxy connections open", func() bool { return h.conns.Open() == 45 })
	if h.conns.Refused() != 1 {
		t.Fatalf("a trusted proxy's connection was refused")
	}
}

// Over limits.connections every new connection gets a 503; when some
// close, new ones are accepted again.
func TestHostileConnectionsTotal(t *testing.T) {
	h := newHostile(t, okHandler(), "limits: {connections: 30}\n")
	var cs []net.Conn
	for i := 0; i < 30; i++ {
		cs = append(cs, h.dial("127.0.0.2"))
	}
	waitFor(t, "30 connections open", func() bool { return h.conns.Open() == 30 })
	if got := h.get("/", ""); got != 503 {
		t.Fatalf("over the total: %d, want 503", got)
	}
	for _, c := range cs[:5] {
		c.Close()
	}
	waitFor(t, "connections released", func() bool { return h.conns.Open() == 25 })
	h.stillServes("")
}

// Over limits.connections_per_client requests in flight, one resolved
// client behind the trusted proxy gets 429; other clients do not, nor
// does the proxy's own address.
func TestHostileRequestsInFlightPerClient(t *testing.T) {
	release := make(chan struct{})
	var waiting atomic.Int64
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			waiting.Add(1)
			<-release
		}
		io.WriteString(w, "ok\n")
	})
	h := newHostile(t, up, trustLocal+"limits: {connections_per_client: 3}\n")
	var wg sync.WaitGroup
	slow := func(ip string) {
		wg.Add(1)
		go func() { defer wg.Done(); h.get("/slow", ip) }()
	}
	for i := 0; i < 3; i++ {
		slow("198.51.100.1")
	}
	for i := 0; i < 4; i++ {
		slow("127.0.0.1") // the proxy itself: never capped
	}
	waitFor(t, "seven requests in flight", func() bool { return waiting.Load() == 7 })
	if got := h.get("/", "198.51.100.1"); got != 429 {
		t.Fatalf("4th request in flight: %d, want 429", got)
	}
	h.stillServes("198.51.100.2")
	if got := h.get("/", "127.0.0.1"); got != 200 {
		t.Fatalf("the proxy's own address was capped: %d", got)
	}
	close(release)
	wg.Wait()
	h.stillServes("198.51.100.1") // its slots are back
	if n := h.gw.Refused().RequestsPerClient; n != 1 {
		t.Fatalf("Refused().RequestsPerClient = %d", n)
	}
}
