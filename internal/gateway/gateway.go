// Package gateway is the reverse proxy in front of Chatwoot: it finds the
// client, asks the rule engine, answers 403/429 itself or forwards the
// request with clean forwarding headers.
package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wootguard/wootguard/internal/clientip"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store"
)

// Options configures a Gateway.
type Options struct {
	Upstream         *url.URL
	Engine           *rules.Engine
	Resolver         *clientip.Resolver
	RetryAfter       bool  // send Retry-After on 429 (and on bans)
	RateLimitHeaders bool  // send RateLimit-Policy and RateLimit
	BodyLimit        int64 // bytes buffered for rules that read body params
	BodyTimeout      time.Duration
	UpstreamTimeout  time.Duration
	Logger           *slog.Logger
	Now              func() time.Time // default time.Now
	Limits           Limits           // caps on slow and many clients (zero: none)
	// WebsocketPaths are where "Upgrade: websocket" is forwarded; every
	// other upgrade is dropped (see upgradeAllowed).
	WebsocketPaths []string
	// Observer hears about every finished request (metrics, access log).
	Observer Observer
	// RefusalLogLimit is how many refusal lines each rule and key may
	// write per minute (0: DefaultRefusalLogLimit; negative: every one).
	RefusalLogLimit int
	// MaintenanceRetryAfter is the Retry-After of maintenance 503s (0:
	// DefaultMaintenanceRetryAfter).
	MaintenanceRetryAfter time.Duration
	// UpstreamIdleConns is how many idle keep-alive connections to
	// Chatwoot are kept (0: DefaultUpstreamIdleConns). Sized like the
	// client connections: a smaller pool closes and redials upstream
	// connections under load (a TCP handshake per request).
	UpstreamIdleConns int
	// UpstreamTLS configures connections to an https upstream (nil: the
	// system's roots). Only HTTP/1.1 is ever negotiated.
	UpstreamTLS *tls.Config
}

// DefaultUpstreamIdleConns is the idle upstream pool when
// Options.UpstreamIdleConns is 0.
const DefaultUpstreamIdleConns = 1024

// Gateway is an http.Handler. Its rules can be swapped while it runs.
type Gateway struct {
	state          atomic.Pointer[Options]
	warnLocalProxy sync.Once
	pool           *upstreamPool // connections to Chatwoot
	log            *slog.Logger
	loopbackNotice sync.Once // noticeLoopbackSafelist
	unknown        unknownClients
	limits         limiter
	maintenance    atomic.Bool
	sampler        atomic.Pointer[refusalSampler]
}

// spoofable are the headers a client could use to pose as someone else;
// they never reach Chatwoot as the client sent them.
var spoofable = map[string]bool{"Forwarded": true, "X-Forwarded-For": true, "X-Forwarded-Host": true,
	"X-Forwarded-Proto": true, "X-Real-Ip": true, "Client-Ip": true,
	// Rack reads these for the scheme and port (request.ssl?, secure
	// cookies, redirect URLs).
	"X-Forwarded-Ssl": true, "X-Forwarded-Port": true, "X-Forwarded-Scheme": true, "Front-End-Https": true}

// reqInfo travels with a request from ServeHTTP to the upstream client.
type reqInfo struct {
	client  netip.Addr
	proto   string
	host    string
	pending []rules.Pending
	opts    *Options
	rec     *Record
}

// New returns a Gateway forwarding to o.Upstream.
func New(o Options) *Gateway {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Resolver == nil {
		o.Resolver = clientip.New(nil)
	}
	g := &Gateway{log: o.Logger}
	g.state.Store(&o)
	g.sampler.Store(newRefusalSampler(o.RefusalLogLimit, o.Logger))
	idle := o.UpstreamIdleConns
	if idle <= 0 {
		idle = DefaultUpstreamIdleConns
	}
	g.pool = newUpstreamPool(o.Upstream, idle, o.UpstreamTLS)
	return g
}

// Close closes the idle connections to Chatwoot (those of requests still
// in flight close as they end). Call it after Serve has returned.
func (g *Gateway) Close() error {
	g.pool.close()
	return nil
}

