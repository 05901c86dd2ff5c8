package gateway

import (
	"net/netip"

	"github.com/wootguard/wootguard/internal/rules"
)

// noticeLoopbackSafelist says once, in plain words, why requests from this
// host are never limited: the chatwoot preset safelists 127.0.0.1 and ::1
// (as Chatwoot does), and with no trusted proxy the TCP peer is the client.
// A new operator trying the quick start from the same host otherwise sees
// no protection at all and cannot tell why.
func (g *Gateway) noticeLoopbackSafelist(o *Options, d rules.Decision, client netip.Addr) {
	if d.Type != "safelist" || !client.IsLoopback() || o.Resolver.TrustsAnyone() {
		return
	}
	g.loopbackNotice.Do(func() {
		o.Logger.Warn("a request from "+client.String()+" was let through unlimited: loopback clients are safelisted (rule "+d.Rule+
			"), as in Chatwoot, and no trusted proxy is configured, so this host is the client. "+
			"To see the limits from here use another loopback address (curl --interface 127.0.0.2); "+
			"behind a proxy on this host, list it in client_ip.trusted_proxies", "rule", d.Rule)
	})
}
