package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
)

// pumaLikeUpstream frames requests as Puma does: header names upcased
// with "-" turned into "_" (so Transfer_Encoding is Transfer-Encoding),
// chunked when the transfer encoding says so, else by the length. It
// records each request line and answers with a length.
func pumaLikeUpstream(t *testing.T) (string, func() []string) {
	var mu sync.Mutex
	var lines []string
	u := rawUpstream(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			env := map[string]string{}
			for {
				h, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if h == "\r\n" {
					break
				}
				k, v, _ := strings.Cut(strings.TrimRight(h, "\r\n"), ":")
				k = strings.ToUpper(strings.ReplaceAll(k, "-", "_"))
				if prev, ok := env[k]; ok {
					v = prev + "," + v
				}
				env[k] = strings.TrimSpace(v)
			}
			mu.Lock()
			lines = append(lines, strings.TrimRight(line, "\r\n"))
			mu.Unlock()
			switch {
			case strings.Contains(strings.ToLower(env["TRANSFER_ENCODING"]), "chunked"):
				if _, err := io.Copy(io.Discard, httputil.NewChunkedReader(br)); err != nil {
					return
				}
				br.ReadString('\n') // the empty trailer
			case env["CONTENT_LENGTH"] != "":
				n, err := strconv.Atoi(env["CONTENT_LENGTH"])
				if err != nil {
					return
				}
				io.CopyN(io.Discard, br, int64(n))
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	return u, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(lines)
	}
}

// Puma reads Transfer_Encoding and Content_Length as the framing headers
// they spell (as it reads X_Forwarded_For as X-Forwarded-For), while Go's
// server and the gateway take them for ordinary headers. Sent on, they
// would make Chatwoot frame the request otherwise than the gateway did:
// a body that ends a chunked request early and holds a second request,
// which Chatwoot runs and the rules never see.
func TestUpstreamUnderscoreFramingHeadersDropped(t *testing.T) {
	smuggled := "0\r\n\r\nPOST /smuggled HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
	tests := []struct{ name, raw string }{
		{"Transfer_Encoding on a body with a length", fmt.Sprintf("POST /a HTTP/1.1\r\nHost: x\r\nTransfer_Encoding: chunked\r\n"+
			"Content-Length: %d\r\n\r\n%s", len(smuggled), smuggled)},
		{"transfer_encoding, lower case", fmt.Sprintf("POST /a HTTP/1.1\r\nHost: x\r\ntransfer_encoding: chunked\r\n"+
			"Content-Length: %d\r\n\r\n%s", len(smuggled), smuggled)},
		{"Content_Length on a chunked body", fmt.Sprintf("POST /a HTTP/1.1\r\nHost: x\r\nContent_Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n"+
			"%x\r\n%s\r\n0\r\n\r\n", len(smuggled[5:]), smuggled[5:])},
		{"Content_Length on a GET", "GET /a HTTP/1.1\r\nHost: x\r\nContent_Length: 5\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upURL, got := pumaLikeUpstream(t)
			rig := newUpstreamRig(t, upURL, func(o *gateway.Options) { o.UpstreamTimeout = 300 * time.Millisecond })
			c, err := net.Dial("tcp", hostOf(rig.srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, tt.raw+"GET /end HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			io.Copy(io.Discard, c) // every answer, until the close
			for _, line := range got() {
				if strings.Contains(line, "smuggled") {
					t.Fatalf("upstream read %q: it framed a request otherwise than the gateway", got())
				}
			}
			if want := strings.Count(tt.raw, "HTTP/1.1\r\nHost") - strings.Count(tt.raw, "smuggled") + 1; len(got()) != want {
				t.Fatalf("upstream read %q, want %d requests", got(), want)
			}
		})
	}
}

// Which underscore spellings go on: Chatwoot's own api_access_token and
// other plain names do; framing, content, hop-by-hop and forwarding
// names, and any name the request also has in its dash spelling, do not.
func TestUpstreamUnderscoreHeaders(t *testing.T) {
	var got http.Header
	up, _ := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	rig := newUpstreamRig(t, up.URL, nil)
	resp, _ := rawExchange(t, hostOf(rig.srv.URL), "GET /a HTTP/1.1\r\nHost: x\r\napi_access_token: tok\r\nX_Custom: under\r\nX-Custom: dash\r\n"+
		"Content_Type: application/json\r\nConnection_: x\r\nKeep_Alive: 1\r\nUpgrade_: x\r\nX_Real_IP: 6.6.6.6\r\nMy_Header: m\r\n\r\n")
	if resp == nil || resp.StatusCode != 200 {
		t.Fatalf("answer %v", resp)
	}
	want := map[string][]string{"Api_access_token": {"tok"}, "My_header": {"m"}, "X-Custom": {"dash"}, "Connection_": {"x"}, "Upgrade_": {"x"}}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"X_custom", "Content_type", "Keep_alive", "X_real_ip"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s reached the upstream: %q", k, v)
		}
	}
}
