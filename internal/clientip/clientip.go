// Package clientip finds the real client address of a request that may
// have come through proxies.
//
// Only when the TCP peer is a trusted proxy is a forwarding header read,
// and only the one the operator's proxy writes: X-Forwarded-For by default,
// or RFC 7239 Forwarded (for=) when configured. Never both: most proxies
// append to X-Forwarded-For but pass a client's Forwarded header through
// untouched, so reading Forwarded too would let any client pick its key
// (the Rack 3 flaw of lylo/pagecord#937). The list is walked right to
// left, skipping trusted hops; the first untrusted address is the client.
//
// A trusted proxy that sends no usable entry (no header, "unknown",
// "unix:", garbage) yields the zero Addr, the unknown client: never the
// proxy's own address, which is typically 127.0.0.1 and safelisted.
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Header names the forwarding header a Resolver reads.
type Header string

const (
	XForwardedFor Header = "x-forwarded-for"
	Forwarded     Header = "forwarded"
)

// Resolver resolves client addresses. The zero Resolver trusts nobody.
type Resolver struct {
	trusted []netip.Prefix
	header  Header
}

// New returns a Resolver trusting the given proxy networks and reading
// X-Forwarded-For from them.
func New(trusted []netip.Prefix) *Resolver {
	return &Resolver{trusted: trusted, header: XForwardedFor}
}

// NewWithHeader is New reading the given header instead.
func NewWithHeader(trusted []netip.Prefix, h Header) *Resolver {
	if h != Forwarded {
		h = XForwardedFor
	}
	return &Resolver{trusted: trusted, header: h}
}

// HeaderName is the canonical name of the header r reads.
func (r *Resolver) HeaderName() string {
	if r.header == Forwarded {
		return "Forwarded"
	}
	return "X-Forwarded-For"
}

// HeaderValue is that header's values in h, joined as one list (for logs).
func (r *Resolver) HeaderValue(h http.Header) string {
	return strings.Join(h.Values(r.HeaderName()), ", ")
}

// TrustsAnyone reports whether any proxy is trusted.
func (r *Resolver) TrustsAnyone() bool { return len(r.trusted) > 0 }

// Trusted reports whether ip is a trusted proxy.
func (r *Resolver) Trusted(ip netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ClientIP returns the client address for a request that arrived from
// remoteAddr ("host:port") with headers h. It returns the zero Addr (the
// client is unknown) when the peer address itself is unusable, or when a
// trusted peer sends no forwarding header or one whose walk reaches an
// entry that is not an IP address before an untrusted one.
//
// Junk never becomes the client, and neither does the proxy: answering
// with the nearest trusted hop would make every such request come from
// 127.0.0.1 behind a local nginx, which the chatwoot preset safelists.
func (r *Resolver) ClientIP(remoteAddr string, h http.Header) netip.Addr {
	return r.Client(ParseAddr(remoteAddr), h)
}

// Client is ClientIP for a peer address already parsed.
func (r *Resolver) Client(peer netip.Addr, h http.Header) netip.Addr {
	if !peer.IsValid() || !r.Trusted(peer) {
		return peer
	}
	var hops []string
	if r.header == Forwarded {
		hops = forwardedFor(h.Values("Forwarded"))
	} else {
		return r.clientFromXFF(h.Values("X-Forwarded-For"))
	}
	if len(hops) == 0 {
		return netip.Addr{}
	}
	var client netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		ip := ParseAddr(hops[i])
		if !ip.IsValid() {
			return netip.Addr{}
		}
		client = ip
		if !r.Trusted(ip) {
			return ip
		}
	}
	// Every hop is trusted: the left-most is the best we know (Rack does
	// the same).
	return client
}

// clientFromXFF is Client's walk over X-Forwarded-For values without
// building the hop list (it runs on every request behind a proxy).
func (r *Resolver) clientFromXFF(values []string) netip.Addr {
	var client netip.Addr
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for {
			j := strings.LastIndexByte(v, ',')
			ip := ParseAddr(v[j+1:])
			if !ip.IsValid() {
				return netip.Addr{}
			}
			client = ip
			if !r.Trusted(ip) {
				return ip
			}
			if j < 0 {
				break
			}
			v = v[:j]
		}
	}
	// No entry: unknown. Every hop trusted: the left-most (as below).
	return client
}

// ParseAddr parses an address as it appears in RemoteAddr or forwarding
// headers: "1.2.3.4", "1.2.3.4:80", "[2001:db8::1]:443", "2001:db8::1",
// quoted. IPv4-mapped IPv6 is unmapped and zones dropped, so one client
// has one key. It returns the zero Addr for anything else.
func ParseAddr(s string) netip.Addr {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if s == "" {
		return netip.Addr{}
	}
	// "host:port" (RemoteAddr) first when it looks like one: netip's
	// error for the failed ParseAddr would allocate on every request.
	if s[0] == '[' || strings.Count(s, ":") == 1 {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().Unmap().WithZone("")
		}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap().WithZone("")
		}
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone("")
		}
	}
	return netip.Addr{}
}

func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(part))
		}
	}
	return out
}

// forwardedFor extracts the for= values of RFC 7239 Forwarded headers in
// order; an element without for= yields "" (junk: it stops the walk).
func forwardedFor(values []string) []string {
	var out []string
	for _, elem := range splitList(values) {
		val := ""
		for _, pair := range strings.Split(elem, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
				val = strings.TrimSpace(v)
			}
		}
		out = append(out, val)
	}
	return out
}
