package gateway

import (
	"errors"
	"io"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bound what slow or numerous clients can hold in the gateway. A
// zero field is no cap. Per-client caps apply to resolved clients; the
// unknown client and trusted proxies' own addresses are never capped (all
// of a local nginx's connections come from 127.0.0.1).
type Limits struct {
	RequestsPerClient       int   // requests in flight per client (429)
	BufferedBodies          int   // bodies being buffered at once, all clients (503)
	BufferedBodiesPerClient int   // bodies being buffered at once per client (429)
	BodyMemory              int64 // bytes reserved by buffered bodies together (503)
	// A buffered body of at most SmallBodySize bytes (a chunked one counts
	// as BodyLimit) must arrive within SmallBodyTimeout (408 otherwise).
	SmallBodySize    int64
	SmallBodyTimeout time.Duration
}

// Refusals counts requests the gateway refused to protect itself.
type Refusals struct {
	RequestsPerClient       uint64 // 429: too many requests in flight from one client
	BufferedBodies          uint64 // 503: too many bodies being buffered
	BufferedBodiesPerClient uint64 // 429: too many bodies being buffered from one client
	BodyMemory              uint64 // 503: the body memory budget is spent
	SlowBodies              uint64 // 408: a buffered body did not arrive in time
	Upgrades                uint64 // upgrades dropped (h2c, websocket off its paths)
}

// Refused returns the refusal counts since the gateway started (for
// metrics).
func (g *Gateway) Refused() Refusals {
	c := &g.limits.refused
	return Refusals{RequestsPerClient: c.requestsPerClient.Load(), BufferedBodies: c.bufferedBodies.Load(),
		BufferedBodiesPerClient: c.bufferedBodiesPerClient.Load(), BodyMemory: c.bodyMemory.Load(),
		SlowBodies: c.slowBodies.Load(), Upgrades: c.upgrades.Load()}
}

// BodyMemoryInUse returns the bytes reserved by bodies being buffered now.
func (g *Gateway) BodyMemoryInUse() int64 { return g.limits.bodyBytes.Load() }

// limiter is the gateway's live accounting; the caps come from Options,
// so a reload changes them without losing what is in flight.
type limiter struct {
	inflight   perClient
	bodies     perClient
	bodyCount  atomic.Int64
	bodyBytes  atomic.Int64
	refused    refusalCounters
	logLimiter logEvery
}

type refusalCounters struct {
	requestsPerClient, bufferedBodies, bufferedBodiesPerClient, bodyMemory, slowBodies, upgrades atomic.Uint64
}

// perClient counts something per client address.
type perClient struct {
	mu sync.Mutex
	m  map[netip.Addr]int
}

// capKey is whose share a connection or request counts against: the
// address, or for IPv6 its /64, which one subscriber usually holds whole
// (else one host could take a fresh address per connection).
func capKey(a netip.Addr) netip.Addr {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// acquire takes one for a if fewer than max are taken.
func (p *perClient) acquire(a netip.Addr, max int) bool {
	a = capKey(a)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[netip.Addr]int{}
	}
	if p.m[a] >= max {
		return false
	}
	p.m[a]++
	return true
}

func (p *perClient) release(a netip.Addr) {
	a = capKey(a)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m[a] <= 1 {
		delete(p.m, a) // the map holds only clients with something open
	} else {
		p.m[a]--
	}
}

// capped reports whether per-client caps apply to client: not to the
// unknown client (one shared key), not to a trusted proxy, and not to
// this host (a local nginx left out of trusted_proxies sends everything
// from 127.0.0.1; the startup warning tells the operator).
func capped(o *Options, client netip.Addr) bool {
	return client.IsValid() && !isLocalHost(client) && !o.Resolver.Trusted(client)
}

// isLocalHost is 127.0.0.1 or ::1, where a proxy on this host connects
// from (and what Chatwoot's own rules safelist).
func isLocalHost(a netip.Addr) bool { return a == localhost4 || a == localhost6 }

var localhost4, localhost6 = netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()

// admitRequest takes a per-client in-flight slot when the client is
// capped (held: release it with g.limits.inflight.release; no closure,
// which would allocate per request). It answers 429 itself when refused.
func (g *Gateway) admitRequest(w http.ResponseWriter, r *http.Request, o *Options, client netip.Addr) (held, ok bool) {
	max := o.Limits.RequestsPerClient
	if max <= 0 || !capped(o, client) {
		return false, true
	}
	if !g.limits.inflight.acquire(client, max) {
		g.limits.refused.requestsPerClient.Add(1)
		g.refuse(w, r, o, http.StatusTooManyRequests, "requests_per_client", client,
			"too many requests in flight from this client (limits.connections_per_client)")
		return false, false
	}
	return true, true
}

// bufferBody reads the body a rule needs, within the body limits: the
// size limit (413), the global and per-client caps (503, 429), and the
// read deadline (408).
func (g *Gateway) bufferBody(w http.ResponseWriter, r *http.Request, o *Options, client netip.Addr) ([]byte, bool) {
	l := &o.Limits
	if r.ContentLength > o.BodyLimit {
		g.refuse(w, r, o, http.StatusRequestEntityTooLarge, "", client, "Request body too large for a rate-limited route")
		return nil, false
	}
	// A body of unknown length (chunked) may grow to BodyLimit: reserve that.
	reserve := r.ContentLength
	if reserve < 0 {
		reserve = o.BodyLimit
	}
	if n := g.limits.bodyCount.Add(1); l.BufferedBodies > 0 && n > int64(l.BufferedBodies) {
		g.limits.bodyCount.Add(-1)
		g.limits.refused.bufferedBodies.Add(1)
		g.refuse(w, r, o, http.StatusServiceUnavailable, "buffered_bodies", client,
			"too many request bodies being read (limits.buffered_bodies)")
		return nil, false
	}
	defer g.limits.bodyCount.Add(-1)
	if n := g.limits.bodyBytes.Add(reserve); l.BodyMemory > 0 && n > l.BodyMemory {
		g.limits.bodyBytes.Add(-reserve)
		g.limits.refused.bodyMemory.Add(1)
		g.refuse(w, r, o, http.StatusServiceUnavailable, "body_memory", client,
			"the memory for request bodies is spent (limits.body_memory)")
		return nil, false
	}
	defer g.limits.bodyBytes.Add(-reserve)
	if max := l.BufferedBodiesPerClient; max > 0 && capped(o, client) {
		if !g.limits.bodies.acquire(client, max) {
			g.limits.refused.bufferedBodiesPerClient.Add(1)
			g.refuse(w, r, o, http.StatusTooManyRequests, "buffered_bodies_per_client", client,
				"too many request bodies being read from this client (limits.buffered_bodies_per_client)")
			return nil, false
		}
		defer g.limits.bodies.release(client)
	}

	// Bound the time a client may take to send a body we must read
	// (slowloris on bodies); streamed bodies are Chatwoot's to time.
	timeout := o.BodyTimeout
	if l.SmallBodyTimeout > 0 && reserve <= l.SmallBodySize && (timeout <= 0 || l.SmallBodyTimeout < timeout) {
		timeout = l.SmallBodyTimeout
	}
	rc := http.NewResponseController(w)
	if timeout > 0 {
		_ = rc.SetReadDeadline(time.Now().Add(timeout))
	}
	var body []byte
	var err error
	if r.ContentLength >= 0 {
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, o.BodyLimit+1))
	}
	_ = rc.SetReadDeadline(time.Time{})
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		g.limits.refused.slowBodies.Add(1)
		g.refuse(w, r, o, http.StatusRequestTimeout, "slow_body", client, "Request body not received in time")
		return nil, false
	case err != nil:
		g.refuse(w, r, o, http.StatusBadRequest, "", client, "Bad request body")
		return nil, false
	case int64(len(body)) > o.BodyLimit:
		g.refuse(w, r, o, http.StatusRequestEntityTooLarge, "", client, "Request body too large for a rate-limited route")
		return nil, false
	}
	return body, true
}

