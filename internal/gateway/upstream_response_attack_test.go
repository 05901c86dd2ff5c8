package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
)

// Broken answers from Chatwoot: the client never takes one for a whole,
// well-framed answer, and the connection it came on is never used for
// another client's request.
func TestUpstreamBrokenResponseFraming(t *testing.T) {
	tests := []struct {
		name, answer string
		complete     string // the body a client may see as complete ("" = none)
	}{
		{"garbage chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nzz\r\nHTTP/1.1 200 OK\r\n\r\n", ""},
		{"chunk longer than its size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokay\r\n0\r\n\r\n", ""},
		{"no last chunk, then close", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n", ""},
		{"shorter than its Content-Length, then close", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok", ""},
		{"two different Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\nok", ""},
		{"Content-Length and chunked", "HTTP/1.1 200 OK\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "ok"},
		{"unknown transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", ""},
		{"bad status line", "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok", ""},
		{"NUL in a header", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok", ""},
		{"bare CR in a header", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok", ""},
		{"header without colon", "HTTP/1.1 200 OK\r\nX-A\r\nContent-Length: 2\r\n\r\nok", ""},
		{"101 unasked", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", ""},
		{"1xx then garbage", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nnot http\r\n\r\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upURL := rawUpstream(t, func(_ int, c net.Conn) {
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					if req.URL.Path == "/broken" {
						io.WriteString(c, tt.answer)
						if strings.HasSuffix(tt.name, "then close") {
							return
						}
						time.Sleep(30 * time.Millisecond)
						io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged")
						continue
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nvictim-data")
				}
			})
			rig := newUpstreamRig(t, upURL, nil)
			resp, err := client().Get(rig.srv.URL + "/broken")
			if err == nil {
				b, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rerr == nil && resp.StatusCode == 200 && string(b) != tt.complete {
					t.Fatalf("client took %q for a complete answer", b)
				}
			}
			time.Sleep(100 * time.Millisecond) // anything after the answer has arrived
			for i := 0; i < 2; i++ {
				if status, body := getBody(t, client(), rig.srv.URL+"/victim"); status != 200 || body != "victim-data" {
					t.Fatalf("victim request %d got %d %q", i, status, body)
				}
			}
		})
	}
}

// Many clients at once over the pool, with every framing Chatwoot uses
// and some connections closed after their answer: each client gets the
// answer to its own request, never another's.
func TestUpstreamPoolConcurrentAnswersStayWithTheirRequests(t *testing.T) {
	upURL := rawUpstream(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			b, _ := io.ReadAll(req.Body)
			id := req.URL.Query().Get("id") + "/" + string(b)
			switch rand.IntN(4) {
			case 0:
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(id), id)
			case 1:
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(id), id)
			case 2:
				fmt.Fprintf(c, "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(id), id)
			default:
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n%s", id)
				return
			}
		}
	})
	rig := newUpstreamRig(t, upURL, func(o *gateway.Options) { o.UpstreamIdleConns = 4 })
	c := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				id := fmt.Sprintf("%d-%d", g, i)
				var body io.Reader
				method := "GET"
				want := id + "/"
				if i%3 == 0 {
					method, body, want = "POST", strings.NewReader("b"+id), id+"/b"+id
				}
				req, _ := http.NewRequest(method, rig.srv.URL+"/?id="+id, body)
				resp, err := c.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || string(b) != want {
					errs <- fmt.Sprintf("%s %s: %d %q %v, want %q", method, id, resp.StatusCode, b, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// Status codes http.ReadResponse accepts but HTTP has not ("099", "+50",
// "000") are a broken answer: 502, not a handler panic and a dropped
// client connection.
func TestUpstreamOddStatusCodeIsBadGateway(t *testing.T) {
	for _, code := range []string{"099", "+50", "000", "-10"} {
		t.Run(code, func(t *testing.T) {
			upURL := rawUpstream(t, func(_ int, c net.Conn) {
				br := bufio.NewReader(c)
				for {
					if _, err := http.ReadRequest(br); err != nil {
						return
					}
					io.WriteString(c, "HTTP/1.1 "+code+" X\r\nContent-Length: 2\r\n\r\nok")
				}
			})
			rig := newUpstreamRig(t, upURL, nil)
			resp, err := client().Get(rig.srv.URL + "/x")
			if err != nil {
				t.Fatalf("client: %v (want a 502 answer)", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("status %d, want 502", resp.StatusCode)
			}
		})
	}
}