// Swap replaces the rules and response options of a running gateway. The
// upstream cannot change without a restart.
func (g *Gateway) Swap(o Options) {
	old := g.state.Load()
	o.Upstream = old.Upstream
	if o.Now == nil {
		o.Now = old.Now
	}
	if o.Logger == nil {
		o.Logger = old.Logger
	}
	if o.Resolver == nil {
		o.Resolver = clientip.New(nil)
	}
	if o.Observer == nil {
		o.Observer = old.Observer
	}
	if o.RefusalLogLimit != old.RefusalLogLimit {
		g.sampler.Store(newRefusalSampler(o.RefusalLogLimit, o.Logger))
	}
	g.state.Store(&o)
}

// Options returns the options the gateway runs with now (the engine for
// the admin API, for one).
func (g *Gateway) Options() *Options { return g.state.Load() }

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o := g.state.Load()
	rec := recordPool.Get().(*Record)
	*rec = Record{Start: o.Now(), Decision: DecisionPass, Events: rec.Events[:0]}
	rw := &rec.rw // in the pooled record: no allocation per request
	*rw = recordingWriter{ResponseWriter: w}
	defer func() {
		if o.Observer != nil {
			rec.finish(rw, r, o.Now())
			o.Observer.Observe(rec)
		}
		recordPool.Put(rec)
	}()
	g.serve(rw, r, o, rec)
}

func (g *Gateway) serve(w *recordingWriter, r *http.Request, o *Options, rec *Record) {
	peer := clientip.ParseAddr(r.RemoteAddr)
	client := o.Resolver.Client(peer, r.Header)
	if !client.IsValid() {
		g.noteUnknownClient(o, r, peer)
	}
	rec.Client = client
	peerTrusted := peer.IsValid() && o.Resolver.Trusted(peer)
	info := &rec.info
	*info = reqInfo{client: client, proto: "http", host: r.Host, opts: o, rec: rec}
	if g.maintenance.Load() {
		rec.Decision, rec.Rule = DecisionBlock, RuleMaintenance
		writeMaintenance(w, r, o.MaintenanceRetryAfter)
		return
	}
	held, ok := g.admitRequest(w, r, o, client)
	if !ok {
		rec.Decision, rec.Rule = DecisionThrottle, RuleClientLimit // answered 429
		return
	}
	if held {
		defer g.limits.inflight.release(client)
	}
	if r.TLS != nil {
		info.proto = "https"
	} else if p := r.Header.Get("X-Forwarded-Proto"); peerTrusted && (p == "https" || p == "http") {
		info.proto = p
	} else if peerTrusted && r.Header.Get("X-Forwarded-Ssl") == "on" {
		info.proto = "https" // a proxy that only says it the older way; Chatwoot gets X-Forwarded-Proto
	}
	if h := r.Header.Get("X-Forwarded-Host"); peerTrusted && h != "" {
		info.host = h
	}

	if !peerTrusted && !o.Resolver.TrustsAnyone() && r.Header.Get("X-Forwarded-For") != "" && peer.IsLoopback() {
		g.warnLocalProxy.Do(func() {
			o.Logger.Warn("a local proxy sends X-Forwarded-For but client_ip.trusted_proxies is empty: every client looks like " +
				r.RemoteAddr + " (safelisted by the chatwoot preset); list the proxy in trusted_proxies")
		})
	}

	joinRepeatedContentType(r.Header)
	req := &rec.req
	*req = rules.Request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, IP: client, Header: r.Header,
		UnknownClient: !client.IsValid()}
	req.BodyUnread = r.Body != nil && r.Body != http.NoBody
	if req.BodyUnread && o.Engine.NeedsBodyFor(r.Method, req.Path, req.RawQuery, r.Header.Get("Content-Type")) {
		body, ok := g.bufferBody(w, r, o, client)
		if !ok {
			g.refusedBody(w.status, o, client, r, rec)
			return
		}
		req.Body, req.BodyUnread = body, false
	}

	d, err := o.Engine.Decide(r.Context(), o.Now(), req)
	if retry, ok := store.IsUnavailable(err); ok {
		// store.on_error: deny, the one documented refusal for a store
		// outage: 503, never a 500.
		o.Logger.Warn("rule store unavailable; request refused (store.on_error: deny)", "err", err, "client_ip", clientLabel(client), "path", r.URL.Path)
		rec.Decision, rec.Rule = DecisionError, RuleStoreUnavailable
		w.Header().Set("Retry-After", itoa(max(ceilSec(retry), 1)))
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "Service temporarily unavailable, retry later", http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		// Store trouble fails open, like Rack::Attack's store proxies: an
		// outage of the counters must not take Chatwoot down.
		if d.Action == rules.ActionPass {
			o.Logger.Error("rule store failed; request let through", "err", err, "client_ip", clientLabel(client), "path", r.URL.Path)
			rec.Decision = DecisionError
		} else {
			// The refusal stands; only counting it (refused_by) failed.
			o.Logger.Error("rule store failed while counting a refusal", "err", err, "client_ip", clientLabel(client), "path", r.URL.Path)
			rec.Decision = decisionName(d)
		}
	} else {
		rec.Decision = decisionName(d)
	}
	rec.Rule, rec.Type, rec.Key = d.Rule, d.Type, d.Discriminator
	rec.Events = append(rec.Events, d.Events...)
	for _, ev := range d.Events {
		if ev.DryRun && rec.Decision == DecisionPass {
			rec.Decision, rec.Rule, rec.Type, rec.Key = DecisionDryRun, ev.Rule, ev.Type, ev.Discriminator
		}
		if ev.DryRun && !ev.BanStarted && !g.sampler.Load().allow(ev.Rule, ev.Discriminator) {
			continue
		}
		logEvent(o.Logger, ev, client, r)
	}
	g.noticeLoopbackSafelist(o, d, client)
	switch d.Action {
	case rules.ActionBlock:
		if g.sampler.Load().allow(d.Rule, d.Discriminator) {
			logDecision(o.Logger, d, client, r)
		}
		if o.RetryAfter && d.RetryAfter > 0 {
			setRetryAfter(w.Header(), d.RetryAfter)
		}
		writeRefusal(w, r, http.StatusForbidden, d)
		return
	case rules.ActionThrottle:
		if g.sampler.Load().allow(d.Rule, d.Discriminator) {
			logDecision(o.Logger, d, client, r)
		}
		if o.RetryAfter {
			setRetryAfter(w.Header(), d.RetryAfter)
		}
		if o.RateLimitHeaders {
			setRateLimit(w.Header(), d.Quota)
		}
		writeRefusal(w, r, http.StatusTooManyRequests, d)
		return
	}
	if o.RateLimitHeaders && d.QuotaValid {
		setRateLimit(w.Header(), d.Quota)
	}
	info.pending = d.Pending
	if wantsUpgrade(r) && !upgradeAllowed(r, o.WebsocketPaths) {
		g.limits.refused.upgrades.Add(1)
		o.Logger.Debug("protocol upgrade dropped; forwarded as plain HTTP", "upgrade", truncate(r.Header.Get("Upgrade"), 64),
			"client_ip", clientLabel(client), "path", r.URL.Path)
		dropUpgrade(r.Header)
	}
	if req.Body != nil {
		// Chatwoot gets the body the rules read; made only here, so a
		// refused sign-in does not pay for it.
		r.Body = io.NopCloser(bytes.NewReader(req.Body))
	}
	rec.Forwarded, rec.upstreamStart = true, o.Now()
	g.forward(w, r, info)
}

