package replay

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/preset"
	"github.com/wootguard/wootguard/internal/rules"
)

// TuneOptions configures a proposal.
type TuneOptions struct {
	Options
	Headroom    float64 // multiplies the percentile (default 2)
	Percentile  float64 // of per-key counts per window (default 99.9)
	AbuseFactor float64 // a key whose peak window exceeds this × the median peak is abusive (default 10)
	// BelowDefault allows proposals under Chatwoot's default for its
	// login and password-reset rules.
	BelowDefault bool
	Rules        []string // only these throttles (empty: all)
}

// TuneReport is a proposal for every throttle with traffic in the log.
type TuneReport struct {
	Config      string     `json:"config"`
	Files       []string   `json:"files"`
	Requests    int64      `json:"requests"`
	BadLines    int64      `json:"bad_lines"`
	BadExamples []BadLine  `json:"bad_examples,omitempty"`
	From        time.Time  `json:"from"`
	To          time.Time  `json:"to"`
	Headroom    float64    `json:"headroom"`
	Percentile  float64    `json:"percentile"`
	AbuseFactor float64    `json:"abuse_factor"`
	Proposals   []Proposal `json:"proposals"`

	spec rules.Spec
}

// Proposal is one throttle's proposed limit and what it would cost.
type Proposal struct {
	Name          string `json:"name"`
	Period        string `json:"period"`
	Current       int64  `json:"current_limit"`
	Proposed      int64  `json:"proposed_limit"`
	NoTraffic     bool   `json:"no_traffic,omitempty"`
	Keys          int    `json:"keys"`    // distinct keys the rule counted
	Windows       int    `json:"windows"` // (key, window) samples
	Requests      int64  `json:"requests"`
	MedianPeak    int64  `json:"median_peak"` // median over keys of their busiest window
	PercentileVal int64  `json:"percentile"`  // the percentile of non-abusive samples
	ChatwootFloor int64  `json:"chatwoot_floor,omitempty"`
	FloorApplied  bool   `json:"floor_applied,omitempty"`
	Basis         string `json:"basis"`
	// Excluded are the keys left out as obviously abusive.
	ExcludedKeys int       `json:"excluded_keys"`
	Excluded     []PeakKey `json:"excluded,omitempty"`
	CurrentCost  Cost      `json:"current_cost"`
	ProposedCost Cost      `json:"proposed_cost"`
	// Untracked counts keys beyond the per-rule bound (their samples are
	// missing from the percentile).
	Untracked int64 `json:"untracked_keys,omitempty"`
	// FewKeys: fewer than MinTuneKeys keys were left after excluding the
	// abusive ones, so the current limit is kept (Basis says why).
	FewKeys bool `json:"few_keys,omitempty"`
}

// MinTuneKeys is the fewest non-abusive keys a throttle needs for a
// proposal. Abuse is judged against the median key, and among a handful
// of keys a lone brute-forcer is that median (or close to it): its
// attempts would be taken for normal use and the limit raised to let them
// through.
const MinTuneKeys = 10

// PeakKey is a key with its busiest window's count.
type PeakKey struct {
	Key  string `json:"key"`
	Peak int64  `json:"peak_window_count"`
}

// Cost is what a limit would have refused in this log.
type Cost struct {
	Keys          int   `json:"keys"`
	Requests      int64 `json:"requests"`
	LegitKeys     int   `json:"legit_keys"` // of those, keys not excluded as abusive
	LegitRequests int64 `json:"legit_requests"`
}

// maxTuneKeys bounds the keys followed per throttle.
const maxTuneKeys = 2_000_000

// tuneStats follows, for one throttle, every key's count in every window.
type tuneStats struct {
	keys      map[string]*keyWindows
	untracked int64
}

type keyWindows struct {
	win     int64
	count   int32
	samples []int32 // finished windows
}

func (t *tuneStats) record(win int64, disc string, count int64) {
	kw := t.keys[disc]
	if kw == nil {
		if len(t.keys) >= maxTuneKeys {
			t.untracked++
			return
		}
		kw = &keyWindows{win: win}
		t.keys[strings.Clone(disc)] = kw
	}
	c := int32(min(count, math.MaxInt32))
	switch {
	case win == kw.win:
		kw.count = max(kw.count, c)
	case win > kw.win:
		if kw.count > 0 {
			kw.samples = append(kw.samples, kw.count)
		}
		kw.win, kw.count = win, c
	}
	// A late line for an earlier window changes a finished sample by one
	// at most; it is left out.
}

