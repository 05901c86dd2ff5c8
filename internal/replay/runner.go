package replay

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"time"

	"github.com/wootguard/wootguard/internal/clientip"
	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// Config is one configuration to replay: the same checked config `serve`
// runs with.
type Config struct {
	Name    string // shown in reports (usually the file name)
	Gateway *config.Gateway
}

// Options configures a run.
type Options struct {
	Read   ReadOptions
	Top    int           // top keys per rule (default 10)
	Unmask bool          // show keys as they are instead of gateway.MaskKey
	Bucket time.Duration // timeline bucket; 0 picks one for the log's span
	// Progress gets a progress line (rate, ETA) a few times a second; nil
	// is quiet.
	Progress io.Writer
	// OnDecision, when set, sees every decision (lane = index of the
	// config).
	OnDecision func(lane int, rec *Record, d rules.Decision)

	tune bool // collect per-key window counts, throttles counted as dry-run
}

// Run replays srcs through every config (the first is the baseline of a
// comparison) and returns the report.
func Run(ctx context.Context, configs []Config, srcs []Source, o Options) (*Report, error) {
	if o.Top <= 0 {
		o.Top = 10
	}
	res, err := run(ctx, configs, srcs, o)
	if err != nil {
		return nil, err
	}
	return res.report(o), nil
}

// result is what a run collected, before it is rendered into a Report.
type result struct {
	files      []string
	lanes      []*lane
	read       *readStats
	requests   int64
	outOfOrder int64
	from, to   time.Time
	elapsed    time.Duration
	compare    []*comparison
}

