package store

import (
	"strconv"
	"time"
)

// The counting algorithms in integer microseconds, shared by the stores
// (the Redis script mirrors these functions line by line; a test runs the
// same programs through both stores and compares every number).

// WindowKey returns op.Key with its window number replaced by the window
// that contains unix shifted by shift windows (-1: the previous one). It
// returns op.Key when the op has no window.
func WindowKey(op *Op, unix, shift int64) string {
	if op.WindowAt <= 0 || op.Period <= 0 || op.WindowAt >= len(op.Key) {
		return op.Key
	}
	end := op.WindowAt
	for end < len(op.Key) && op.Key[end] != ':' {
		end++
	}
	w := unix/op.Period + shift
	return op.Key[:op.WindowAt] + strconv.FormatInt(w, 10) + op.Key[end:]
}

// Sliding returns a sliding window's weighted count (rounded up) for the
// previous and current windows' counts, elapsedUS into the current window
// of periodS seconds, and how long a client over limit must wait before a
// request fits again (0 when it is not over).
func Sliding(prev, cur, limit, periodS, elapsedUS int64) (count int64, wait time.Duration) {
	p := periodS * 1_000_000
	num := prev*(p-elapsedUS) + cur*p
	count = (num + p - 1) / p
	if count <= limit {
		return count, 0
	}
	// Within this window the previous window's weight falls linearly: one
	// more request fits once prev*(p-e-dt) <= (limit-cur-1)*p.
	if room := limit - cur - 1; room >= 0 && prev > 0 {
		dt := p - elapsedUS - room*p/prev
		if dt < p-elapsedUS {
			return count, time.Duration(max(dt, 1)) * time.Microsecond
		}
	}
	// In the next window this one's count weighs cur*(p-e2)/p.
	toNext := p - elapsedUS
	switch {
	case limit < 1:
		return count, time.Duration(toNext+p) * time.Microsecond
	case cur == 0:
		return count, time.Duration(toNext) * time.Microsecond
	}
	e2 := p - (limit-1)*p/cur
	return count, time.Duration(toNext+max(e2, 0)) * time.Microsecond
}

// GCRAInterval is the time one request of a GCRA throttle takes from its
// burst, in microseconds: period/rate, at least 1.
func GCRAInterval(periodS, rate int64) int64 {
	return max(periodS*1_000_000/max(rate, 1), 1)
}

// GCRAStep evaluates one request against the theoretical arrival time tat
// (unix microseconds; 0 = none) at now. It returns the new tat (to store
// only when allowed), the cells in use counting this request (> burst
// means refused), and the reset: when allowed the time until the burst is
// whole again, when refused the time until one request fits.
func GCRAStep(tat, nowUS, intervalUS, burst int64) (newTAT, count int64, allowed bool, reset time.Duration) {
	if tat < nowUS {
		tat = nowUS
	}
	newTAT = tat + intervalUS
	used := newTAT - nowUS
	count = (used + intervalUS - 1) / intervalUS
	if used <= burst*intervalUS {
		return newTAT, count, true, time.Duration(used) * time.Microsecond
	}
	return tat, count, false, time.Duration(used-burst*intervalUS) * time.Microsecond
}
