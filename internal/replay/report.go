package replay

import (
	"cmp"
	"slices"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
)

// Report is the outcome of a replay, ready to print as text, JSON or HTML.
type Report struct {
	Files       []string  `json:"files"`
	Lines       int64     `json:"lines"`
	Requests    int64     `json:"requests"`
	BadLines    int64     `json:"bad_lines"`
	BadExamples []BadLine `json:"bad_examples,omitempty"`
	OutOfOrder  int64     `json:"out_of_order_lines,omitempty"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Elapsed     float64   `json:"elapsed_seconds"`
	Masked      bool      `json:"keys_masked"`
	// BucketSeconds is the width of each Timeline entry, starting at
	// TimelineStart.
	BucketSeconds int64          `json:"bucket_seconds"`
	TimelineStart time.Time      `json:"timeline_start"`
	Buckets       int            `json:"buckets"`
	Configs       []ConfigReport `json:"configs"`
	Compare       []Comparison   `json:"compare,omitempty"`
}

// ConfigReport is what one configuration did.
type ConfigReport struct {
	Config         string           `json:"config"`
	Decisions      map[string]int64 `json:"decisions"` // pass, safelist, throttle, block
	Refused        int64            `json:"refused"`
	RefusedClients int64            `json:"refused_clients"`
	StoreErrors    int64            `json:"store_errors,omitempty"`
	StoreEvictions int64            `json:"store_evictions,omitempty"`
	Rules          []RuleReport     `json:"rules"`
}

// RuleReport is what one rule did.
type RuleReport struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Mode   string `json:"mode"` // enforce, dry-run (reported as if enforced), report (tracks)
	DryRun bool   `json:"dry_run"`
	Source string `json:"source,omitempty"`
	Match  string `json:"match,omitempty"`
	Key    string `json:"key,omitempty"`
	Limit  string `json:"limit,omitempty"`
	// Counted is how many requests the rule counted (lists: matched).
	Counted int64 `json:"counted"`
	// Refused is how many it refused; for a dry-run rule, would have.
	Refused      int64      `json:"refused"`
	Throttled    int64      `json:"throttled"`
	Blocked      int64      `json:"blocked"`
	BansStarted  int64      `json:"bans_started"`
	OverLimit    int64      `json:"over_limit,omitempty"` // tracks
	KeysAffected int        `json:"keys_affected"`
	TopKeys      []KeyCount `json:"top_keys,omitempty"`
	FirstRefusal *time.Time `json:"first_refusal,omitempty"`
	LastRefusal  *time.Time `json:"last_refusal,omitempty"`
	Timeline     []int64    `json:"timeline,omitempty"` // refusals per bucket
	// NotEvaluated counts requests that fit the rule's method and path
	// but lack what it reads (a body param, a header), with the reasons.
	NotEvaluated    int64    `json:"not_evaluated"`
	NotEvaluatedWhy []Reason `json:"not_evaluated_why,omitempty"`
	// Assumed counts requests evaluated on an assumption (a param_absent
	// param that may have been in the unlogged body).
	Assumed    int64    `json:"assumed"`
	AssumedWhy []Reason `json:"assumed_why,omitempty"`
}

// KeyCount is one refused key.
type KeyCount struct {
	Key     string    `json:"key"`
	Refused int64     `json:"refused"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

// Reason is a count with its explanation.
type Reason struct {
	Reason   string `json:"reason"`
	Requests int64  `json:"requests"`
}

// Comparison is how a config's refusals differ from the first config's.
type Comparison struct {
	Baseline       string       `json:"baseline"`
	Config         string       `json:"config"`
	NewlyRefused   int64        `json:"newly_refused"` // refused by Config, passed by Baseline
	NoLonger       int64        `json:"no_longer_refused"`
	NewlyClients   []KeyCount   `json:"newly_refused_clients,omitempty"`
	NoLongerClient []KeyCount   `json:"no_longer_refused_clients,omitempty"`
	Rules          []RuleChange `json:"rules"`
}

// RuleChange is one rule's refusals under both configs.
type RuleChange struct {
	Type         string `json:"type"`
	Name         string `json:"name"`
	Baseline     int64  `json:"baseline_refused"`
	Config       int64  `json:"config_refused"`
	BaselineKeys int    `json:"baseline_keys"`
	ConfigKeys   int    `json:"config_keys"`
	Change       string `json:"change"` // "", added, removed, changed
}

func (res *result) report(o Options) *Report {
	r := &Report{Files: res.files, Lines: res.read.lines.Load(), Requests: res.requests, BadLines: res.read.bad,
		BadExamples: res.read.badSamples, OutOfOrder: res.outOfOrder, From: res.from, To: res.to,
		Elapsed: res.elapsed.Seconds(), Masked: !o.Unmask}
	bucket := chooseBucket(res.to.Sub(res.from), o.Bucket)
	r.BucketSeconds = int64(bucket / time.Second)
	if !res.from.IsZero() {
		r.TimelineStart = time.Unix(res.from.Unix()/r.BucketSeconds*r.BucketSeconds, 0).UTC()
		r.Buckets = int(res.to.Unix()/r.BucketSeconds-res.from.Unix()/r.BucketSeconds) + 1
	}
	mask := func(k string) string {
		if o.Unmask {
			return k
		}
		return gateway.MaskKey(k)
	}
	for _, l := range res.lanes {
		cr := ConfigReport{Config: l.name, Decisions: l.decisions, Refused: l.refused,
			RefusedClients: int64(len(l.refusedBy)), StoreErrors: l.errors, StoreEvictions: l.store.Evictions()}
		for _, rs := range l.stats {
			cr.Rules = append(cr.Rules, rs.report(r, o.Top, mask))
		}
		r.Configs = append(r.Configs, cr)
	}
	for i, c := range res.compare {
		base, other := r.Configs[0], r.Configs[i+1]
		cmpr := Comparison{Baseline: base.Config, Config: other.Config, NewlyRefused: c.newly, NoLonger: c.gone,
			NewlyClients: topCounts(c.newlyBy, o.Top, mask), NoLongerClient: topCounts(c.goneBy, o.Top, mask)}
		cmpr.Rules = compareRules(base.Rules, other.Rules)
		r.Compare = append(r.Compare, cmpr)
	}
	return r
}

func (rs *ruleStats) report(r *Report, top int, mask func(string) string) RuleReport {
	info := rs.info
	rr := RuleReport{Type: info.Type, Name: info.Name, DryRun: info.DryRun, Mode: "enforce",
		Source: rs.row.Source, Match: rs.row.Match, Key: rs.row.Key, Limit: rs.row.Limit,
		Counted: rs.counted, Refused: rs.refused, Throttled: rs.throttled, Blocked: rs.blocked,
		BansStarted: rs.bansStarted, OverLimit: rs.overLimit, KeysAffected: len(rs.keys),
		NotEvaluated: rs.notEvalTotal, Assumed: rs.assumedTotal,
		NotEvaluatedWhy: reasons(rs.notEval), AssumedWhy: reasons(rs.assumed)}
	switch {
	case info.Type == "track":
		rr.Mode = "report"
	case info.DryRun:
		rr.Mode = "dry-run"
	}
	if rs.refused > 0 {
		first, last := rs.first.UTC(), rs.last.UTC()
		rr.FirstRefusal, rr.LastRefusal = &first, &last
		rr.Timeline = make([]int64, r.Buckets)
		start := r.TimelineStart.Unix()
		for raw, n := range rs.timeline {
			if b := int((raw*rs.raw - start) / r.BucketSeconds); b >= 0 && b < len(rr.Timeline) {
				rr.Timeline[b] += n
			}
		}
	}
	keys := make([]KeyCount, 0, len(rs.keys))
	for k, ks := range rs.keys {
		keys = append(keys, KeyCount{Key: k, Refused: ks.refused, First: ks.first.UTC(), Last: ks.last.UTC()})
	}
	slices.SortFunc(keys, func(a, b KeyCount) int {
		return cmp.Or(cmp.Compare(b.Refused, a.Refused), cmp.Compare(a.Key, b.Key))
	})
	keys = keys[:min(len(keys), top)]
	for i := range keys {
		keys[i].Key = mask(keys[i].Key)
	}
	rr.TopKeys = keys
	return rr
}

func reasons(m map[string]int64) []Reason {
	var out []Reason
	for why, n := range m {
		out = append(out, Reason{Reason: why, Requests: n})
	}
	slices.SortFunc(out, func(a, b Reason) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.Reason, b.Reason))
	})
	return out
}

