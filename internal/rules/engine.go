// Package rules decides, for one request, what Rack::Attack would: pass,
// block (403) or throttle (429). It is pure: no HTTP server, no
// goroutines, and the caller passes the clock reading. Counters live in a
// store.Store that runs one program per request.
//
// Order (rack-attack-semantics.md §1.1): safelists → blocklists →
// Fail2Ban/Allow2Ban → throttles (stop at the first exceeded; earlier ones
// were counted, later ones are not) → tracks (all of them).
package rules

import (
	"context"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/wootguard/wootguard/internal/railsreq"
	"github.com/wootguard/wootguard/internal/store"
)

// Options configures an Engine.
type Options struct {
	// Store holds the counters. Required when a rule counts.
	Store store.Store
	// Prefix starts every store key (default "wootguard").
	Prefix string
	// StripExtension matches paths without their ".json"-style extension,
	// as Chatwoot's rules do (default for the Chatwoot preset).
	StripExtension bool
	// LaxRefusedBy lets failure.refused_by name rules outside this Spec:
	// the caller checks those names (config checks a file's rules before
	// merging them with the preset and the profile).
	LaxRefusedBy bool
	// IPv6Prefix keys an IPv6 client by its /IPv6Prefix network in "ip"
	// keys (client_ip.ipv6_prefix; 0 or 128: the whole address). IPv4
	// clients are always one address.
	IPv6Prefix int
	// KeySecret, when set, replaces key parts that come from secrets
	// (tokens, passwords) by their HMAC-SHA256 under it before they reach
	// the store, a log line or an admin answer (see secret.go).
	KeySecret []byte
}

// Engine is a compiled rule set. It is safe for concurrent use.
type Engine struct {
	opts       Options
	safelists  []*rule
	blocklists []*rule
	bans       []*rule // fail2ban rules, then allow2ban rules
	throttles  []*rule
	tracks     []*rule
	pool       sync.Pool
	refusers   []*rule // bans counting refusals (failure.refused_by)
	// throttleIndex picks the throttles a request may match.
	throttleIndex *ruleIndex
	// params are the top-level param names any rule reads: a JSON body
	// is scanned for these only (railsreq.Request.Want).
	params []string
}

