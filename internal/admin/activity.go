package admin

import (
	"sort"
	"sync"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
)

// Activity remembers recent traffic for the dashboard and the API: the
// decisions per 10-second step (the chart), the most refused keys per
// minute (top), the last refusals, and the upstream's health. It is a
// gateway.Observer; memory is bounded whatever the traffic.
type Activity struct {
	now func() time.Time

	mu       sync.Mutex
	steps    [stepCount]step
	minutes  [60]minute
	recent   [recentCount]Refusal
	recentN  int
	upstream UpstreamState
}

const (
	stepSeconds  = 10
	stepCount    = 90 // 15 minutes of chart
	recentCount  = 50
	keysInMinute = 5000 // bound on distinct refused keys remembered per minute
)

type step struct {
	at        int64 // unix / stepSeconds
	decisions map[string]int64
	refusals  map[string]int64 // by rule
}

type refusedKey struct{ rule, key string }

type minute struct {
	at     int64
	counts map[refusedKey]int64
	other  map[string]int64 // by rule: refusals of keys beyond the bound
}

// Refusal is one refused request, for the dashboard's list.
type Refusal struct {
	Time     time.Time `json:"time"`
	Client   string    `json:"client_ip"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Decision string    `json:"decision"`
	Rule     string    `json:"rule"`
	Key      string    `json:"key"`
	Status   int       `json:"status"`
}

// UpstreamState is what the last forwarded requests said about Chatwoot.
type UpstreamState struct {
	LastStatus  int       `json:"last_status,omitempty"`
	LastAt      time.Time `json:"last_at,omitzero"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	Requests    int64     `json:"requests"`
	Failures    int64     `json:"failures"` // 5xx or no answer, since start
}

// NewActivity returns an empty Activity on the given clock.
func NewActivity(now func() time.Time) *Activity {
	if now == nil {
		now = time.Now
	}
	return &Activity{now: now}
}

func refused(decision string) bool {
	switch decision {
	case gateway.DecisionThrottle, gateway.DecisionBlock, gateway.DecisionBan:
		return true
	}
	return false
}

// Observe implements gateway.Observer.
func (a *Activity) Observe(rec *gateway.Record) {
	t := rec.Start.Unix()
	a.mu.Lock()
	defer a.mu.Unlock()
	st := &a.steps[(t/stepSeconds)%stepCount]
	if st.at != t/stepSeconds || st.decisions == nil {
		*st = step{at: t / stepSeconds, decisions: map[string]int64{}, refusals: map[string]int64{}}
	}
	st.decisions[rec.Decision]++
	if rec.Forwarded {
		u := &a.upstream
		u.Requests++
		u.LastStatus, u.LastAt = rec.UpstreamStatus, rec.Start
		if rec.UpstreamError || rec.UpstreamStatus >= 500 {
			u.Failures++
			u.LastErrorAt = rec.Start
			if rec.UpstreamError {
				u.LastStatus = 0
			}
		}
	}
	if !refused(rec.Decision) {
		return
	}
	st.refusals[rec.Rule]++
	m := &a.minutes[(t/60)%60]
	if m.at != t/60 || m.counts == nil {
		*m = minute{at: t / 60, counts: map[refusedKey]int64{}, other: map[string]int64{}}
	}
	key := rec.Key
	if key == "" {
		key = rec.Client.String()
	}
	k := refusedKey{rec.Rule, key}
	if _, ok := m.counts[k]; ok || len(m.counts) < keysInMinute {
		m.counts[k]++
	} else {
		m.other[rec.Rule]++
	}
	a.recent[a.recentN%recentCount] = Refusal{Time: rec.Start.UTC(), Client: rec.Client.String(), Method: rec.Method,
		Path: pathOnly(rec.URI), Decision: rec.Decision, Rule: rec.Rule, Key: key, Status: rec.Status}
	a.recentN++
}

func pathOnly(uri string) string {
	for i := 0; i < len(uri); i++ {
		if uri[i] == '?' {
			return uri[:i]
		}
	}
	return uri
}

// TopKey is one refused key in a window.
type TopKey struct {
	Rule  string `json:"rule"`
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// TopRule is a rule's most refused keys in a window.
type TopRule struct {
	Rule  string   `json:"rule"`
	Total int64    `json:"total"`
	Keys  []TopKey `json:"keys"`
}

// Top returns, per rule, the n most refused keys in the last window
// (whole minutes, at most 60).
func (a *Activity) Top(window time.Duration, n int) []TopRule {
	mins := int64(max(min((window+time.Minute-1)/time.Minute, 60), 1))
	now := a.now().Unix() / 60
	sum := map[refusedKey]int64{}
	totals := map[string]int64{}
	a.mu.Lock()
	for i := range a.minutes {
		m := &a.minutes[i]
		if m.counts == nil || m.at <= now-mins || m.at > now {
			continue
		}
		for k, c := range m.counts {
			sum[k] += c
			totals[k.rule] += c
		}
		for r, c := range m.other {
			totals[r] += c
		}
	}
	a.mu.Unlock()
	byRule := map[string][]TopKey{}
	for k, c := range sum {
		byRule[k.rule] = append(byRule[k.rule], TopKey{Rule: k.rule, Key: k.key, Count: c})
	}
	out := []TopRule{}
	for r, total := range totals {
		keys := byRule[r]
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].Count != keys[j].Count {
				return keys[i].Count > keys[j].Count
			}
			return keys[i].Key < keys[j].Key
		})
		if len(keys) > n {
			keys = keys[:n]
		}
		out = append(out, TopRule{Rule: r, Total: total, Keys: keys})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}

// Step is one point of the decisions chart.
type Step struct {
	Time      time.Time        `json:"time"`
	Decisions map[string]int64 `json:"decisions"`
	Refusals  map[string]int64 `json:"refusals"` // by rule
}

// Snapshot is what the dashboard polls.
type Snapshot struct {
	StepSeconds int           `json:"step_seconds"`
	Steps       []Step        `json:"steps"`
	Recent      []Refusal     `json:"recent_refusals"` // newest first
	Upstream    UpstreamState `json:"upstream"`
}

// Snapshot returns the last 15 minutes of steps (empty ones included),
// the recent refusals and the upstream state.
func (a *Activity) Snapshot() Snapshot {
	now := a.now().Unix() / stepSeconds
	s := Snapshot{StepSeconds: stepSeconds}
	a.mu.Lock()
	defer a.mu.Unlock()
	for at := now - stepCount + 1; at <= now; at++ {
		st := &a.steps[at%stepCount]
		p := Step{Time: time.Unix(at*stepSeconds, 0).UTC(), Decisions: map[string]int64{}, Refusals: map[string]int64{}}
		if st.at == at && st.decisions != nil {
			for k, v := range st.decisions {
				p.Decisions[k] = v
			}
			for k, v := range st.refusals {
				p.Refusals[k] = v
			}
		}
		s.Steps = append(s.Steps, p)
	}
	for i := 0; i < min(a.recentN, recentCount); i++ {
		s.Recent = append(s.Recent, a.recent[(a.recentN-1-i)%recentCount])
	}
	if s.Recent == nil {
		s.Recent = []Refusal{}
	}
	s.Upstream = a.upstream
	return s
}

// Upstream returns the upstream state.
func (a *Activity) Upstream() UpstreamState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.upstream
}
