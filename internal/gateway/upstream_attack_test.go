package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// A hostile or broken Chatwoot writes an extra, forged response on a
// connection after the real one has been read (a late segment: too long
// a body, a body on a HEAD answer, a stray write). The pool must never
// give that connection to the next client, who would read the forged
// answer as its own (a cross-user response mixup).
func TestUpstreamUnsolicitedBytesNotServedToNextClient(t *testing.T) {
	const forged = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret"
	tests := []struct {
		name, method string
		answer       string // to the attacker's request; forged follows
		sameWrite    bool   // forged in the answer's own write (buffered with it)
	}{
		{"after a complete answer", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
		{"body on a HEAD answer", "HEAD", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(forged)), false},
		{"after a chunked answer", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false},
		{"after a 204", "GET", "HTTP/1.1 204 No Content\r\n\r\n", false},
		{"in the same write", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true},
		{"in the same write as a HEAD answer", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upURL := rawUpstream(t, func(_ int, c net.Conn) {
				serveForging(c, func() {
					if tt.sameWrite {
						io.WriteString(c, tt.answer+forged)
						return
					}
					io.WriteString(c, tt.answer)
					time.Sleep(30 * time.Millisecond) // a segment of its own, after the gateway has read the answer
					io.WriteString(c, forged)
				})
			})
			rig := newUpstreamRig(t, upURL, nil)
			c := client()
			req, _ := http.NewRequest(tt.method, rig.srv.URL+"/attacker", nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			time.Sleep(100 * time.Millisecond) // the forged bytes have arrived on the pooled connection
			victim := client()                 // another user, on another client connection
			for i := 0; i < 2; i++ {
				status, body := getBody(t, victim, rig.srv.URL+"/victim")
				if status != 200 || body != "victim-data" {
					t.Fatalf("victim request %d got %d %q, want 200 \"victim-data\"", i, status, body)
				}
			}
		})
	}
}

// serveForging reads requests from c: /attacker is answered by attack,
// every other path with "victim-data".
func serveForging(c io.ReadWriter, attack func()) {
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		if req.URL.Path != "/attacker" {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nvictim-data")
			continue
		}
		attack()
	}
}