// Compile checks a Spec and builds an Engine. The error, if any, is
// SpecErrors listing every problem.
func Compile(s Spec, o Options) (*Engine, error) {
	if o.Prefix == "" {
		o.Prefix = "wootguard"
	}
	c := &compiler{ipv6: o.IPv6Prefix, strip: o.StripExtension}
	e := &Engine{opts: o}
	seen := map[ruleKind]map[string]bool{}
	names := func(k ruleKind) map[string]bool {
		if seen[k] == nil {
			seen[k] = map[string]bool{}
		}
		return seen[k]
	}
	for i, r := range s.Safelists {
		e.safelists = append(e.safelists, c.listRule(fmt.Sprintf("safelists[%d]", i), kindSafelist, r, names(kindSafelist)))
	}
	for i, r := range s.Blocklists {
		e.blocklists = append(e.blocklists, c.listRule(fmt.Sprintf("blocklists[%d]", i), kindBlocklist, r, names(kindBlocklist)))
	}
	banNames := names(kindFail2Ban) // one namespace: both kinds share "ban" keys
	for _, group := range []struct {
		kind  ruleKind
		key   string
		rules []BanRule
	}{{kindFail2Ban, "fail2ban", s.Fail2Ban}, {kindAllow2Ban, "allow2ban", s.Allow2Ban}} {
		for i, b := range group.rules {
			path := fmt.Sprintf("%s[%d]", group.key, i)
			c.name(path, b.Name, banNames)
			if b.MaxRetry == nil {
				c.errf(path, "maxretry is required")
			} else if *b.MaxRetry < 1 {
				c.errf(path+".maxretry", "maxretry must be at least 1")
			}
			r := &rule{kind: group.kind, name: b.Name, match: c.matcher(path+".match", b.Match), key: c.key(path+".key", b.Key, b.Match)}
			if b.MaxRetry != nil {
				r.limit = *b.MaxRetry
			}
			r.period = c.period(path+".findtime", b.FindTime)
			r.enforce = c.mode(path, b.Mode)
			if time.Duration(b.BanTime) < time.Second {
				c.errf(path+".bantime", "bantime is required and must be at least 1s")
			}
			r.banTime = time.Duration(b.BanTime)
			if b.Failure != nil {
				if len(b.Failure.Status) == 0 && len(b.Failure.RefusedBy) == 0 {
					c.errf(path+".failure.status", "failure needs at least one status")
				}
				for j, st := range b.Failure.Status {
					if st < 100 || st > 599 {
						c.errf(fmt.Sprintf("%s.failure.status[%d]", path, j), "bad HTTP status %d", st)
					}
				}
				r.failure = append([]int{}, b.Failure.Status...)
			}
			c.banExtras(path, group.kind, b, r)
			e.bans = append(e.bans, r)
		}
	}
	for i, t := range s.Throttles {
		path := fmt.Sprintf("throttles[%d]", i)
		c.name(path, t.Name, names(kindThrottle))
		r := c.counted(path, kindThrottle, t.Name, t.Limit, t.Period, t.Key, t.Match)
		r.enforce = c.mode(path, t.Mode)
		c.throttleExtras(path, t, r)
		c.algorithm(path, t, r)
		e.throttles = append(e.throttles, r)
	}
	for i, t := range s.Tracks {
		path := fmt.Sprintf("tracks[%d]", i)
		c.name(path, t.Name, names(kindTrack))
		if (t.Limit == nil) != (t.Period == 0) {
			c.errf(path, "a track needs both limit and period, or neither")
		}
		var r *rule
		if t.Limit != nil {
			r = c.counted(path, kindTrack, t.Name, t.Limit, t.Period, t.Key, t.Match)
		} else {
			r = &rule{kind: kindTrack, name: t.Name, match: c.matcher(path+".match", t.Match), limit: -1}
			if len(t.Key) > 0 {
				r.key = c.key(path+".key", t.Key, t.Match)
			}
		}
		r.enforce = true
		e.tracks = append(e.tracks, r)
	}
	c.checkDotted(o.StripExtension) // needs the engine-wide path view
	c.linkRefusals(e, o)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	if o.Store == nil && len(e.bans)+len(e.throttles)+len(e.tracks) > 0 {
		return nil, SpecErrors{{Path: "store", Reason: "counting rules need a store"}}
	}
	// Counter key namespaces. Tracks get their own ("track:NAME"): a track
	// named like a throttle must not double-count it (rack-attack #594).
	// Ban and failure keys carry the rule name, so two rules never share a
	// ban by accident.
	for _, group := range [][]*rule{e.bans, e.throttles, e.tracks} {
		for _, rl := range group {
			rl.secret = o.KeySecret
			switch rl.kind {
			case kindThrottle:
				rl.countNS = rl.name
			case kindTrack:
				rl.countNS = "track:" + rl.name
			default:
				rl.countNS = rl.kind.String() + ":count:" + rl.name
				rl.banNS = rl.kind.String() + ":ban:" + rl.name
			}
		}
	}
	e.params = e.paramTops()
	e.indexParams()
	e.throttleIndex = newRuleIndex(e.throttles)
	e.pool.New = func() any { return &scratch{} }
	return e, nil
}

// Action is what the gateway must do with a request.
type Action uint8

const (
	ActionPass     Action = iota // forward it
	ActionBlock                  // answer 403
	ActionThrottle               // answer 429
)

func (a Action) String() string { return [...]string{"pass", "block", "throttle"}[a] }

// Quota is one throttle's state for the RateLimit headers.
type Quota struct {
	Policy    string // rule name
	Limit     int64
	Window    int64 // seconds
	Remaining int64
	Reset     int64 // seconds to the end of the window (Retry-After)
}

