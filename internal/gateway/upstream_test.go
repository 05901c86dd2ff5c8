package gateway_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
)

// Hop-by-hop headers (the fixed list and those named in Connection) do
// not cross the gateway in either direction; end-to-end ones do.
func TestUpstreamHopByHopHeaders(t *testing.T) {
	var seen http.Header
	var seenUA []string
	up, _ := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		seenUA = r.Header.Values("User-Agent")
		h := w.Header()
		h.Set("Connection", "X-Resp-Hop")
		h.Set("X-Resp-Hop", "1")
		h.Set("Keep-Alive", "timeout=5")
		h.Set("Proxy-Authenticate", "Basic")
		h.Set("X-Resp-End", "1")
		io.WriteString(w, "ok")
	}))
	rig := newUpstreamRig(t, up.URL, nil)
	req := "GET /x HTTP/1.1\r\nHost: chat.example\r\n" +
		"Connection: keep-alive, X-Hop-Listed, x-lower-listed\r\nConnection: X-Second-Listed\r\n" +
		"X-Hop-Listed: a\r\nX-Lower-Listed: b\r\nX-Second-Listed: c\r\nKeep-Alive: timeout=5\r\n" +
		"Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\nTe: trailers, deflate\r\n" +
		"Trailer: X-T\r\nX-End: kept\r\nX-Forwarded_For: 6.6.6.6\r\nClient_IP: 6.6.6.6\r\nUser-Agent: agent/1\r\n\r\n"
	resp, body := rawExchange(t, hostOf(rig.srv.URL), req)
	if resp == nil || resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("response %v %q", resp, body)
	}
	tests := []struct {
		name, header, want string // want "" = absent
	}{
		{"listed in Connection", "X-Hop-Listed", ""},
		{"listed in lower case", "X-Lower-Listed", ""},
		{"listed in a second Connection", "X-Second-Listed", ""},
		{"Connection", "Connection", ""},
		{"Keep-Alive", "Keep-Alive", ""},
		{"Proxy-Connection", "Proxy-Connection", ""},
		{"Proxy-Authorization", "Proxy-Authorization", ""},
		{"Trailer", "Trailer", ""},
		{"Te keeps trailers only", "Te", "trailers"},
		{"end-to-end header", "X-End", "kept"},
		{"underscore spoof", "X-Forwarded_for", ""},
		{"underscore client ip", "Client_ip", ""},
		{"forwarding set by the gateway", "X-Forwarded-For", "127.0.0.1"},
		{"real ip", "X-Real-Ip", "127.0.0.1"},
		{"proto", "X-Forwarded-Proto", "http"},
		{"forwarded host", "X-Forwarded-Host", "chat.example"},
	}
	for _, tt := range tests {
		t.Run("request/"+tt.name, func(t *testing.T) {
			if got := strings.Join(seen.Values(tt.header), ","); got != tt.want {
				t.Fatalf("upstream saw %s = %q, want %q (all: %v)", tt.header, got, tt.want, seen)
			}
		})
	}
	if len(seenUA) != 1 || seenUA[0] != "agent/1" {
		t.Fatalf("User-Agent %q", seenUA)
	}
	for _, tt := range []struct{ header, want string }{
		{"X-Resp-Hop", ""}, {"Keep-Alive", ""}, {"Proxy-Authenticate", ""}, {"X-Resp-End", "1"},
	} {
		if got := resp.Header.Get(tt.header); got != tt.want {
			t.Errorf("client saw %s = %q, want %q", tt.header, got, tt.want)
		}
	}
}

// The request URI: the upstream URL's path prefix joined as httputil's
// SetURL joins it, the query kept (and cleaned when unparsable).
func TestUpstreamRequestURI(t *testing.T) {
	tests := []struct{ prefix, in, want string }{
		{"", "/api/v1/x?a=1&b=2", "/api/v1/x?a=1&b=2"},
		{"/", "/x", "/x"},
		{"/base", "/x?q", "/base/x?q"},
		{"/base/", "/x", "/base/x"},
		{"", "/a%2Fb/c", "/a%2Fb/c"},
		{"", "/x?", "/x?"},
		{"", "/x?a=1;b=2", "/x"}, // as ReverseProxy: a ";" pair Go cannot parse is dropped
		{"", "/x?a=1&b=%zz&c=3", "/x?a=1&c=3"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got string
			up, _ := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.RequestURI }))
			rig := newUpstreamRig(t, up.URL+tt.prefix, nil)
			resp, _ := rawExchange(t, hostOf(rig.srv.URL), "GET "+tt.in+" HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp == nil || resp.StatusCode != 200 || got != tt.want {
				t.Fatalf("upstream got %q, want %q (%v)", got, tt.want, resp)
			}
		})
	}
}

