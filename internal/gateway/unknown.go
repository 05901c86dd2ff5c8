package gateway

import (
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
)

// unknownClients counts requests whose client could not be resolved: a
// trusted proxy sent no usable forwarding entry, or the peer address
// itself is unusable. Such a request is keyed as rules.UnknownClientKey:
// it shares one bucket, and no safelist matches it.
type unknownClients struct {
	n        atomic.Uint64
	lastWarn atomic.Int64 // unix seconds of the last log line
}

// UnknownClients returns the number of requests whose client was unknown
// since the gateway started (for metrics).
func (g *Gateway) UnknownClients() uint64 { return g.unknown.n.Load() }

// noteUnknownClient counts one and logs at most once a minute.
func (g *Gateway) noteUnknownClient(o *Options, r *http.Request, peer netip.Addr) {
	total := g.unknown.n.Add(1)
	now := time.Now().Unix()
	last := g.unknown.lastWarn.Load()
	if now-last < 60 || !g.unknown.lastWarn.CompareAndSwap(last, now) {
		return
	}
	o.Logger.Warn("client IP unknown: counted as the one shared \"unknown\" client, which no safelist matches; "+
		"check that your proxy sends the client's address in "+o.Resolver.HeaderName(),
		"peer", r.RemoteAddr, "header", truncate(o.Resolver.HeaderValue(r.Header), 200),
		"trusted_peer", peer.IsValid() && o.Resolver.Trusted(peer), "unknown_total", total, "path", r.URL.Path)
}

// clientLabel is how logs name a client: its address, or "unknown".
func clientLabel(a netip.Addr) string {
	if !a.IsValid() {
		return rules.UnknownClientKey
	}
	return a.String()
}