func run(ctx context.Context, configs []Config, srcs []Source, o Options) (*result, error) {
	if len(configs) == 0 {
		return nil, fmt.Errorf("replay: no config")
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("replay: no log to read")
	}
	if o.Top <= 0 {
		o.Top = 10
	}
	srcs = chronological(srcs, o.Read)
	res := &result{read: &readStats{bytesTotal: sizeOf(srcs)}}
	for _, s := range srcs {
		res.files = append(res.files, s.Name)
	}
	for i, c := range configs {
		l, err := newLane(c, o.tune, rawBucketFor(o.Bucket))
		if err != nil {
			for _, l := range res.lanes {
				l.store.Close()
			}
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		defer l.store.Close()
		res.lanes = append(res.lanes, l)
		if i > 0 {
			res.compare = append(res.compare, newComparison())
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []Record, 8)
	readErr := make(chan error, 1)
	go func() { readErr <- read(ctx, srcs, o.Read, res.read, batches) }()
	stopProgress := startProgress(o.Progress, res.read)
	start := time.Now()
	var last time.Time
	refused := make([]bool, len(res.lanes))
	for batch := range batches {
		for i := range batch {
			rec := &batch[i]
			res.requests++
			if res.from.IsZero() || rec.Time.Before(res.from) {
				res.from = rec.Time
			}
			if rec.Time.After(res.to) {
				res.to = rec.Time
			}
			if !last.IsZero() && rec.Time.Before(last.Add(-time.Second)) {
				res.outOfOrder++
			}
			last = rec.Time
			for li, l := range res.lanes {
				d, err := l.decide(ctx, rec)
				if err != nil {
					cancel()
					stopProgress()
					for range batches {
					}
					return nil, err
				}
				refused[li] = d.Action != rules.ActionPass
				if o.OnDecision != nil {
					o.OnDecision(li, rec, d)
				}
			}
			for ci, c := range res.compare {
				c.add(refused[0], refused[ci+1], res.lanes[0].lastClient, res.lanes[ci+1].lastClient)
			}
		}
	}
	stopProgress()
	if err := <-readErr; err != nil {
		return nil, err
	}
	res.elapsed = time.Since(start)
	return res, nil
}

// lane is one configuration's engine, store and statistics.
type lane struct {
	name     string
	eng      *rules.Engine
	store    *memory.Store
	resolver *clientip.Resolver
	infos    []rules.RuleInfo
	keys     *rules.KeyIndex
	stats    []*ruleStats
	byType   map[string]map[string]int // type → name → rule index
	needs    []need
	headers  bool // some rule reads a header: build one per request
	tune     bool

	decisions  map[string]int64
	errors     int64
	refused    int64
	refusedBy  map[string]int64 // client → refused requests
	lastClient netip.Addr

	sinceSweep int
	lastSweep  time.Time
}

// rawBucketFor is the timeline resolution kept while reading: a minute,
// or the asked-for bucket when a minute does not divide it.
func rawBucketFor(bucket time.Duration) int64 {
	if s := int64(bucket / time.Second); s > 0 && s%60 != 0 {
		return s
	}
	return 60
}

func newLane(c Config, tune bool, raw int64) (*lane, error) {
	g := c.Gateway
	if tune {
		cp := *g
		cp.Spec.Throttles = append([]rules.Throttle(nil), g.Spec.Throttles...)
		for i := range cp.Spec.Throttles {
			cp.Spec.Throttles[i].Mode = rules.ModeDryRun
		}
		g = &cp
	}
	// No background sweeper: it would expire keys by the wall clock, and
	// the log's clock is the only one here.
	st := memory.New(memory.Options{MaxKeys: g.MaxKeys, SweepEvery: -1})
	l := &lane{name: c.Name, store: st, tune: tune,
		resolver:  clientip.NewWithHeader(g.TrustedProxies, clientip.Header(g.ClientIPHeader)),
		decisions: map[string]int64{}, refusedBy: map[string]int64{}, byType: map[string]map[string]int{}}
	eng, err := gateway.Engine(g, &recorder{Store: st, lane: l})
	if err != nil {
		st.Close()
		return nil, err
	}
	l.eng = eng
	l.infos = eng.Rules()
	l.keys = eng.KeyIndex()
	rows := rules.Describe(c.Gateway.Spec)
	for i, info := range l.infos {
		rs := newRuleStats(info)
		rs.raw = raw
		if tune && info.Type == "throttle" {
			rs.tune = &tuneStats{keys: map[string]*keyWindows{}}
		}
		if i < len(rows) && rows[i].Name == info.Name {
			rs.row = rows[i]
		}
		l.stats = append(l.stats, rs)
		group := groupOf(info.Type)
		if l.byType[group] == nil {
			l.byType[group] = map[string]int{}
		}
		l.byType[group][info.Name] = i
		if n, ok := needOf(i, info); ok {
			l.needs = append(l.needs, n)
		}
		if len(info.Headers) > 0 {
			l.headers = true
		}
		for _, part := range info.Key {
			for _, alt := range part {
				if len(alt) > 7 && alt[:7] == "header:" {
					l.headers = true
				}
			}
		}
	}
	return l, nil
}

// groupOf maps a decision type to its rule namespace (both ban kinds
// share one).
func groupOf(typ string) string {
	if typ == "allow2ban" {
		return "fail2ban"
	}
	return typ
}

func (l *lane) rule(typ, name string) *ruleStats {
	if i, ok := l.byType[groupOf(typ)][name]; ok {
		return l.stats[i]
	}
	return nil
}

func (l *lane) decide(ctx context.Context, rec *Record) (rules.Decision, error) {
	var hdr http.Header
	if l.headers || rec.HasXFF {
		hdr = http.Header{}
		if rec.HasUA && rec.UserAgent != "" {
			hdr["User-Agent"] = []string{rec.UserAgent}
		}
		if rec.HasReferer && rec.Referer != "" {
			hdr["Referer"] = []string{rec.Referer}
		}
		if rec.HasXFF && rec.XFF != "" {
			hdr["X-Forwarded-For"] = []string{rec.XFF}
		}
	}
	client := rec.Client
	if !client.IsValid() && !rec.UnknownClient {
		client = l.resolver.Client(rec.Peer, hdr)
	}
	l.lastClient = client
	// As the gateway: a client it cannot resolve counts in the one
	// unknown bucket, never as the proxy.
	req := &rules.Request{Method: rec.Method, Path: rec.Path, RawQuery: rec.Query, IP: client, Header: hdr,
		UnknownClient: !client.IsValid()}
	d, err := l.eng.Decide(ctx, rec.Time, req)
	if err != nil {
		// The memory store does not fail; count it the way the gateway
		// treats it (the request passes) and say so.
		l.errors++
	}
	l.account(rec, req, client, &d)
	for _, p := range d.Pending {
		typ, name := p.Rule()
		rs := l.rule(typ, name)
		if !rec.forwarded() || rec.Status == 0 {
			if rs != nil {
				why := "the upstream's status is not in the log"
				if !rec.forwarded() {
					why = "the logged request was refused, so the upstream's status is unknown"
				}
				rs.notEvaluated(why)
			}
			continue
		}
		ev, err := l.eng.ReportResponse(ctx, rec.Time, p, rec.Status)
		if err != nil {
			l.errors++
			continue
		}
		if ev != nil {
			l.event(rec, client, *ev)
		}
	}
	if l.sinceSweep++; l.sinceSweep >= 65536 && rec.Time.Sub(l.lastSweep) >= time.Minute {
		l.store.Sweep(rec.Time)
		l.sinceSweep, l.lastSweep = 0, rec.Time
	}
	return d, nil
}

// account records a decision in the lane's statistics.
func (l *lane) account(rec *Record, req *rules.Request, client netip.Addr, d *rules.Decision) {
	switch {
	case d.Action == rules.ActionPass && d.Type == "safelist":
		l.decisions["safelist"]++
		if rs := l.rule("safelist", d.Rule); rs != nil {
			rs.counted++
		}
	case d.Action == rules.ActionPass:
		l.decisions["pass"]++
	default:
		l.decisions[d.Action.String()]++
		l.refused++
		l.refusedBy[client.String()]++
		if rs := l.rule(d.Type, d.Rule); rs != nil {
			if d.Type == "blocklist" {
				rs.counted++
			}
			rs.refuse(rec.Time, l.keyOf(d.Discriminator, client), d.Action == rules.ActionThrottle)
		}
	}
	for _, ev := range d.Events {
		l.event(rec, client, ev)
	}
	if d.Action == rules.ActionPass && d.Type == "safelist" {
		return // nothing else was evaluated
	}
	for _, n := range l.needs {
		if l.eng.MayApply(n.rule, req) {
			n.check(l.stats[n.rule], req, rec)
		}
	}
}

func (l *lane) event(rec *Record, client netip.Addr, ev rules.Event) {
	rs := l.rule(ev.Type, ev.Rule)
	if rs == nil {
		return
	}
	switch {
	case ev.BanStarted:
		rs.bansStarted++
	case ev.Type == "track":
		if ev.Limit < 0 {
			rs.counted++ // a track without a limit counts nothing in the store
		} else {
			rs.overLimit++
		}
	case ev.Type == "safelist":
		rs.counted++ // a dry-run safelist matched: it would have let the request through
	case ev.DryRun:
		if ev.Type == "blocklist" {
			rs.counted++
		}
		rs.refuse(rec.Time, l.keyOf(ev.Discriminator, client), ev.Type == "throttle")
	}
}

// keyOf is the key a refusal is reported under: the rule's discriminator,
// or the client for list rules.
func (l *lane) keyOf(disc string, client netip.Addr) string {
	if disc != "" {
		return disc
	}
	return client.String()
}
