// Package gateway is the reverse proxy in front of Chatwoot: it finds the
// client, asks the rule engine, answers 403/429 itself or forwards the
// request with clean forwarding headers.
package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
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
}

// DefaultUpstreamIdleConns is the idle upstream pool when
// Options.UpstreamIdleConns is 0.
const DefaultUpstreamIdleConns = 1024

// Gateway is an http.Handler. Its rules can be swapped while it runs.
type Gateway struct {
	state          atomic.Pointer[Options]
	warnLocalProxy sync.Once
	proxy          *httputil.ReverseProxy
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

type ctxKey struct{}

// reqInfo travels with a request from ServeHTTP to the proxy hooks.
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
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = o.UpstreamTimeout
	idle := o.UpstreamIdleConns
	if idle <= 0 {
		idle = DefaultUpstreamIdleConns
	}
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = idle, idle
	// Close idle connections before Puma does (persistent_timeout, 20 s):
	// a request sent as Puma closes one fails, and a POST is not retried.
	tr.IdleConnTimeout = 15 * time.Second
	// A proxy passes Accept-Encoding through as the client sent it; the
	// transport must not add gzip and then inflate Chatwoot's answer.
	tr.DisableCompression = true
	tr.Proxy = nil // never send Chatwoot traffic through an environment proxy
	upstream := o.Upstream
	g.proxy = &httputil.ReverseProxy{
		Transport:      tr,
		Rewrite:        func(pr *httputil.ProxyRequest) { rewrite(pr, upstream) },
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.proxyError,
		ErrorLog:       slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
		BufferPool:     &bufferPool{},
	}
	return g
}

// bufferPool reuses the proxy's 32 KiB copy buffers, which it would
// otherwise allocate for every response (most of its garbage).
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.p.Get().(*[32 << 10]byte); ok {
		return buf[:]
	}
	return make([]byte, 32<<10)
}

// Put keeps the array pointer (&buf would allocate on every Put).
func (b *bufferPool) Put(buf []byte) {
	if len(buf) == 32<<10 {
		b.p.Put((*[32 << 10]byte)(buf))
	}
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
		r.Body = io.NopCloser(bytes.NewReader(body))
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
	rec.Forwarded, rec.upstreamStart = true, o.Now()
	g.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, info)))
}

// rewrite builds the upstream request: Chatwoot sees one clean
// X-Forwarded-For (the client), so its own throttles key on real users and
// no client can pick its key or claim to be 127.0.0.1.
func rewrite(pr *httputil.ProxyRequest, upstream *url.URL) {
	pr.SetURL(upstream)
	pr.Out.Host = pr.In.Host // as nginx's proxy_set_header Host $host
	h := pr.Out.Header
	// Also drop underscore spellings (X_Forwarded_For, Client_ip): Puma
	// maps them to the same HTTP_* variables Rails reads.
	for k := range h {
		if spoofable[http.CanonicalHeaderKey(strings.ReplaceAll(k, "_", "-"))] {
			delete(h, k)
		}
	}
	info, _ := pr.In.Context().Value(ctxKey{}).(*reqInfo)
	if info == nil {
		return
	}
	// An unknown client reaches Chatwoot as "unknown" (RFC 7239's word):
	// without a header Rack would see the gateway's own 127.0.0.1, which
	// Chatwoot's Rack::Attack safelists.
	// One label and one backing array for the four values (h.Set would
	// allocate five times on every forwarded request).
	label := clientLabel(info.client)
	vals := []string{label, label, info.proto, info.host}
	h["X-Forwarded-For"] = vals[0:1:1]
	h["X-Real-Ip"] = vals[1:2:2]
	h["X-Forwarded-Proto"] = vals[2:3:3]
	h["X-Forwarded-Host"] = vals[3:4:4]
}

func (g *Gateway) modifyResponse(resp *http.Response) error {
	info, _ := resp.Request.Context().Value(ctxKey{}).(*reqInfo)
	if info != nil {
		info.rec.UpstreamStatus = resp.StatusCode
		info.rec.UpstreamDuration = info.opts.Now().Sub(info.rec.upstreamStart)
	}
	if info == nil || len(info.pending) == 0 {
		return nil
	}
	o := info.opts
	for _, p := range info.pending {
		ev, err := o.Engine.ReportResponse(resp.Request.Context(), o.Now(), p, resp.StatusCode)
		if err != nil {
			o.Logger.Error("rule store failed while counting a failure", "err", err)
			continue
		}
		if ev != nil {
			info.rec.Events = append(info.rec.Events, *ev)
			logEvent(o.Logger, *ev, info.client, resp.Request)
		}
	}
	return nil
}

func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) || r.Context().Err() != nil {
		g.log.Debug("client went away", "path", r.URL.Path, "err", err)
		return
	}
	if info, _ := r.Context().Value(ctxKey{}).(*reqInfo); info != nil {
		info.rec.UpstreamError = true
		info.rec.UpstreamDuration = info.opts.Now().Sub(info.rec.upstreamStart)
	}
	g.log.Warn("upstream unavailable", "err", err, "method", r.Method, "path", r.URL.Path)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadGateway)
	io.WriteString(w, "Bad Gateway: Chatwoot is not answering\n")
}
