package gateway

import (
	"log/slog"
	"sort"
	"sync"
	"time"
)

// DefaultRefusalLogLimit is how many refusal lines each rule and key may
// write per minute before the rest are only counted. A flood of 429s
// then costs a few lines and one summary a minute, not a write per
// refusal (which would cost more than the refusal itself).
const DefaultRefusalLogLimit = 5

// sampleKeys bounds the keys remembered per minute: beyond it (an address
// spray) new keys are counted in the summary without lines of their own.
const sampleKeys = 10_000

type sampleKey struct{ rule, key string }

type suppressed struct{ lines, keys int64 }

// refusalSampler decides which refusal lines are written: the first
// limit per rule and key in each minute; the others are summed per rule
// and written as one summary line when the minute ends.
type refusalSampler struct {
	limit int // < 0: every line
	log   *slog.Logger
	now   func() time.Time

	mu         sync.Mutex
	minute     int64
	seen       map[sampleKey]int
	suppressed map[string]*suppressed
	timer      *time.Timer
}

func newRefusalSampler(limit int, log *slog.Logger) *refusalSampler {
	if limit == 0 {
		limit = DefaultRefusalLogLimit
	}
	return &refusalSampler{limit: limit, log: log, now: time.Now, seen: map[sampleKey]int{}, suppressed: map[string]*suppressed{}}
}

// allow reports whether the line for rule and key should be written.
func (s *refusalSampler) allow(rule, key string) bool {
	if s.limit < 0 {
		return true
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := now.Unix() / 60; m != s.minute {
		s.flushLocked()
		s.minute = m
	}
	k := sampleKey{rule, key}
	n, known := s.seen[k]
	if known || len(s.seen) < sampleKeys {
		s.seen[k] = n + 1
		if n < s.limit {
			return true
		}
	}
	sup := s.suppressed[rule]
	if sup == nil {
		sup = &suppressed{}
		s.suppressed[rule] = sup
	}
	sup.lines++
	if n == s.limit {
		sup.keys++ // keys over the limit (among the remembered ones)
	}
	if s.timer == nil {
		wait := time.Unix((s.minute+1)*60, 0).Sub(now)
		s.timer = time.AfterFunc(wait, s.flush)
	}
	return false
}

func (s *refusalSampler) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
}

// flushLocked writes one summary line per rule with suppressed lines and
// starts a new minute.
func (s *refusalSampler) flushLocked() {
	rules := make([]string, 0, len(s.suppressed))
	for r := range s.suppressed {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	for _, r := range rules {
		sup := s.suppressed[r]
		s.log.Warn("refusals not logged one by one", "rule", r, "suppressed", sup.lines, "keys", sup.keys,
			"per_key_limit", s.limit, "window", "1m")
	}
	clear(s.suppressed)
	clear(s.seen)
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}