// Decision is the verdict for one request.
type Decision struct {
	Action Action
	// Rule, Type and Discriminator name the rule that decided (Type:
	// safelist, blocklist, fail2ban, allow2ban, throttle); empty when no
	// rule matched.
	Rule, Type, Discriminator string
	// Count is the matched counter's value; Limit its limit.
	Count, Limit int64
	// RetryAfter is the number of seconds until the block or throttle ends
	// (0 when unknown).
	RetryAfter int64
	// Quota is the tightest throttle evaluated (Valid=false if none): the
	// throttling one when throttled.
	Quota      Quota
	QuotaValid bool
	// Events are things to log that did not decide the request: dry-run
	// rules that would have acted, tracks, bans that were set.
	Events []Event
	// Pending are response-based Fail2Ban/Allow2Ban rules waiting for the
	// upstream's status; pass them to ReportResponse.
	Pending []Pending
}

// Event is a rule hit worth logging that did not decide the request.
type Event struct {
	Type, Rule, Discriminator string
	Count, Limit              int64
	DryRun                    bool
	BanStarted                bool // a Fail2Ban/Allow2Ban ban was set
}

// Pending is a response-based failure counter waiting for the status.
type Pending struct {
	rule          *rule
	unix          int64 // the request's second: its window and lifetime
	countKey      string
	banKey        string
	Discriminator string
	trustKey      string // "" when the rule has no trusted_for
	trustAt       int    // the OpTrustCheck's index in the program, -1 none
	trusted       bool   // the pair is trusted: count no failure
}

type scratch struct {
	res store.Result
	// keys holds the counter keys of one decision, made one string at
	// the end (one allocation however many rules count); keySpans[i]
	// locates ops[i]'s key and discriminator in it (key -1: the op has
	// its own strings).
	keys        []byte
	keySpans    []keySpan
	windows     [8]windowDigits // window numbers appendWindow formatted (kept across decisions)
	nextWindow  int             // the slot the next new number takes
	plainTracks []Event
	ops         []store.Op
	rules       []*rule
	discs       []string
	counts      []int64
	banned      []bool
	buf         []byte
	resets      []time.Duration
	candidates  []uint64 // ruleIndex.candidates of the throttles
}

// addKeyed adds a zero op for rl whose key is in sc.keys (see
// appendCounterKey) and returns it to be filled in place.
func (sc *scratch) addKeyed(rl *rule, span keySpan) *store.Op {
	sc.ops = append(sc.ops, store.Op{})
	sc.rules = append(sc.rules, rl)
	sc.discs = append(sc.discs, "")
	sc.keySpans = append(sc.keySpans, span)
	return &sc.ops[len(sc.ops)-1]
}

