package gateway

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// writeRequestHead refuses what net/http's server would not have let
// through either (a handler may be called with any http.Request), and
// what it writes parses back as the same request.
func TestWriteRequestHeadChecksEveryByte(t *testing.T) {
	target, _ := url.Parse("http://127.0.0.1:3000")
	tests := []struct {
		name   string
		mod    func(r *http.Request)
		bad    bool
		header string // must arrive with this value ("" = not checked)
		want   string
	}{
		{"plain", func(r *http.Request) {}, false, "X-Ok", "fine"},
		{"NUL in a value", func(r *http.Request) { r.Header.Set("X-Bad", "a\x00b") }, true, "", ""},
		{"CR in a value", func(r *http.Request) { r.Header.Set("X-Bad", "a\rb") }, true, "", ""},
		{"LF in a value", func(r *http.Request) { r.Header.Set("X-Bad", "a\nX-Injected: 1") }, true, "", ""},
		{"DEL in a value", func(r *http.Request) { r.Header.Set("X-Bad", "a\x7f") }, true, "", ""},
		{"space in a name", func(r *http.Request) { r.Header["X Bad"] = []string{"v"} }, true, "", ""},
		{"colon in a name", func(r *http.Request) { r.Header["X:Bad"] = []string{"v"} }, true, "", ""},
		{"CRLF in User-Agent", func(r *http.Request) { r.Header.Set("User-Agent", "a\r\nX-Injected: 1") }, true, "", ""},
		{"CRLF in the forwarded host", func(r *http.Request) { r.Host = "a\r\nX: 1" }, false, "X-Injected", ""},
		{"bad method", func(r *http.Request) { r.Method = "GET /x HTTP/1.1\r\n" }, true, "", ""},
		{"control in the query", func(r *http.Request) { r.URL.RawQuery = "a=\x01" }, true, "", ""},
		{"space in the query", func(r *http.Request) { r.URL.RawQuery = "a=1 HTTP/1.1" }, true, "", ""},
		{"tab is allowed", func(r *http.Request) { r.Header.Set("X-Tab", "a\tb") }, false, "X-Tab", "a\tb"},
		{"obs-text is allowed", func(r *http.Request) { r.Header.Set("X-Utf8", "é") }, false, "X-Utf8", "é"},
		{"invalid Host is sent empty", func(r *http.Request) { r.Host = "a b" }, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "http://chat.example/api?x=1", nil)
			r.Header.Set("X-Ok", "fine")
			tt.mod(r)
			info := &reqInfo{client: netip.MustParseAddr("203.0.113.9"), proto: "http", host: "chat.example"}
			if r.Host != "chat.example" {
				info.host = "chat.example"
			}
			var buf bytes.Buffer
			bw := bufio.NewWriter(&buf)
			err := writeRequestHead(bw, r, &upstreamRequest{target: target, info: info})
			if tt.bad {
				if err == nil {
					bw.Flush()
					t.Fatalf("accepted; wrote %q", buf.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			bw.Flush()
			if strings.Count(buf.String(), "\r\n\r\n") != 1 || !strings.HasSuffix(buf.String(), "\r\n\r\n") {
				t.Fatalf("head %q", buf.String())
			}
			got, err := http.ReadRequest(bufio.NewReader(&buf))
			if err != nil {
				t.Fatalf("the head does not parse: %v", err)
			}
			if got.Header.Get("X-Forwarded-For") != "203.0.113.9" || got.URL.RequestURI() != "/api?x=1" {
				t.Fatalf("parsed %v %v", got.URL, got.Header)
			}
			if tt.header != "" && got.Header.Get(tt.header) != tt.want {
				t.Fatalf("%s = %q, want %q", tt.header, got.Header.Get(tt.header), tt.want)
			}
		})
	}
}

// The sweep closes connections idle for upstreamIdleTimeout (before
// Puma's 20 s) and keeps the others.
func TestUpstreamPoolSweepsIdleConnections(t *testing.T) {
	p := newUpstreamPool(&url.URL{Scheme: "http", Host: "127.0.0.1:1"}, 10, nil)
	defer p.close()
	type pair struct{ ours, theirs net.Conn }
	var conns []pair
	for range 3 {
		a, b := net.Pipe()
		conns = append(conns, pair{a, b})
		p.put(&upstreamConn{conn: a})
	}
	p.mu.Lock()
	p.idle[0].idleSince = time.Now().Add(-upstreamIdleTimeout - time.Second)
	p.idle[1].idleSince = time.Now().Add(-upstreamIdleTimeout - time.Second)
	p.mu.Unlock()
	p.sweepIdle()
	if n := p.idleCount(); n != 1 {
		t.Fatalf("%d idle after the sweep, want 1", n)
	}
	for i, c := range conns {
		c.theirs.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err := c.theirs.Read(make([]byte, 1))
		closed := err != nil && !isTimeout(err)
		if closed != (i < 2) {
			t.Fatalf("conn %d closed=%v (%v)", i, closed, err)
		}
	}
	// Over the pool's size a connection is closed, not kept.
	small := newUpstreamPool(&url.URL{Scheme: "http", Host: "127.0.0.1:1"}, 1, nil)
	defer small.close()
	a, _ := net.Pipe()
	b, bPeer := net.Pipe()
	small.put(&upstreamConn{conn: a})
	small.put(&upstreamConn{conn: b})
	bPeer.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := bPeer.Read(make([]byte, 1)); err == nil || isTimeout(err) || small.idleCount() != 1 {
		t.Fatalf("over the size: %v, %d idle", err, small.idleCount())
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