func topCounts(m map[string]int64, top int, mask func(string) string) []KeyCount {
	var out []KeyCount
	for k, n := range m {
		out = append(out, KeyCount{Key: k, Refused: n})
	}
	slices.SortFunc(out, func(a, b KeyCount) int {
		return cmp.Or(cmp.Compare(b.Refused, a.Refused), cmp.Compare(a.Key, b.Key))
	})
	out = out[:min(len(out), top)]
	for i := range out {
		out[i].Key = mask(out[i].Key)
	}
	return out
}

func compareRules(base, other []RuleReport) []RuleChange {
	id := func(r RuleReport) string { return groupOf(r.Type) + "\x00" + r.Name }
	byID := map[string]RuleReport{}
	for _, r := range other {
		byID[id(r)] = r
	}
	seen := map[string]bool{}
	var out []RuleChange
	for _, b := range base {
		c := RuleChange{Type: b.Type, Name: b.Name, Baseline: b.Refused, BaselineKeys: b.KeysAffected}
		if o, ok := byID[id(b)]; ok {
			c.Config, c.ConfigKeys = o.Refused, o.KeysAffected
			if o.Limit != b.Limit || o.Match != b.Match || o.Key != b.Key || o.Mode != b.Mode {
				c.Change = "changed"
			}
		} else {
			c.Change = "removed"
		}
		seen[id(b)] = true
		out = append(out, c)
	}
	for _, o := range other {
		if !seen[id(o)] {
			out = append(out, RuleChange{Type: o.Type, Name: o.Name, Config: o.Refused, ConfigKeys: o.KeysAffected, Change: "added"})
		}
	}
	return out
}

// chooseBucket picks the timeline width: the one asked for, else the
// smallest of a few round widths that gives at most 120 buckets.
func chooseBucket(span, want time.Duration) time.Duration {
	if want >= time.Second {
		return want.Truncate(time.Second)
	}
	for _, b := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour,
		6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
		if span/b < 120 {
			return b
		}
	}
	return 30 * 24 * time.Hour
}