// authRules are Chatwoot's login and password-reset throttles, whose
// preset limits are a floor for proposals.
var authRules = []string{"login/", "super_admin_login/", "reset_password/", "mfa_login/", "mfa_setup_login/",
	"mfa_verification/", "resend_confirmation"}

// Check reports options Tune would refuse (zero values take the defaults).
func (o TuneOptions) Check() error { return o.withDefaults() }

// withDefaults fills the zero values and checks the rest. Each test says
// what is wanted, so that NaN (which fails every comparison) is refused.
func (o *TuneOptions) withDefaults() error {
	if o.Headroom == 0 {
		o.Headroom = 2
	}
	if o.Percentile == 0 {
		o.Percentile = 99.9
	}
	if o.AbuseFactor == 0 {
		o.AbuseFactor = 10
	}
	if !(o.Headroom >= 1 && o.Headroom <= 1e6) || !(o.Percentile > 0 && o.Percentile <= 100) || !(o.AbuseFactor > 1 && o.AbuseFactor <= 1e6) {
		return fmt.Errorf("want --headroom from 1 to 1e6, --percentile above 0 and at most 100, --abuse-factor above 1 (got %g, %g, %g)", o.Headroom, o.Percentile, o.AbuseFactor)
	}
	return nil
}

// Tune replays srcs through cfg with every throttle counted as dry-run,
// and proposes a limit for each throttle.
func Tune(ctx context.Context, cfg Config, srcs []Source, o TuneOptions) (*TuneReport, error) {
	if err := o.withDefaults(); err != nil {
		return nil, err
	}
	if o.Top <= 0 {
		o.Top = 10
	}
	if err := CheckTuneRules(cfg, o.Rules); err != nil {
		return nil, fmt.Errorf("tune: %w", err)
	}
	ro := o.Options
	ro.tune = true
	res, err := run(ctx, []Config{cfg}, srcs, ro)
	if err != nil {
		return nil, err
	}
	defaults, _ := preset.Chatwoot(func(string) string { return "" })
	floors := map[string]int64{}
	for _, t := range defaults.Throttles {
		for _, p := range authRules {
			if strings.HasPrefix(t.Name, p) && t.Limit != nil {
				floors[t.Name] = *t.Limit
			}
		}
	}
	tr := &TuneReport{Config: cfg.Name, Files: res.files, Requests: res.requests, BadLines: res.read.bad,
		BadExamples: res.read.badSamples, From: res.from, To: res.to, Headroom: o.Headroom,
		Percentile: o.Percentile, AbuseFactor: o.AbuseFactor, spec: cfg.Gateway.Spec}
	mask := func(k string) string {
		if o.Unmask {
			return k
		}
		return gateway.MaskKey(k)
	}
	for _, rs := range res.lanes[0].stats {
		if rs.tune == nil || (len(o.Rules) > 0 && !slices.Contains(o.Rules, rs.info.Name)) {
			continue
		}
		floor, hasFloor := floors[rs.info.Name]
		if o.BelowDefault {
			hasFloor = false
		}
		tr.Proposals = append(tr.Proposals, propose(rs, o, floor, hasFloor, mask))
	}
	return tr, nil
}

// CheckTuneRules reports a name (--rule) that is no throttle of cfg's
// effective rules: a usage error, found before any log is read.
func CheckTuneRules(cfg Config, names []string) error {
	for _, name := range names {
		if !slices.ContainsFunc(cfg.Gateway.Spec.Throttles, func(t rules.Throttle) bool { return t.Name == name }) {
			return fmt.Errorf("no throttle named %q in the effective rules (wootguard rules lists them)", name)
		}
	}
	return nil
}

type keyPeak struct {
	key     string
	peak    int64
	samples []int32
}