// Request framing: no body and no Content-Length on GET/HEAD, a 0 on
// other methods, the length when known, chunked (with trailers) when not.
func TestUpstreamRequestBodies(t *testing.T) {
	type seenReq struct {
		cl      int64
		te      []string
		hasCL   bool
		body    string
		trailer string
	}
	seen := make(chan seenReq, 1)
	up, _ := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, hasCL := r.Header["Content-Length"]
		seen <- seenReq{r.ContentLength, r.TransferEncoding, hasCL, string(b), r.Trailer.Get("X-Sum")}
	}))
	rig := newUpstreamRig(t, up.URL, nil)
	tests := []struct {
		name, raw string
		want      seenReq
	}{
		{"GET without body", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", seenReq{}},
		{"DELETE without body", "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", seenReq{hasCL: true}},
		{"POST with length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", seenReq{cl: 5, hasCL: true, body: "hello"}},
		{"POST empty", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", seenReq{hasCL: true}},
		{"chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
			seenReq{cl: -1, te: []string{"chunked"}, body: "hello world"}},
		{"chunked with trailer", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 42\r\n\r\n",
			seenReq{cl: -1, te: []string{"chunked"}, body: "abc", trailer: "42"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := rawExchange(t, hostOf(rig.srv.URL), tt.raw)
			if resp == nil || resp.StatusCode != 200 {
				t.Fatalf("response %v", resp)
			}
			got := <-seen
			if got.cl != tt.want.cl || got.hasCL != tt.want.hasCL || strings.Join(got.te, ",") != strings.Join(tt.want.te, ",") ||
				got.body != tt.want.body || got.trailer != tt.want.trailer {
				t.Fatalf("upstream saw %+v, want %+v", got, tt.want)
			}
		})
	}
}

// An upstream that answers (413) before reading an upload, and then
// neither reads nor closes, still gets its answer to the client: the body
// is copied on its own goroutine, not in the way of the response.
func TestUpstreamEarlyAnswerDuringUpload(t *testing.T) {
	release := make(chan struct{})
	upURL := rawUpstream(t, func(_ int, c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n\r\ntoo large")
		<-release // and read no more
	})
	t.Cleanup(func() { close(release) }) // before rawUpstream's cleanup waits
	rig := newUpstreamRig(t, upURL, nil)
	c, err := net.Dial("tcp", hostOf(rig.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const size = 64 << 20 // far more than the socket buffers on the way
	io.WriteString(c, fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size))
	stop := make(chan struct{})
	go func() { // keep uploading until the answer is in
		chunk := make([]byte, 32<<10)
		for {
			select {
			case <-stop:
				return
			default:
			}
			c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			if _, err := c.Write(chunk); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					continue
				}
				return
			}
		}
	}()
	defer close(stop)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no early answer: %v", err)
	}
	if resp.StatusCode != 413 {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
}

// Connections are kept and reused, whatever the response framing; a
// "Connection: close" answer is not reused.
func TestUpstreamConnectionReuse(t *testing.T) {
	up, conns := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			io.WriteString(w, "a")
			w.(http.Flusher).Flush()
			io.WriteString(w, "b")
		case "/204":
			w.WriteHeader(204)
		case "/304":
			w.WriteHeader(304)
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		default:
			w.Header().Set("Content-Length", "2")
			io.WriteString(w, "ok")
		}
	}))
	rig := newUpstreamRig(t, up.URL, nil)
	c := &http.Client{Timeout: 5 * time.Second}
	tests := []struct {
		method, path string
		status       int
		body         string
		newConns     int64
	}{
		{"GET", "/", 200, "ok", 1},
		{"GET", "/", 200, "ok", 0},
		{"HEAD", "/", 200, "", 0},
		{"GET", "/chunked", 200, "ab", 0},
		{"GET", "/204", 204, "", 0},
		{"GET", "/304", 304, "", 0},
		{"POST", "/", 200, "ok", 0},
		{"GET", "/close", 200, "bye", 0},
		{"GET", "/", 200, "ok", 1}, // after the close
		{"GET", "/", 200, "ok", 0},
	}
	for i, tt := range tests {
		before := conns.Load()
		var body io.Reader
		if tt.method == "POST" {
			body = strings.NewReader("posted")
		}
		req, _ := http.NewRequest(tt.method, rig.srv.URL+tt.path, body)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%d %s %s: %v", i, tt.method, tt.path, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tt.status || string(b) != tt.body {
			t.Fatalf("%d %s %s: %d %q %v", i, tt.method, tt.path, resp.StatusCode, b, err)
		}
		// The connection is back in the pool once the handler returns,
		// just after the client has the last byte.
		time.Sleep(20 * time.Millisecond)
		if got := conns.Load() - before; got != tt.newConns {
			t.Fatalf("%d %s %s: %d new upstream connections, want %d", i, tt.method, tt.path, got, tt.newConns)
		}
	}
}

