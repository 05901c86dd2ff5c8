package replay

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store"
)

// ruleStats is what one rule did over the log.
type ruleStats struct {
	info rules.RuleInfo
	row  rules.Row

	counted     int64 // requests the rule counted (lists: matched)
	refused     int64 // requests it refused (dry-run: would have)
	throttled   int64
	blocked     int64
	bansStarted int64
	overLimit   int64 // tracks
	keys        map[string]*keyStat
	first, last time.Time
	timeline    map[int64]int64 // raw bucket (unix / raw) → refusals
	raw         int64           // seconds per raw timeline bucket

	notEvalTotal int64
	notEval      map[string]int64 // reason → requests
	assumedTotal int64
	assumed      map[string]int64

	tune *tuneStats // throttles, in tune runs
}

type keyStat struct {
	refused     int64
	first, last time.Time
}

func newRuleStats(info rules.RuleInfo) *ruleStats {
	return &ruleStats{info: info, raw: 60, keys: map[string]*keyStat{}, timeline: map[int64]int64{},
		notEval: map[string]int64{}, assumed: map[string]int64{}}
}

func (rs *ruleStats) refuse(t time.Time, key string, throttle bool) {
	rs.refused++
	if throttle {
		rs.throttled++
	} else {
		rs.blocked++
	}
	if rs.first.IsZero() || t.Before(rs.first) {
		rs.first = t
	}
	if t.After(rs.last) {
		rs.last = t
	}
	rs.timeline[t.Unix()/rs.raw]++
	ks := rs.keys[key]
	if ks == nil {
		ks = &keyStat{first: t}
		rs.keys[strings.Clone(key)] = ks
	}
	ks.refused++
	ks.last = t
}

func (rs *ruleStats) notEvaluated(why string) {
	rs.notEvalTotal++
	rs.notEval[why]++
}

// recorder is the lane's store: the memory store, watched so that every
// counter a rule increments is attributed to that rule.
type recorder struct {
	store.Store
	lane *lane
}

func (r *recorder) Run(ctx context.Context, now time.Time, program []store.Op, res *store.Result) error {
	if err := r.Store.Run(ctx, now, program, res); err != nil {
		return err
	}
	last := len(program)
	if res.Stop != store.Completed {
		last = res.StopAt + 1
	}
	for i := 0; i < last; i++ {
		op := &program[i]
		switch op.Kind {
		case store.OpThrottle, store.OpCount, store.OpFailure:
			if res.Counts[i] == 0 {
				continue // a failure skipped under a dry-run ban
			}
			idx, win, disc, ok := r.lane.keys.Parse(op.Key)
			if !ok {
				continue
			}
			rs := r.lane.stats[idx]
			rs.counted++
			if rs.tune != nil && op.Kind == store.OpThrottle {
				rs.tune.record(win, disc, res.Counts[i])
			}
		}
	}
	return nil
}

func (r *recorder) Fail(ctx context.Context, now time.Time, op store.Op) (int64, bool, error) {
	c, banned, err := r.Store.Fail(ctx, now, op)
	if err == nil {
		if idx, _, _, ok := r.lane.keys.Parse(op.Key); ok {
			r.lane.stats[idx].counted++
		}
	}
	return c, banned, err
}

// need lists what a rule reads that a log may not have.
type need struct {
	rule  int
	items []needItem
}

type needKind uint8

const (
	needPresent needKind = iota
	needAbsent
	needHeader
	needKey
)

type needItem struct {
	kind   needKind
	names  []string // the param, the header, or a key part's alternatives
	reason string
}

// needOf returns the reads of rule i that depend on more than method,
// path and client.
func needOf(i int, info rules.RuleInfo) (need, bool) {
	n := need{rule: i}
	for _, p := range info.Present {
		n.items = append(n.items, needItem{needPresent, []string{p},
			"needs param " + p + ", which is not in the query string (request bodies are not logged)"})
	}
	for _, h := range info.Headers {
		n.items = append(n.items, needItem{needHeader, []string{h}, "tests header " + h + ", which the log does not have"})
	}
	for _, part := range info.Key {
		plain := true
		for _, alt := range part {
			plain = plain && (alt == "ip" || strings.HasPrefix(alt, "capture:"))
		}
		if plain {
			continue
		}
		n.items = append(n.items, needItem{needKey, part, "key needs " + strings.Join(part, " or ") +
			", which the log does not have (request bodies and most headers are not logged)"})
	}
	for _, p := range info.Absent {
		n.items = append(n.items, needItem{needAbsent, []string{p},
			"param " + p + " assumed absent (not in the query string; request bodies are not logged)"})
	}
	return n, len(n.items) > 0
}

// check records whether req, which fits the rule's method and path,
// could be evaluated from what the log holds.
func (n need) check(rs *ruleStats, req *rules.Request, rec *Record) {
	var assumed []string
	for _, it := range n.items {
		switch it.kind {
		case needPresent:
			if _, ok := req.Param(it.names[0]); !ok {
				rs.notEvaluated(it.reason)
				return
			}
		case needHeader:
			if !logsHeader(rec, it.names[0]) {
				rs.notEvaluated(it.reason)
				return
			}
		case needKey:
			found := false
			for _, alt := range it.names {
				found = found || available(alt, req, rec)
			}
			if !found {
				rs.notEvaluated(it.reason)
				return
			}
		case needAbsent:
			if _, ok := req.Param(it.names[0]); !ok {
				assumed = append(assumed, it.reason)
			}
		}
	}
	if len(assumed) > 0 {
		rs.assumedTotal++
		for _, a := range assumed {
			rs.assumed[a]++
		}
	}
}

func available(src string, req *rules.Request, rec *Record) bool {
	kind, arg, _ := strings.Cut(src, ":")
	switch kind {
	case "ip", "capture":
		return true
	case "param":
		_, ok := req.Param(arg)
		return ok
	case "header":
		return logsHeader(rec, arg)
	}
	return false
}

func logsHeader(rec *Record, name string) bool {
	switch http.CanonicalHeaderKey(strings.ReplaceAll(name, "_", "-")) {
	case "User-Agent":
		return rec.HasUA
	case "Referer":
		return rec.HasReferer
	case "X-Forwarded-For":
		return rec.HasXFF
	}
	return false
}

// comparison is how a config's refusals differ from the baseline's,
// request by request.
type comparison struct {
	newly, gone     int64
	newlyBy, goneBy map[string]int64
}

func newComparison() *comparison {
	return &comparison{newlyBy: map[string]int64{}, goneBy: map[string]int64{}}
}

// add records one request; each side's client is as its own client_ip
// rules resolved it.
func (c *comparison) add(base, other bool, baseClient, otherClient netip.Addr) {
	switch {
	case other && !base:
		c.newly++
		c.newlyBy[otherClient.String()]++
	case base && !other:
		c.gone++
		c.goneBy[baseClient.String()]++
	}
}
