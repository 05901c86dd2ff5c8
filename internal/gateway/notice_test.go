package gateway_test

import (
	"strings"
	"testing"
)

// A request from this host, with no trusted proxy, is safelisted by the
// chatwoot preset: the gateway says so once, in plain words, with the way
// to see the limits from here.
func TestLoopbackSafelistNoticeOnce(t *testing.T) {
	r := newRig(t, "client_ip: {trusted_proxies: []}\n", nil)
	for range 3 {
		r.do(req{method: "POST", path: "/auth/sign_in"})
	}
	n := 0
	for _, l := range r.logs.lines() {
		if msg, _ := l["msg"].(string); strings.Contains(msg, "loopback clients are safelisted") {
			n++
			if !strings.Contains(msg, "curl --interface 127.0.0.2") || !strings.Contains(msg, "trusted_proxies") {
				t.Errorf("notice %q does not say how to see the limits", msg)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d notices, want exactly 1", n)
	}
}

// With the proxy trusted, the client is the forwarded address: no notice.
func TestNoLoopbackNoticeBehindTrustedProxy(t *testing.T) {
	r := newRig(t, "", nil)
	r.do(req{path: "/", ip: "127.0.0.1"})
	r.do(req{path: "/", ip: "198.51.100.7"})
	for _, l := range r.logs.lines() {
		if msg, _ := l["msg"].(string); strings.Contains(msg, "loopback clients are safelisted") {
			t.Errorf("unexpected notice with a trusted proxy: %q", msg)
		}
	}
}
