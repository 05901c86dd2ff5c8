package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// The gateway sends a request body at once (the server in front already
// answered the client's Expect: 100-continue when the body was read), so
// it must not forward the expectation: an upstream that then refuses it
// early (417) without reading the body would take the body for the next
// request on the connection, one the rules never saw.
func TestUpstreamExpectContinueNotForwarded(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	var expects []string
	upURL := rawUpstream(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			mu.Lock()
			paths = append(paths, req.URL.Path)
			expects = append(expects, req.Header.Get("Expect"))
			mu.Unlock()
			if req.Header.Get("Expect") != "" {
				// Refused before the body: the next bytes are, to this
				// server, the next request.
				io.WriteString(c, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
				continue
			}
			io.Copy(io.Discard, req.Body)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	rig := newUpstreamRig(t, upURL, nil)
	smuggled := "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	c, err := net.Dial("tcp", hostOf(rig.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n%s", len(smuggled), smuggled)
	br := bufio.NewReader(c)
	var statuses []int
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answers %v, then %v", statuses, err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode >= 200 {
			break
		}
	}
	// One 100 Continue (the server's own, none forwarded), then Chatwoot's answer.
	if len(statuses) != 2 || statuses[0] != 100 || statuses[1] != 200 {
		t.Fatalf("client got %v, want [100 200]", statuses)
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(paths) != 1 || paths[0] != "/upload" || expects[0] != "" {
		t.Fatalf("upstream got requests %q with Expect %q; want only /upload, without Expect", paths, expects)
	}
}
