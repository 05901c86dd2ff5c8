package rules

import (
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// Throttle algorithms (Throttle.Algorithm).
const (
	AlgorithmFixedWindow   = "fixed-window"
	AlgorithmSlidingWindow = "sliding-window"
	AlgorithmGCRA          = "gcra"
)

// algorithm compiles a throttle's algorithm and burst.
func (c *compiler) algorithm(path string, t Throttle, r *rule) {
	switch t.Algorithm {
	case "", AlgorithmFixedWindow:
	case AlgorithmSlidingWindow:
		r.algo = store.SlidingWindow
	case AlgorithmGCRA:
		r.algo = store.GCRA
		r.rate = r.limit
		if r.rate < 1 && t.Limit != nil {
			c.errf(path+".limit", "a gcra throttle needs a limit of at least 1 (requests per period)")
		}
		if t.Burst != nil {
			if *t.Burst < 1 {
				c.errf(path+".burst", "burst must be at least 1")
			}
			r.limit = *t.Burst
		}
	default:
		c.errf(path+".algorithm", "unknown algorithm %q: want fixed-window, sliding-window or gcra", t.Algorithm)
	}
	if t.Burst != nil && r.algo != store.GCRA {
		c.errf(path+".burst", "burst is for algorithm: gcra only")
	}
}

// keyUnix is the time a throttle's key is built for: a GCRA key has no
// window (its one key holds the theoretical arrival time), so window 0.
func (rl *rule) keyUnix(unix int64) int64 {
	if rl.algo == store.GCRA {
		return 0
	}
	return unix
}

// windowed fills in what a store with its own clock, an algorithm or an
// eviction order needs to know about a counting operation.
func (e *Engine) windowed(rl *rule, op store.Op) store.Op {
	e.window(rl, &op)
	return op
}

// window is windowed in place.
func (e *Engine) window(rl *rule, op *store.Op) {
	op.Period = rl.period
	op.Algorithm, op.Rate = rl.algo, rl.rate
	if rl.algo != store.GCRA {
		op.WindowAt = len(e.opts.Prefix) + 1 // counterKey: "prefix:WINDOW:..."
	}
	op.Group = rl.countNS
	switch {
	case rl.kind == kindTrack || !rl.enforce:
		op.Class = store.ClassObserve
	case rl.kind == kindFail2Ban || rl.kind == kindAllow2Ban || rl.match != nil:
		// Ban counters and route-specific throttles (logins, password
		// resets, signups) protect accounts: a spray must not reset them.
		op.Class = store.ClassSecurity
	default:
		op.Class = store.ClassThrottle
	}
}

// quotaOf is a throttle's quota for the RateLimit headers and Retry-After:
// the fixed window's end, or the reset the store computed for sliding
// windows and GCRA.
func quotaOf(rl *rule, count, unix int64, reset time.Duration) Quota {
	q := quota(rl, count, unix)
	if reset > 0 && rl.algo != store.FixedWindow {
		q.Reset = max(ceilSeconds(reset), 1)
	}
	return q
}
