package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
)

// An upstream that closes mid-body: the client's response is cut off
// (an error, never a complete-looking body), the connection is not
// reused, and the gateway carries on.
func TestUpstreamClosesMidBody(t *testing.T) {
	tests := []struct{ name, head, part string }{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "only part"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var accepted atomic.Int64
			upURL := rawUpstream(t, func(_ int, c net.Conn) {
				accepted.Add(1)
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					if req.URL.Path == "/cut" {
						io.WriteString(c, tt.head+tt.part)
						return // closes the connection
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			})
			rig := newUpstreamRig(t, upURL, nil)
			c := client()
			if status, _ := getBody(t, c, rig.srv.URL+"/"); status != 200 {
				t.Fatalf("status %d", status)
			}
			time.Sleep(20 * time.Millisecond)
			resp, err := c.Get(rig.srv.URL + "/cut")
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if err == nil {
				t.Fatal("a cut-off upstream body reached the client as complete")
			}
			before := accepted.Load()
			if status, body := getBody(t, c, rig.srv.URL+"/"); status != 200 || body != "ok" {
				t.Fatalf("after the cut: %d %q", status, body)
			}
			if accepted.Load() != before+1 {
				t.Fatalf("the cut connection was reused (%d new connections)", accepted.Load()-before)
			}
		})
	}
}

// server.upstream_timeout is the wait for the response head after the
// request was sent: a hanging upstream gets a 502 then, an upload that
// takes longer than the timeout is not cut.
func TestUpstreamResponseHeaderTimeout(t *testing.T) {
	up, _ := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/hang" {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}
		fmt.Fprint(w, n)
	}))
	rig := newUpstreamRig(t, up.URL, func(o *gateway.Options) { o.UpstreamTimeout = 300 * time.Millisecond })
	start := time.Now()
	resp, body := rawExchange(t, hostOf(rig.srv.URL), "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp == nil || resp.StatusCode != 502 || !strings.Contains(body, "Bad Gateway") {
		t.Fatalf("hanging upstream: %v %q", resp, body)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("502 after %v", d)
	}
	// A body sent over ~1 s, three times the timeout.
	pr, pw := io.Pipe()
	go func() {
		for range 10 {
			time.Sleep(100 * time.Millisecond)
			io.WriteString(pw, strings.Repeat("x", 1000))
		}
		pw.Close()
	}()
	r2, err := client().Post(rig.srv.URL+"/slow-upload", "application/octet-stream", pr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if r2.StatusCode != 200 || string(b) != "10000" {
		t.Fatalf("slow upload: %d %q", r2.StatusCode, b)
	}
}

// A client that goes away ends the upstream exchange: the connection to
// Chatwoot is closed (Chatwoot's request context ends), no 502 is logged.
func TestUpstreamClientCancelClosesConnection(t *testing.T) {
	arrived := make(chan struct{}, 1)
	ended := make(chan struct{}, 1)
	up, _ := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
			ended <- struct{}{}
		case <-time.After(10 * time.Second):
		}
	}))
	logs := &syncBuffer{}
	rig := newUpstreamRig(t, up.URL, func(o *gateway.Options) { o.Logger = slogTo(logs) })
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", rig.srv.URL+"/wait", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-arrived
	cancel()
	<-errc
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream connection stayed open after the client left")
	}
	if strings.Contains(logs.String(), "upstream unavailable") {
		t.Fatalf("a client that left was logged as an upstream failure: %s", logs.String())
	}
}

