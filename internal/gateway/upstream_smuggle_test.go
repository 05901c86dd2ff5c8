package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// A raw "#" in the request target: Go's server keeps it in the path or
// query the rules read, Puma takes it for the start of a fragment and
// drops the rest. "?email=victim@x#1", "#2", ... would each be a new
// key to a per-email rule, while Rails sees one address every time.
// Chatwoot must get the "#" escaped, the value the rules saw.
func TestUpstreamRequestURIFragmentEscaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/api/v1/auth/sign_in?email=victim%40x.com#1", "/api/v1/auth/sign_in?email=victim%40x.com%231"},
		{"/x?a=1#b=2&c=3", "/x?a=1%23b=2&c=3"},
		{"/x?#", "/x?%23"},
		{"/a#b?c", "/a%23b?c"}, // in the path: escaped there already
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got string
			up, _ := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.RequestURI }))
			rig := newUpstreamRig(t, up.URL, nil)
			resp, _ := rawExchange(t, hostOf(rig.srv.URL), "GET "+tt.in+" HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp == nil || resp.StatusCode != 200 || got != tt.want {
				t.Fatalf("upstream got %q, want %q (%v)", got, tt.want, resp)
			}
		})
	}
}

// framedRequest is one request as a raw upstream read it off the wire.
type framedRequest struct {
	head string // request line and header lines, as sent
	line string // "METHOD target"
	body string
}

// framingUpstream reads requests itself, line by line, and the body by
// exactly the framing the head announces (Content-Length, or chunked and
// its trailers), so that any extra or missing byte shows up as a request
// of its own or a broken one. Each is answered with its line and body
// in X-Seen.
func framingUpstream(t *testing.T) (string, func() []framedRequest) {
	var mu sync.Mutex
	var got []framedRequest
	u := rawUpstream(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		for {
			var head strings.Builder
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if line == "\r\n" {
					break
				}
				head.WriteString(line)
			}
			req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(head.String() + "\r\n")))
			if err != nil {
				mu.Lock()
				got = append(got, framedRequest{head: head.String(), line: "UNPARSABLE"})
				mu.Unlock()
				return
			}
			var body []byte
			switch {
			case len(req.TransferEncoding) > 0:
				body, err = io.ReadAll(httputil.NewChunkedReader(br))
				for err == nil { // trailers
					var line string
					if line, err = br.ReadString('\n'); line == "\r\n" {
						break
					}
				}
			case req.ContentLength > 0:
				body = make([]byte, req.ContentLength)
				_, err = io.ReadFull(br, body)
			}
			if err != nil {
				return
			}
			fr := framedRequest{head: head.String(), line: req.Method + " " + req.RequestURI, body: string(body)}
			mu.Lock()
			got = append(got, fr)
			mu.Unlock()
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nX-Seen: %s\r\nContent-Length: 0\r\n\r\n", url.QueryEscape(fr.line+" "+fr.body))
		}
	})
	return u, func() []framedRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]framedRequest(nil), got...)
	}
}

