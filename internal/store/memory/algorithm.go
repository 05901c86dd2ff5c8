package memory

import (
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// throttle counts one request of an OpThrottle with its algorithm and
// returns the count and the reset (see store.Result.Reset).
func (s *Store) throttle(op *store.Op, t int64) (int64, time.Duration) {
	switch op.Algorithm {
	case store.SlidingWindow:
		return s.sliding(op, t)
	case store.GCRA:
		return s.gcra(op, t)
	}
	return s.incr(op.Key, op.TTL, t, op.Class, op.Group), 0
}

// sliding counts in the current window (kept one period longer, as the
// next window's "previous") and weighs the previous window's count.
func (s *Store) sliding(op *store.Op, t int64) (int64, time.Duration) {
	if op.Period <= 0 {
		return s.incr(op.Key, op.TTL, t, op.Class, op.Group), 0
	}
	unix := t / int64(time.Second)
	cur := s.incr(op.Key, op.TTL+time.Duration(op.Period)*time.Second, t, op.Class, op.Group)
	var prev int64
	if pk := store.WindowKey(op, unix, -1); pk != op.Key {
		prev = s.get(pk, t)
	}
	elapsed := (t - unix/op.Period*op.Period*int64(time.Second)) / 1000
	return store.Sliding(prev, cur, op.Limit, op.Period, elapsed)
}

// gcra keeps the theoretical arrival time (unix microseconds) as the
// key's count; refused requests leave it alone.
func (s *Store) gcra(op *store.Op, t int64) (int64, time.Duration) {
	sh, h := s.shardFor(op.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var tat int64
	i := sh.find(op.Key, h)
	if i >= 0 && sh.entries[i].expires > t {
		tat = sh.entries[i].count
	}
	nowUS := t / 1000
	newTAT, count, allowed, reset := store.GCRAStep(tat, nowUS, store.GCRAInterval(op.Period, op.Rate), op.Limit)
	if allowed {
		if i >= 0 {
			e := &sh.entries[i]
			e.count, e.expires = newTAT, newTAT*1000+int64(time.Second)
			sh.touch(i, t)
		} else {
			s.put(sh, op.Key, h, record{count: newTAT, expires: newTAT*1000 + int64(time.Second)}, listID{op.Class, op.Group}, t)
		}
	}
	return count, reset
}

// peekThrottle is throttle without writing (Inspector.Peek): the count
// and reset this request would get.
func (s *Store) peekThrottle(op *store.Op, t int64) (int64, time.Duration) {
	switch {
	case op.Algorithm == store.SlidingWindow && op.Period > 0:
		unix := t / int64(time.Second)
		cur := s.get(op.Key, t) + 1
		var prev int64
		if pk := store.WindowKey(op, unix, -1); pk != op.Key {
			prev = s.get(pk, t)
		}
		elapsed := (t - unix/op.Period*op.Period*int64(time.Second)) / 1000
		return store.Sliding(prev, cur, op.Limit, op.Period, elapsed)
	case op.Algorithm == store.GCRA:
		_, count, _, reset := store.GCRAStep(s.get(op.Key, t), t/1000, store.GCRAInterval(op.Period, op.Rate), op.Limit)
		return count, reset
	}
	return s.get(op.Key, t) + 1, 0
}

// get returns key's live count (0 when absent or expired).
func (s *Store) get(key string, t int64) int64 {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i := sh.find(key, h); i >= 0 {
		if e := &sh.entries[i]; e.expires > t && e.flags&banned == 0 {
			return e.count
		}
	}
	return 0
}