// Header values with odd bytes never make an invalid upstream request:
// the client is refused (400 by net/http, 502 by the gateway's own
// check) or Chatwoot gets a request whose every line is well-formed.
func TestUpstreamHostileHeaderBytes(t *testing.T) {
	bad := make(chan string, 100)
	upURL := rawUpstream(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		for {
			head, err := readRawHead(br)
			if err != nil {
				return
			}
			if why := invalidHead(head); why != "" {
				bad <- fmt.Sprintf("%s in %q", why, head)
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		}
	})
	rig := newUpstreamRig(t, upURL, nil)
	values := []string{"a\x00b", "a\x01b", "a\x7fb", "a\rb", "a\r\rb", "a\nb", "\xff\xfe", "tab\there", "a\r\n b",
		"\x00", "a\x1bb", "é", "a\u2028b", "trailing ", "a\x85b"}
	names := []string{"X-Odd", "X_Under", "X-Forwarded-For", "X_Real_IP", "Connection", "Upgrade", "Te", "Host", "User-Agent"}
	n := 0
	for _, name := range names {
		for _, v := range values {
			raw := "GET /h?q=" + fmt.Sprint(n) + " HTTP/1.1\r\nHost: x\r\n" + name + ": " + v + "\r\n\r\n"
			n++
			resp, _ := rawExchange(t, hostOf(rig.srv.URL), raw)
			if resp == nil {
				t.Fatalf("%s: %q: no answer", name, v)
			}
			if s := resp.StatusCode; s != 200 && s != 400 && s != 502 {
				t.Fatalf("%s: %q: status %d", name, v, s)
			}
		}
	}
	close(bad)
	for why := range bad {
		t.Error(why)
	}
}

// readRawHead reads a request head as raw lines, then its body if it
// declares a length.
func readRawHead(br *bufio.Reader) ([]string, error) {
	var lines []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if line == "\r\n" {
			return lines, nil
		}
		lines = append(lines, line)
	}
}

// invalidHead says what is wrong with a request head ("" = nothing).
func invalidHead(lines []string) string {
	if len(lines) == 0 {
		return "no request line"
	}
	for i, l := range lines {
		if !strings.HasSuffix(l, "\r\n") || strings.ContainsAny(strings.TrimSuffix(l, "\r\n"), "\r\n") {
			return "bare CR or LF"
		}
		l = strings.TrimSuffix(l, "\r\n")
		if i == 0 {
			f := strings.Split(l, " ")
			if len(f) != 3 || f[2] != "HTTP/1.1" || f[0] == "" || !strings.HasPrefix(f[1], "/") {
				return "bad request line"
			}
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return "bad header name"
		}
		for _, c := range []byte(k) {
			if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
				return "bad header name"
			}
		}
		if v != "" && v[0] == ' ' {
			v = v[1:]
		}
		for _, c := range []byte(v) {
			if c < ' ' && c != '\t' || c == 0x7f {
				return "control character in a value"
			}
		}
		if l[0] == ' ' || l[0] == '\t' {
			return "folded line"
		}
	}
	return ""
}

// No goroutine outlives the requests: plain, with bodies, answered
// early, cancelled, tunnelled. Once the gateway is closed, the count is
// back where it started.
func TestUpstreamNoGoroutineLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		up, _ := countingUpstream(t, upgrader())
		rig := newUpstreamRig(t, up.URL, func(o *gateway.Options) { o.WebsocketPaths = []string{"/cable"} })
		c := client()
		for i := range 5 {
			getBody(t, c, rig.srv.URL+"/")
			resp, err := c.Post(rig.srv.URL+"/p", "text/plain", strings.NewReader(strings.Repeat("b", i*40000)))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, "POST", rig.srv.URL+"/p", io.MultiReader(strings.NewReader("x"), neverReader{ctx}))
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
		}
		cancel()
		conn, err := net.Dial("tcp", hostOf(rig.srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, "GET /cable HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nping\n")
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(conn)
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 101 {
			t.Fatalf("upgrade: %v %v", resp, err)
		}
		if line, _ := br.ReadString('\n'); line != "echo ping\n" {
			t.Fatalf("tunnel: %q", line)
		}
		conn.Close()
		rig.srv.Close()
		rig.gw.Close()
		up.Close()
	}()
	var now int
	for range 500 {
		if now = runtime.NumGoroutine(); now <= base {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	t.Fatalf("%d goroutines, %d before:\n%s", now, base, buf[:runtime.Stack(buf, true)])
}

// neverReader blocks until ctx ends: an upload that stalls.
type neverReader struct{ ctx context.Context }

func (r neverReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}
