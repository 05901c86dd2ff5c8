package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
)

// A WebSocket handshake that carries a body: the body sender would still
// be reading the client's connection (and writing Chatwoot's) when a 101
// hands both connections to the tunnel. The upgrade is not forwarded;
// the request goes on as plain HTTP, and a 101 to it is refused.
func TestUpstreamUpgradeWithBodyIsNotTunnelled(t *testing.T) {
	upURL := rawUpstream(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if up := req.Header.Get("Upgrade"); up != "" {
			// Switch at once, before the body is in (a careless backend).
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "+up+"\r\nConnection: Upgrade\r\n\r\n")
			io.Copy(c, br)
			return
		}
		b, _ := io.ReadAll(req.Body)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(b), b)
	})
	rig := newUpstreamRig(t, upURL, func(o *gateway.Options) { o.WebsocketPaths = []string{"/cable"} })
	c, err := net.Dial("tcp", hostOf(rig.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /cable HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 10\r\n\r\nabc")
	time.Sleep(50 * time.Millisecond) // the 101 comes while the body is still on its way
	io.WriteString(c, "defghij")
	io.WriteString(c, "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "abcdefghij" {
		t.Fatalf("got %d %q; want 200 and the body echoed, not tunnelled", resp.StatusCode, b)
	}
}