// A pooled connection that Chatwoot drops when it gets the next request
// (a keep-alive race): replayable requests are sent once more on a fresh
// connection, others are answered 502 and never sent twice.
func TestUpstreamStaleConnectionRetry(t *testing.T) {
	tests := []struct {
		name, method, body, idempotencyKey string
		want                               int
		sends                              int64 // times the upstream got the request
	}{
		{"GET", "GET", "", "", 200, 2},
		{"HEAD", "HEAD", "", "", 200, 2},
		{"OPTIONS", "OPTIONS", "", "", 200, 2},
		{"POST without body, Idempotency-Key", "POST", "", "k1", 200, 2},
		{"POST with body", "POST", "data", "", 502, 1},
		{"POST with body, Idempotency-Key", "POST", "data", "k2", 502, 1},
		{"POST without body", "POST", "", "", 502, 1},
		{"DELETE", "DELETE", "", "", 502, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sends atomic.Int64
			upURL := rawUpstream(t, func(_ int, c net.Conn) {
				br := bufio.NewReader(c)
				for n := 0; ; n++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					if req.URL.Path == "/case" {
						sends.Add(1)
					}
					if n == 1 {
						return // the second request on a connection: dropped unanswered
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			})
			rig := newUpstreamRig(t, upURL, nil)
			c := client()
			if status, _ := getBody(t, c, rig.srv.URL+"/first"); status != 200 {
				t.Fatalf("first request: %d", status)
			}
			time.Sleep(20 * time.Millisecond) // its connection back in the pool
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest(tt.method, rig.srv.URL+"/case", body)
			if tt.idempotencyKey != "" {
				req.Header.Set("Idempotency-Key", tt.idempotencyKey)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want || sends.Load() != tt.sends {
				t.Fatalf("status %d, upstream got it %d times; want %d, %d", resp.StatusCode, sends.Load(), tt.want, tt.sends)
			}
		})
	}
}

// An https upstream: TLS with the configured roots, HTTP/1.1 only.
func TestUpstreamHTTPS(t *testing.T) {
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%v %s %s %s", r.TLS != nil, r.Proto, r.TLS.NegotiatedProtocol, b)
	}))
	up.EnableHTTP2 = true // the gateway must still pick http/1.1
	up.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	up.StartTLS()
	t.Cleanup(up.Close)
	roots := x509.NewCertPool()
	roots.AddCert(up.Certificate())
	rig := newUpstreamRig(t, up.URL, func(o *gateway.Options) { o.UpstreamTLS = &tls.Config{RootCAs: roots} })
	c := client()
	for i := range 2 {
		resp, err := c.Post(rig.srv.URL+"/", "text/plain", strings.NewReader(fmt.Sprint("body", i)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("true HTTP/1.1 http/1.1 body%d", i); resp.StatusCode != 200 || string(b) != want {
			t.Fatalf("%d %q, want %q", resp.StatusCode, b, want)
		}
	}
	// Untrusted certificate: 502, not a plain-text fallback.
	bad := newUpstreamRig(t, up.URL, nil)
	if status, _ := getBody(t, c, bad.srv.URL+"/"); status != 502 {
		t.Fatalf("unverified upstream: %d, want 502", status)
	}
}

// Streams (unknown length, text/event-stream) reach the client while
// the upstream still holds the rest.
func TestUpstreamStreamsFlush(t *testing.T) {
	for _, ct := range []string{"text/event-stream", "text/event-stream; charset=utf-8", "application/octet-stream"} {
		t.Run(ct, func(t *testing.T) {
			release := make(chan struct{})
			up, _ := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ct)
				io.WriteString(w, "first\n")
				w.(http.Flusher).Flush()
				<-release
				io.WriteString(w, "second\n")
			}))
			rig := newUpstreamRig(t, up.URL, nil)
			resp, err := client().Get(rig.srv.URL + "/stream")
			if err != nil {
				close(release)
				t.Fatal(err)
			}
			defer resp.Body.Close()
			line, err := bufio.NewReader(resp.Body).ReadString('\n')
			close(release)
			if err != nil || line != "first\n" {
				t.Fatalf("first line %q %v", line, err)
			}
		})
	}
}

// A WebSocket tunnel carries the bytes either side sent together with
// its head (buffered in a bufio.Reader when the tunnel starts).
func TestUpstreamUpgradeCarriesBufferedBytes(t *testing.T) {
	upURL := rawUpstream(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil || req.Header.Get("Upgrade") != "websocket" {
			return
		}
		// The 101 and a first frame in one write.
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nwelcome\n")
		line, _ := br.ReadString('\n')
		io.WriteString(c, "echo "+line)
	})
	rig := newUpstreamRig(t, upURL, func(o *gateway.Options) { o.WebsocketPaths = []string{"/cable"} })
	c, err := net.Dial("tcp", hostOf(rig.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	// The upgrade and a first frame in one write.
	io.WriteString(c, "GET /cable HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nhello\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	for _, want := range []string{"welcome\n", "echo hello\n"} {
		if line, err := br.ReadString('\n'); line != want {
			t.Fatalf("got %q %v, want %q", line, err, want)
		}
	}
}
