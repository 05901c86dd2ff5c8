package gateway_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
)

// observedDone hears when a request's handler has returned.
type observedDone chan string

func (o observedDone) Observe(rec *gateway.Record) { o <- rec.Decision }

// Gateway.Close while a request is in flight: the request finishes, and
// its connection is closed rather than kept in the closed pool.
func TestUpstreamCloseDuringRequest(t *testing.T) {
	release := make(chan struct{})
	closed := make(chan struct{})
	upURL := rawUpstream(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nha")
		<-release
		io.WriteString(c, "lf")
		if _, err := br.ReadByte(); err == io.EOF {
			close(closed) // the gateway closed it
		}
	})
	rig := newUpstreamRig(t, upURL, nil)
	done := make(chan string, 1)
	go func() {
		_, body := getBody(t, client(), rig.srv.URL+"/")
		done <- body
	}()
	time.Sleep(50 * time.Millisecond) // the head is through
	rig.gw.Close()
	close(release)
	if body := <-done; body != "half" {
		t.Fatalf("body %q", body)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection stayed open after Close: kept in a closed pool")
	}
}

// One side of a WebSocket tunnel ends it while the other stays open and
// silent (a client gone without a close, or one that ignores Chatwoot's):
// the tunnel ends after a grace period for the other side's close, and
// with it the handler and both connections.
func TestUpstreamTunnelEndsWhenOneSideEnds(t *testing.T) {
	for _, clientEnds := range []bool{true, false} {
		name := map[bool]string{true: "client closes, Chatwoot silent", false: "Chatwoot closes, client silent"}[clientEnds]
		t.Run(name, func(t *testing.T) {
			hold := make(chan struct{})
			upURL := rawUpstream(t, func(_ int, c net.Conn) {
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
				if !clientEnds {
					return // closed
				}
				io.Copy(io.Discard, br)
				<-hold // the client's end read, this side never closes
			})
			done := make(observedDone, 1)
			rig := newUpstreamRig(t, upURL, func(o *gateway.Options) { o.WebsocketPaths = []string{"/cable"}; o.Observer = done })
			t.Cleanup(func() { close(hold) }) // before the servers' own cleanups
			c, err := net.Dial("tcp", hostOf(rig.srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, "GET /cable HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 101 {
				t.Fatalf("upgrade: %v %v", resp, err)
			}
			if clientEnds {
				c.Close()
			}
			select {
			case <-done:
			case <-time.After(15 * time.Second): // well past tunnelCloseGrace
				t.Fatal("the tunnel outlived the side that ended it")
			}
		})
	}
}