// reportResponse records Chatwoot's answer and lets the rules that count
// failures (fail2ban on 401s, for one) see its status.
func (g *Gateway) reportResponse(info *reqInfo, r *http.Request, status int) {
	info.rec.UpstreamStatus = status
	info.rec.UpstreamDuration = info.opts.Now().Sub(info.rec.upstreamStart)
	if len(info.pending) == 0 {
		return
	}
	o := info.opts
	for _, p := range info.pending {
		ev, err := o.Engine.ReportResponse(r.Context(), o.Now(), p, status)
		if err != nil {
			o.Logger.Error("rule store failed while counting a failure", "err", err)
			continue
		}
		if ev != nil {
			info.rec.Events = append(info.rec.Events, *ev)
			logEvent(o.Logger, *ev, info.client, r)
		}
	}
}

// proxyError answers 502 when Chatwoot gave no answer (down, reset, no
// response head within server.upstream_timeout); a client that went away
// gets nothing.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, info *reqInfo, err error) {
	if errors.Is(err, context.Canceled) || r.Context().Err() != nil {
		g.log.Debug("client went away", "path", r.URL.Path, "err", err)
		return
	}
	info.rec.UpstreamError = true
	info.rec.UpstreamDuration = info.opts.Now().Sub(info.rec.upstreamStart)
	g.log.Warn("upstream unavailable", "err", err, "method", r.Method, "path", r.URL.Path)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadGateway)
	io.WriteString(w, "Bad Gateway: Chatwoot is not answering\n")
}