func propose(rs *ruleStats, o TuneOptions, floor int64, hasFloor bool, mask func(string) string) Proposal {
	p := Proposal{Name: rs.info.Name, Period: rules.Duration(time.Duration(rs.info.Period) * time.Second).String(),
		Current: rs.info.Limit, Untracked: rs.tune.untracked}
	if hasFloor {
		p.ChatwootFloor = floor
	}
	var keys []keyPeak
	for k, kw := range rs.tune.keys {
		s := kw.samples
		if kw.count > 0 {
			s = append(s, kw.count)
		}
		kp := keyPeak{key: k, samples: s}
		for _, c := range s {
			kp.peak = max(kp.peak, int64(c))
			p.Requests += int64(c)
		}
		p.Windows += len(s)
		keys = append(keys, kp)
	}
	p.Keys = len(keys)
	if len(keys) == 0 {
		p.NoTraffic, p.Proposed = true, p.Current
		p.Basis = "no traffic for this rule in the log: keep the current limit"
		return p
	}
	peaks := make([]int64, len(keys))
	for i, k := range keys {
		peaks[i] = k.peak
	}
	slices.Sort(peaks)
	p.MedianPeak = peaks[(len(peaks)-1)/2]
	abusive := func(k keyPeak) bool {
		return float64(k.peak) > o.AbuseFactor*float64(p.MedianPeak) && k.peak > p.Current
	}
	var legit []int64
	var excluded []PeakKey
	for _, k := range keys {
		if abusive(k) {
			excluded = append(excluded, PeakKey{Key: k.key, Peak: k.peak})
			continue
		}
		for _, c := range k.samples {
			legit = append(legit, int64(c))
		}
	}
	p.ExcludedKeys = len(excluded)
	slices.SortFunc(excluded, func(a, b PeakKey) int {
		return cmp.Or(cmp.Compare(b.Peak, a.Peak), cmp.Compare(a.Key, b.Key))
	})
	excluded = excluded[:min(len(excluded), o.Top)]
	for i := range excluded {
		excluded[i].Key = mask(excluded[i].Key)
	}
	p.Excluded = excluded
	slices.Sort(legit)
	if len(legit) > 0 {
		p.PercentileVal = percentile(legit, o.Percentile)
	}
	p.CurrentCost = cost(keys, p.Current, abusive)
	if legitKeys := len(keys) - p.ExcludedKeys; legitKeys < MinTuneKeys {
		p.Proposed, p.FewKeys, p.ProposedCost = p.Current, true, p.CurrentCost
		p.Basis = fmt.Sprintf("only %s not excluded as abusive, fewer than %d: too few to tell normal use from a brute-forcer, keep the current limit",
			plural(int64(legitKeys), "key"), MinTuneKeys)
		return p
	}
	p.Proposed = max(int64(math.Ceil(float64(p.PercentileVal)*o.Headroom)), 1)
	p.Basis = fmt.Sprintf("p%s of %s per %s = %d, × headroom %s = %d",
		trimFloat(o.Percentile), plural(int64(len(legit)), "per-key count"), p.Period, p.PercentileVal, trimFloat(o.Headroom), p.Proposed)
	if need := int(math.Ceil(100/(100-min(o.Percentile, 99.99)) - 1e-9)); len(legit) < need {
		p.Basis += fmt.Sprintf("; only %s: p%s of fewer than %d is the busiest one", plural(int64(len(legit)), "sample"), trimFloat(o.Percentile), need)
	}
	if hasFloor && p.Proposed < floor {
		p.Proposed, p.FloorApplied = floor, true
		p.Basis += fmt.Sprintf("; raised to Chatwoot's default %d (--below-default to allow less)", floor)
	}
	p.ProposedCost = cost(keys, p.Proposed, abusive)
	return p
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []int64, pct float64) int64 {
	rank := int(math.Ceil(pct / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func cost(keys []keyPeak, limit int64, abusive func(keyPeak) bool) Cost {
	var c Cost
	for _, k := range keys {
		var n int64
		for _, s := range k.samples {
			n += max(int64(s)-limit, 0)
		}
		if n == 0 {
			continue
		}
		c.Keys++
		c.Requests += n
		if !abusive(k) {
			c.LegitKeys++
			c.LegitRequests += n
		}
	}
	return c
}

func trimFloat(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", f), "0"), ".")
}