// decide evaluates every rule for r at time now (Decide, in refusal.go,
// adds the refusal-counted failures). With a trace it counts nothing (the
// store's Peek runs the program) and records what each operation found,
// for Explain.
func (e *Engine) decide(ctx context.Context, now time.Time, r *Request, tr *trace) (Decision, error) {
	var d Decision
	if !r.railsReady {
		r.want = e.params
	}
	if r.memoOf != e {
		// A Request another engine decided: its slots are that engine's.
		r.paramMemo, r.memoOf = [maxParamMemo]uint8{}, e
	}
	if m := r.methodOverride(); m != "" {
		r.Method = m
	}
	path := r.NormalizedPath(e.opts.StripExtension)
	for _, rl := range e.safelists {
		if rl.listMatch(r, path) {
			if !rl.enforce {
				d.Events = append(d.Events, Event{Type: "safelist", Rule: rl.name, DryRun: true})
				continue
			}
			d.Rule, d.Type = rl.name, "safelist"
			return d, nil
		}
	}
	for _, rl := range e.blocklists {
		if rl.listMatch(r, path) {
			if !rl.enforce {
				d.Events = append(d.Events, Event{Type: "blocklist", Rule: rl.name, DryRun: true})
				continue
			}
			d.Action, d.Rule, d.Type = ActionBlock, rl.name, "blocklist"
			return d, nil
		}
	}
	if len(e.bans)+len(e.throttles)+len(e.tracks) == 0 {
		return d, nil
	}

	sc := e.pool.Get().(*scratch)
	defer e.pool.Put(sc)
	sc.ops, sc.rules, sc.discs, sc.plainTracks = sc.ops[:0], sc.rules[:0], sc.discs[:0], sc.plainTracks[:0]
	sc.keys, sc.keySpans = sc.keys[:0], sc.keySpans[:0]
	unix := now.Unix()

	add := func(rl *rule, op store.Op, disc string) {
		sc.ops = append(sc.ops, op)
		sc.rules = append(sc.rules, rl)
		sc.discs = append(sc.discs, disc)
		sc.keySpans = append(sc.keySpans, keySpan{key: -1})
	}
	for _, rl := range e.bans {
		// A ban blocks every request of its key; only requests that fit
		// the rule's match are counted as failures.
		countKey, disc, ok := e.counterKey(sc, unix, rl, r, path)
		if !ok {
			continue
		}
		counts := rl.match.matches(r, path)
		if rl.scopeMatch && !counts {
			continue // scope: match — the ban blocks only what the rule matches
		}
		banKey := e.opts.Prefix + ":" + rl.banNS + ":" + disc
		trustKey, trustAt := e.trustKey(rl, r, disc), -1
		if trustKey != "" {
			trustAt = len(sc.ops)
			add(rl, store.Op{Kind: store.OpTrustCheck, Key: trustKey, BanKey: banKey}, disc)
		}
		add(rl, store.Op{Kind: store.OpBanCheck, BanKey: banKey, Enforce: rl.enforce}, disc)
		if !counts || rl.refusedBy != nil {
			continue
		}
		if rl.failure != nil {
			d.Pending = append(d.Pending, Pending{rule: rl, countKey: countKey, banKey: banKey, unix: unix, Discriminator: disc,
				trustKey: trustKey, trustAt: trustAt})
			continue
		}
		add(rl, e.windowed(rl, store.Op{Kind: store.OpFailure, Key: countKey, TTL: ttl(unix, rl.period), Limit: rl.limit,
			BanKey: banKey, BanTTL: rl.banTime, StopOnCount: rl.kind == kindFail2Ban && rl.enforce}), disc)
		e.escalate(&sc.ops[len(sc.ops)-1], rl, disc)
	}
	sc.candidates = e.throttleIndex.candidates(sc.candidates, r, path)
	for w, set := range sc.candidates { // the candidates, in rule order
		for ; set != 0; set &= set - 1 {
			i := w*64 + bits.TrailingZeros64(set)
			rl := e.throttles[i]
			if e.throttleIndex.settled[w]&(1<<(i%64)) != 0 {
				if !rl.match.holds(r, path) || rl.exempted(r) {
					continue
				}
			} else if !rl.match.matches(r, path) || rl.exempted(r) {
				continue
			}
			span, ok := e.appendCounterKey(sc, rl.keyUnix(unix), rl, r, path)
			if !ok {
				continue
			}
			op := sc.addKeyed(rl, span)
			op.Kind, op.TTL, op.Limit, op.Enforce = store.OpThrottle, ttl(unix, rl.period), rl.limit, rl.enforce
			e.window(rl, op)
		}
	}
	for _, rl := range e.tracks {
		if !rl.match.matches(r, path) {
			continue
		}
		if rl.limit < 0 {
			disc := ""
			if rl.key != nil {
				b, ok := appendDiscriminator(sc.buf[:0], rl, r, path)
				sc.buf = b
				if !ok {
					continue
				}
				disc = string(b)
			}
			// Reported after the program: a throttled request runs no track.
			sc.plainTracks = append(sc.plainTracks, Event{Type: "track", Rule: rl.name, Discriminator: disc, Limit: -1})
			continue
		}
		span, ok := e.appendCounterKey(sc, unix, rl, r, path)
		if !ok {
			continue
		}
		op := sc.addKeyed(rl, span)
		op.Kind, op.TTL, op.Limit = store.OpCount, ttl(unix, rl.period), rl.limit
		e.window(rl, op)
	}
	if len(sc.keys) > 0 {
		keys := string(sc.keys)
		for i, sp := range sc.keySpans {
			if sp.key >= 0 {
				sc.ops[i].Key, sc.discs[i] = keys[sp.key:sp.end], keys[sp.disc:sp.end]
			}
		}
	}
	if len(sc.ops) == 0 {
		d.Events = append(d.Events, sc.plainTracks...)
		return d, nil
	}

	n := len(sc.ops)
	if cap(sc.counts) < n {
		sc.counts, sc.banned, sc.resets = make([]int64, n), make([]bool, n), make([]time.Duration, n)
	}
	res := &sc.res // in the pooled scratch: a local would escape through the interface call
	*res = store.Result{Counts: sc.counts[:n], Banned: sc.banned[:n], Reset: sc.resets[:n]}
	var err error
	if tr == nil {
		err = e.opts.Store.Run(ctx, now, sc.ops, res)
	} else {
		err = tr.peek(ctx, e.opts.Store, now, sc.ops, res)
	}
	if err != nil {
		d.Pending = nil
		return d, err
	}
	markTrusted(d.Pending, res)
	if tr != nil {
		tr.record(sc, res)
	}
	if !res.Now.IsZero() {
		unix = res.Now.Unix() // the store's clock decided the windows
	}
	last := n
	if res.Stop != store.Completed {
		last = res.StopAt + 1
	}
	for i := 0; i < last; i++ {
		rl, op, disc, count := sc.rules[i], &sc.ops[i], sc.discs[i], res.Counts[i]
		switch op.Kind {
		case store.OpBanCheck:
			if !op.Enforce && count > 0 {
				d.Events = append(d.Events, Event{Type: rl.kind.String(), Rule: rl.name, Discriminator: disc, DryRun: true})
			}
			if i == res.StopAt && res.Stop == store.StopBanned {
				d.Action, d.Rule, d.Type, d.Discriminator = ActionBlock, rl.name, rl.kind.String(), disc
				d.RetryAfter = ceilSeconds(res.BanTTL)
				d.Pending = nil
				return d, nil
			}
		case store.OpFailure:
			if res.Banned[i] {
				d.Events = append(d.Events, Event{Type: rl.kind.String(), Rule: rl.name, Discriminator: disc,
					Count: count, Limit: rl.limit, BanStarted: true, DryRun: !rl.enforce})
			}
			if i == res.StopAt && res.Stop == store.StopFailed {
				d.Action, d.Rule, d.Type, d.Discriminator = ActionBlock, rl.name, rl.kind.String(), disc
				d.Count, d.Limit = count, rl.limit
				d.Pending = nil
				return d, nil
			}
		case store.OpThrottle:
			q := quotaOf(rl, count, unix, res.Reset[i])
			// Dry-run throttles must not tell clients to slow down.
			if rl.enforce && (!d.QuotaValid || tighter(q, d.Quota)) {
				d.Quota, d.QuotaValid = q, true
			}
			if count > rl.limit {
				if i == res.StopAt && res.Stop == store.StopThrottled {
					d.Action, d.Rule, d.Type, d.Discriminator = ActionThrottle, rl.name, "throttle", disc
					d.Count, d.Limit, d.RetryAfter = count, rl.limit, q.Reset
					d.Quota = q
					d.Pending = nil
					return d, nil
				}
				d.Events = append(d.Events, Event{Type: "throttle", Rule: rl.name, Discriminator: disc,
					Count: count, Limit: rl.limit, DryRun: true})
			}
		case store.OpCount:
			if count > rl.limit {
				d.Events = append(d.Events, Event{Type: "track", Rule: rl.name, Discriminator: disc, Count: count, Limit: rl.limit})
			}
		}
	}
	d.Events = append(d.Events, sc.plainTracks...)
	return d, nil
}

