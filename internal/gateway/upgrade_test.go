package gateway_test

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// upgrader is a Chatwoot that switches protocols whenever asked (as a
// careless backend would, h2c included) and then echoes one line.
func upgrader() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := r.Header.Get("Upgrade")
		if up == "" {
			w.Header().Set("X-Seen-Upgrade", "none")
			io.WriteString(w, "plain\n")
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: " + up + "\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo " + line)
		brw.Flush()
	})
}

func TestUpgradesOnlyWebsocketOnItsPaths(t *testing.T) {
	tests := []struct {
		name, yaml, path, upgrade string
		want                      int // 101 tunnelled, 200 forwarded as plain HTTP
	}{
		{"websocket on /cable", "", "/cable", "websocket", 101},
		{"websocket, any case", "", "/cable", "WebSocket", 101},
		{"websocket elsewhere", "", "/api/v1/profile", "websocket", 200},
		{"websocket on /cable/x", "", "/cable/x", "websocket", 200},
		{"h2c on /cable", "", "/cable", "h2c", 200},
		{"h2c elsewhere", "", "/", "h2c", 200},
		{"other protocol", "", "/cable", "tls/1.3", 200},
		{"two upgrades", "", "/cable", "websocket, h2c", 200},
		{"configured path", "limits: {websocket_paths: [/ws]}\n", "/ws", "websocket", 101},
		{"configured path replaces /cable", "limits: {websocket_paths: [/ws]}\n", "/cable", "websocket", 200},
		{"none configured", "limits: {websocket_paths: []}\n", "/cable", "websocket", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHostile(t, upgrader(), "preset: none\n"+tt.yaml)
			c := h.dial("")
			extra := ""
			if strings.Contains(tt.upgrade, "h2c") {
				extra = "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
			}
			io.WriteString(c, "GET "+tt.path+" HTTP/1.1\r\nHost: chat.example\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: "+
				tt.upgrade+"\r\n"+extra+"\r\n")
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 101 {
				io.WriteString(c, "hello\n")
				line, _ := br.ReadString('\n')
				if line != "echo hello\n" {
					t.Fatalf("tunnel echoed %q", line)
				}
				return
			}
			if got := resp.Header.Get("X-Seen-Upgrade"); got != "none" {
				t.Fatalf("Chatwoot saw Upgrade %q, want none", got)
			}
			if n := h.gw.Refused().Upgrades; n != 1 {
				t.Fatalf("Refused().Upgrades = %d, want 1", n)
			}
		})
	}
}

// A backend that switches protocols although no upgrade reached it (the
// gateway dropped h2c) gets no tunnel: the client is answered 502.
func TestUnrequestedSwitchIsRefused(t *testing.T) {
	always := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Upgrade", "h2c")
		w.Header().Set("Connection", "Upgrade")
		w.WriteHeader(http.StatusSwitchingProtocols)
	})
	h := newHostile(t, always, "preset: none\n")
	c := h.dial("")
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
	if got := readStatus(c, 3*time.Second); got != 502 {
		t.Fatalf("status %d, want 502", got)
	}
}
