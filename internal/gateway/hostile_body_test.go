package gateway_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// signInHead is the start of a login POST from client xff declaring a
// body of cl bytes ("" = no Content-Length header).
func signInHead(xff, cl, extra string) string {
	s := "POST /auth/sign_in HTTP/1.1\r\nHost: chat.example\r\nContent-Type: application/json\r\nX-Forwarded-For: " + xff + "\r\n" + extra
	if cl != "" {
		s += "Content-Length: " + cl + "\r\n"
	}
	return s + "\r\n"
}

// slowSignIn starts a login whose body never finishes: it sends the head
// and the first bytes of a body of cl bytes, then stalls.
func (h *hostile) slowSignIn(xff string, cl int) net.Conn {
	c := h.dial("")
	io.WriteString(c, signInHead(xff, fmt.Sprint(cl), "")+`{"email":`)
	return c
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

const trustLocal = "client_ip: {trusted_proxies: [127.0.0.1]}\n"

func TestHostileLoginBodies(t *testing.T) {
	h := newHostile(t, okHandler(), trustLocal)
	big := strings.Repeat("a", 70<<10)
	tests := []struct {
		name, raw string
		want      int
		wantAny   []int // when Rails-level parsing decides (branch fidelity), any of these
	}{
		{"declared too large, body never sent", signInHead("198.51.100.1", "1048576", ""), 413, nil},
		{"chunked too large", signInHead("198.51.100.2", "", "Transfer-Encoding: chunked\r\n") +
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(big), big), 413, nil},
		{"bad chunk framing", signInHead("198.51.100.3", "", "Transfer-Encoding: chunked\r\n") + "zz\r\nxx\r\n0\r\n\r\n", 400, nil},
		{"bad content-length", signInHead("198.51.100.4", "ten", ""), 400, nil},
		{"two content-lengths", signInHead("198.51.100.5", "5", "Content-Length: 6\r\n") + "12345", 400, nil},
		// Go's server reads it as chunked and drops the Content-Length
		// (RFC 9112 §6.3): Chatwoot sees the same single framing.
		{"content-length and chunked", signInHead("198.51.100.6", "5", "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n", 200, nil},
		{"unknown transfer coding", signInHead("198.51.100.7", "", "Transfer-Encoding: gzip\r\n") + "xx", 501, nil},
		{"binary garbage", signInHead("198.51.100.8", "6", "") + "\x00\xff\xfe{[\"", 0, []int{200, 400}},
		{"deep nesting", signInHead("198.51.100.9", "60000", "") + strings.Repeat("[", 60000), 0, []int{200, 400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.dial("")
			io.WriteString(c, tt.raw)
			got := readStatus(c, 3*time.Second)
			ok := got == tt.want
			for _, w := range tt.wantAny {
				ok = ok || got == w
			}
			if !ok {
				t.Fatalf("status %d, want %d %v", got, tt.want, tt.wantAny)
			}
			h.stillServes("203.0.113.1")
		})
	}
	// A body cut short: the client gives up half-way.
	c := h.dial("")
	io.WriteString(c, signInHead("198.51.100.10", "100", "")+`{"email":"a@b.c"`)
	c.(*net.TCPConn).CloseWrite()
	if got := readStatus(c, 3*time.Second); got != 400 {
		t.Fatalf("truncated body: %d, want 400", got)
	}
	h.stillServes("203.0.113.1")
}

// A login body that trickles in is cut off by limits.small_body_timeout
// with 408, and others are served meanwhile.
func TestHostileSlowLoginBody(t *testing.T) {
	h := newHostile(t, okHandler(), trustLocal+"limits: {small_body_timeout: 1s}\n")
	start := time.Now()
	c := h.slowSignIn("198.51.100.1", 60)
	h.stillServes("203.0.113.1")
	if got := readStatus(c, 4*time.Second); got != 408 {
		t.Fatalf("slow body: %d, want 408", got)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("408 after %v, before the 1s timeout", d)
	}
	if n := h.gw.Refused().SlowBodies; n != 1 {
		t.Fatalf("Refused().SlowBodies = %d", n)
	}
	h.stillServes("203.0.113.1")
	waitFor(t, "body memory released", func() bool { return h.gw.BodyMemoryInUse() == 0 })
}

func TestHostileBufferedBodyCaps(t *testing.T) {
	t.Run("buffered_bodies", func(t *testing.T) {
		h := newHostile(t, okHandler(), trustLocal+"limits: {buffered_bodies: 2, buffered_bodies_per_client: 2}\n")
		h.slowSignIn("198.51.100.1", 60)
		h.slowSignIn("198.51.100.2", 60)
		waitFor(t, "two bodies buffering", func() bool { return h.gw.BodyMemoryInUse() == 120 })
		c := h.slowSignIn("198.51.100.3", 60)
		if got := readStatus(c, 2*time.Second); got != 503 {
			t.Fatalf("third body: %d, want 503", got)
		}
		if r := h.gw.Refused(); r.BufferedBodies != 1 {
			t.Fatalf("refusals %+v", r)
		}
		if n := h.logCount("request refused: too many request bodies"); n != 1 {
			t.Fatalf("%d log lines for the refusal, want 1", n)
		}
		h.stillServes("203.0.113.1") // requests without a buffered body are not affected
	})
	t.Run("buffered_bodies_per_client", func(t *testing.T) {
		h := newHostile(t, okHandler(), trustLocal+"limits: {buffered_bodies_per_client: 1}\n")
		h.slowSignIn("198.51.100.1", 60)
		waitFor(t, "one body buffering", func() bool { return h.gw.BodyMemoryInUse() == 60 })
		if got := readStatus(h.slowSignIn("198.51.100.1", 60), 2*time.Second); got != 429 {
			t.Fatalf("same client's second body: %d, want 429", got)
		}
		// Another client, and the trusted proxy's own address, still get in.
		other := h.slowSignIn("198.51.100.2", 60)
		proxy1 := h.slowSignIn("127.0.0.1", 60)
		proxy2 := h.slowSignIn("127.0.0.1", 60)
		waitFor(t, "four bodies buffering", func() bool { return h.gw.BodyMemoryInUse() == 240 })
		for _, c := range []net.Conn{other, proxy1, proxy2} {
			io.WriteString(c, strings.Repeat(" ", 60-len(`{"email":`)))
			if got := readStatus(c, 2*time.Second); got != 200 {
				t.Fatalf("completed body: %d, want 200", got)
			}
		}
		if r := h.gw.Refused(); r.BufferedBodiesPerClient != 1 {
			t.Fatalf("refusals %+v", r)
		}
	})
	t.Run("body_memory", func(t *testing.T) {
		h := newHostile(t, okHandler(), trustLocal+"limits: {body_memory: 128KiB}\n")
		h.slowSignIn("198.51.100.1", 64<<10)
		h.slowSignIn("198.51.100.2", 64<<10)
		waitFor(t, "budget spent", func() bool { return h.gw.BodyMemoryInUse() == 128<<10 })
		if got := readStatus(h.slowSignIn("198.51.100.3", 100), 2*time.Second); got != 503 {
			t.Fatalf("body over the budget: %d, want 503", got)
		}
		if r := h.gw.Refused(); r.BodyMemory != 1 {
			t.Fatalf("refusals %+v", r)
		}
		h.stillServes("203.0.113.1")
	})
}