// ReportResponse counts a response-based failure when status is one of
// the rule's failure statuses. It returns an Event when a ban started.
func (e *Engine) ReportResponse(ctx context.Context, now time.Time, p Pending, status int) (*Event, error) {
	if p.trustKey != "" && slices.Contains(p.rule.trustStatus, status) {
		return nil, e.recordTrust(ctx, now, p)
	}
	if p.trusted || !slices.Contains(p.rule.failure, status) {
		return nil, nil
	}
	// The counter's window was fixed when the request came in; its
	// lifetime counts from then too, however slow the answer was.
	op := e.windowed(p.rule, store.Op{Kind: store.OpFailure, Key: p.countKey,
		TTL: ttl(p.unix, p.rule.period) - now.Sub(time.Unix(p.unix, 0)), Limit: p.rule.limit, BanKey: p.banKey, BanTTL: p.rule.banTime})
	e.escalate(&op, p.rule, p.Discriminator)
	count, banned, err := e.opts.Store.Fail(ctx, now, op)
	if err != nil || !banned {
		return nil, err
	}
	return &Event{Type: p.rule.kind.String(), Rule: p.rule.name, Discriminator: p.Discriminator,
		Count: count, Limit: p.rule.limit, BanStarted: true, DryRun: !p.rule.enforce}, nil
}