// Whatever framing a client sends through the server in front, each
// request reaches Chatwoot as exactly one request, framed one way, with
// the body the client meant and the gateway's own forwarding headers:
// nothing of one request's body ever becomes a request of its own.
func TestUpstreamRequestFramingAttacks(t *testing.T) {
	smuggle := "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	tests := []struct {
		name, raw string
		want      []string // "METHOD target body" as the upstream read them
	}{
		{"Content-Length and chunked", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
			[]string{"POST /a hello"}},
		{"chunk extensions and trailers", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n5;ext=\"1\"\r\nhello\r\n1;x\r\n!\r\n0\r\nX-T: v\r\n\r\n",
			[]string{"POST /a hello!"}},
		{"body on GET", "GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
			[]string{"GET /a hello", "GET /b "}},
		{"body on HEAD", "HEAD /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
			[]string{"HEAD /a hello", "GET /b "}},
		{"chunked GET, empty", "GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
			[]string{"GET /a ", "GET /b "}},
		{"HTTP/1.0 keep-alive, pipelined", "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nPOST /b HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi",
			[]string{"GET /a ", "POST /b hi"}},
		{"a request in a body", fmt.Sprintf("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(smuggle), smuggle),
			[]string{"POST /a " + smuggle}},
		{"a request in a chunked body", fmt.Sprintf("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(smuggle), smuggle),
			[]string{"POST /a " + smuggle}},
		{"Connection names the framing and forwarding headers", "POST /a HTTP/1.1\r\nHost: x\r\nConnection: X-Forwarded-For, Host, Content-Length, Transfer-Encoding, X-Real-IP\r\n" +
			"X-Forwarded-For: 6.6.6.6\r\nContent-Length: 5\r\n\r\nhello", []string{"POST /a hello"}},
		{"pipelined, no bodies", "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nDELETE /c HTTP/1.1\r\nHost: x\r\n\r\n",
			[]string{"GET /a ", "GET /b ", "DELETE /c "}},
		{"bare LF line ends", "GET /a HTTP/1.1\nHost: x\n\nGET /b HTTP/1.1\nHost: x\n\n", []string{"GET /a ", "GET /b "}},
		{"Expect on a GET without a body", "GET /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
			[]string{"GET /a ", "GET /b "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upURL, got := framingUpstream(t)
			rig := newUpstreamRig(t, upURL, nil)
			c, err := net.Dial("tcp", hostOf(rig.srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, tt.raw)
			br := bufio.NewReader(c)
			var answers []string
			for len(answers) < len(tt.want) {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					break
				}
				resp.Body.Close()
				if resp.StatusCode != 100 {
					seen, _ := url.QueryUnescape(resp.Header.Get("X-Seen"))
					answers = append(answers, seen)
				}
			}
			time.Sleep(20 * time.Millisecond) // anything smuggled has reached the upstream
			reqs := got()
			var lines []string
			for _, r := range reqs {
				lines = append(lines, r.line+" "+r.body)
			}
			if !slices.Equal(lines, tt.want) || !slices.Equal(answers, tt.want) {
				t.Fatalf("upstream read %q, client got %q; want %q", lines, answers, tt.want)
			}
			for _, r := range reqs {
				checkFramedHead(t, r.head)
			}
		})
	}
}

// checkFramedHead: one framing header at most, no Expect, hop-by-hop
// headers gone, the gateway's X-Forwarded-For alone.
func checkFramedHead(t *testing.T, head string) {
	t.Helper()
	count := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(head, "\r\n"), "\r\n")[1:] {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(line, "\r\n") {
			t.Fatalf("malformed header line %q in %q", line, head)
		}
		k = http.CanonicalHeaderKey(k)
		count[k]++
		if k == "X-Forwarded-For" && strings.TrimSpace(v) != "127.0.0.1" {
			t.Fatalf("X-Forwarded-For %q in %q", v, head)
		}
	}
	if count["Content-Length"]+count["Transfer-Encoding"] > 1 || count["Host"] != 1 || count["X-Forwarded-For"] != 1 ||
		count["Expect"]+count["Connection"]+count["Keep-Alive"]+count["X-Real-Ip"]-1 != 0 {
		t.Fatalf("head %q: header counts %v", head, count)
	}
}

// Sign-in bodies, which the Chatwoot preset's rules read (buffered, then
// sent on from memory): the replay is framed as the client's was, with
// the very bytes the rules read, and a request after it on the same
// client connection stays a request of its own.
func TestUpstreamBufferedBodyReplayFraming(t *testing.T) {
	login := `{"email":"a@example.com","password":"x"}`
	tests := []struct {
		name, raw string
		want      []string
	}{
		{"Content-Length", fmt.Sprintf("POST /auth/sign_in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"+
			"GET /b HTTP/1.1\r\nHost: x\r\n\r\n", len(login), login), []string{"POST /auth/sign_in " + login, "GET /b "}},
		{"chunked, with a trailer", fmt.Sprintf("POST /auth/sign_in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"+
			"Trailer: X-T\r\n\r\n%x\r\n%s\r\n0\r\nX-T: v\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", len(login), login),
			[]string{"POST /auth/sign_in " + login, "GET /b "}},
		{"Expect: 100-continue", fmt.Sprintf("POST /auth/sign_in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"+
			"Content-Length: %d\r\n\r\n%s", len(login), login), []string{"POST /auth/sign_in " + login}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upURL, got := framingUpstream(t)
			path := filepath.Join(t.TempDir(), "wootguard.yaml")
			os.WriteFile(path, []byte("upstream: "+upURL+"\npreset: chatwoot\n"), 0o644)
			cfg, err := config.Load(path, func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			st := memory.New(memory.Options{SweepEvery: -1})
			t.Cleanup(func() { st.Close() })
			opts, err := gateway.FromConfig(cfg, st, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if !opts.Engine.NeedsBodyFor("POST", "/auth/sign_in", "", "application/json") {
				t.Fatal("the preset does not read sign-in bodies: this test tests nothing")
			}
			gw := gateway.New(opts)
			srv := httptest.NewServer(gw)
			t.Cleanup(func() { srv.Close(); gw.Close() })
			c, err := net.Dial("tcp", hostOf(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, tt.raw)
			br := bufio.NewReader(c)
			for n := 0; n < len(tt.want); {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					break
				}
				resp.Body.Close()
				if resp.StatusCode != 100 {
					n++
				}
			}
			time.Sleep(20 * time.Millisecond)
			var lines []string
			for _, r := range got() {
				lines = append(lines, r.line+" "+r.body)
				checkFramedHead(t, r.head)
			}
			if !slices.Equal(lines, tt.want) {
				t.Fatalf("upstream read %q; want %q", lines, tt.want)
			}
		})
	}
}