// refuse answers a request the gateway will not handle and closes the
// connection without waiting for the rest of a slow body (a slow client
// could otherwise hold it). reason names the limit for the log line ("":
// the client's own fault, logged at debug).
// refuseDrain is how long a refused request's remaining body may still
// arrive before the connection is closed.
const refuseDrain = time.Second

func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, o *Options, status int, reason string, client netip.Addr, msg string) {
	// Give the rest of the body a moment, not its whole upload: the server
	// drains what arrives (up to 256 KiB) and closes gracefully, so the
	// client reads this answer instead of a reset, while a slow sender
	// holds the connection for at most refuseDrain.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(refuseDrain))
	h := w.Header()
	h.Set("Connection", "close")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		h.Set("Retry-After", "5")
	}
	http.Error(w, msg, status)
	if reason == "" {
		o.Logger.Debug("request refused", "status", status, "reason", msg, "client_ip", clientLabel(client), "path", r.URL.Path)
		return
	}
	if n, ok := g.limits.logLimiter.allow(reason); ok {
		o.Logger.Warn("request refused: "+msg, "status", status, "limit", reason, "client_ip", clientLabel(client),
			"method", r.Method, "path", r.URL.Path, "refused_since_last_line", n)
	}
}

// logEvery lets one log line per reason through every 10 seconds and
// counts the ones it held back, so a flood cannot flood the log.
type logEvery struct {
	mu   sync.Mutex
	last map[string]time.Time
	held map[string]uint64
}

func (e *logEvery) allow(reason string) (uint64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.last == nil {
		e.last, e.held = map[string]time.Time{}, map[string]uint64{}
	}
	now := time.Now()
	if now.Sub(e.last[reason]) < 10*time.Second {
		e.held[reason]++
		return 0, false
	}
	n := e.held[reason] + 1
	e.last[reason], e.held[reason] = now, 0
	return n, true
}