// NeedsBody reports whether the body of a request with this method, path
// and Content-Type must be read: some rule that could apply reads body
// params, or a form POST could carry a _method override for a rule bound
// to another method. Other bodies stream through unread.
func (e *Engine) NeedsBody(method, rawPath, contentType string) bool {
	return e.NeedsBodyFor(method, rawPath, "", contentType)
}

// NeedsBodyFor is NeedsBody knowing the query string: a rule whose every
// param is a top-level key of the query (which wins over the body in
// Rails' params) does not need the body — so a widget upload with
// ?website_token=… streams through.
func (e *Engine) NeedsBodyFor(method, rawPath, rawQuery, contentType string) bool {
	if !BodyIsParsed(method, contentType) {
		return false
	}
	r := &Request{Method: method, Path: rawPath, RawQuery: rawQuery}
	path := r.NormalizedPath(e.opts.StripExtension)
	// Rack::MethodOverride reads _method from form and multipart bodies.
	overridable := method == "POST" && railsreq.RackReadsForm(method, contentType)
	for _, group := range [][]*rule{e.safelists, e.blocklists, e.bans, e.throttles, e.tracks} {
		for _, rl := range group {
			uses := rl.match != nil && rl.match.usesParams
			for _, p := range rl.key {
				uses = uses || p.usesParams()
			}
			if uses && rl.match.mayMatch(r, "", path) && !r.queryDecides(rl) {
				return true
			}
			// A POST whose form body is not read keeps POST (see
			// Request.BodyUnread), so only rules of other methods need it.
			if overridable && rl.match != nil && rl.match.bindsOtherMethod("POST") && rl.match.mayMatch(r, "", path) {
				return true
			}
		}
	}
	return false
}

// queryDecides reports whether every param rl reads is a top-level key
// of a readable query string.
func (r *Request) queryDecides(rl *rule) bool {
	if r.RawQuery == "" || r.view().QueryErr() != nil {
		return false
	}
	for _, name := range rl.paramNames() {
		if !r.view().InQuery(name) {
			return false
		}
	}
	return true
}

// ttl is Rack::Attack's expires_in: to the end of the window plus one
// second against clock-tick races.
func ttl(unix, period int64) time.Duration {
	return time.Duration(period-unix%period+1) * time.Second
}

func quota(rl *rule, count, unix int64) Quota {
	return Quota{Policy: rl.name, Limit: rl.limit, Window: rl.period,
		Remaining: max(rl.limit-count, 0), Reset: rl.period - unix%rl.period}
}

// tighter prefers the quota with fewer requests left, then the one that
// resets later.
func tighter(a, b Quota) bool {
	if a.Remaining != b.Remaining {
		return a.Remaining < b.Remaining
	}
	return a.Reset > b.Reset
}

func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

func (rl *rule) listMatch(r *Request, path string) bool {
	if len(rl.ips) > 0 && !ipIn(r.IP, rl.ips) {
		return false
	}
	return rl.match.matches(r, path)
}

func ipIn(ip netip.Addr, list []netip.Prefix) bool {
	if !ip.IsValid() {
		return false // a missing or junk client IP never matches
	}
	for _, p := range list {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
