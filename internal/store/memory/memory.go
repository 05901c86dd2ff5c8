// Package memory is the default, in-process counter store.
//
// Keys live in a fixed number of shards, each a map behind its own mutex.
// Every key expires at the end of its window. The number of keys is
// bounded: when a shard is full, expired keys are swept first; if none
// have expired, a live key is evicted in an order that a spray of new
// keys cannot turn against a victim (evict.go): the lowest store.Class
// first (observing rules, then throttles, then login and ban counters,
// bans last), within it the rule holding the most keys (a per-rule
// quota), within that rule its least recently used key. Evictions are
// counted per class.
package memory

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// Options configures a Store. Zero values pick the defaults.
type Options struct {
	MaxKeys    int              // total bound on keys; default 1,000,000
	Shards     int              // default 64
	SweepEvery time.Duration    // background expiry sweep; default 10s, <0 disables
	Now        func() time.Time // clock for the background sweep; default time.Now
	// Snapshot is a file that keeps bans and counters across restarts:
	// loaded by New, written atomically every SnapshotEvery (default 1m,
	// <0: only on Close) and by Close. Logger receives what happened.
	Snapshot      string
	SnapshotEvery time.Duration
	Logger        *slog.Logger
}

// evictionSample is how many keys are looked at to choose a victim.
const evictionSample = 8

// record is what put stores under a key.
type record struct {
	count, expires int64
	ban            bool
	since          int64 // unix nanoseconds a ban started (Inspector.Bans)
}

// Store is an in-memory store.Store.
type Store struct {
	seed        maphash.Seed
	shards      []shard
	maxPerShard int
	evictions   atomic.Int64
	evictedBy   [store.ClassBan + 1]atomic.Int64
	now         func() time.Time
	stop        chan struct{}
	done        chan struct{}
	closeOnce   sync.Once
	snap        snapshotter
}

var _ store.Store = (*Store)(nil)

// New returns a Store and starts its background sweeper (stopped by Close).
func New(o Options) *Store {
	if o.MaxKeys <= 0 {
		o.MaxKeys = 1_000_000
	}
	if o.Shards <= 0 {
		o.Shards = 64
	}
	if o.Shards > o.MaxKeys {
		o.Shards = o.MaxKeys
	}
	if o.SweepEvery == 0 {
		o.SweepEvery = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Store{
		seed:        maphash.MakeSeed(),
		shards:      make([]shard, o.Shards),
		maxPerShard: (o.MaxKeys + o.Shards - 1) / o.Shards,
		now:         o.Now,
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i] = newShard()
	}
	if o.SweepEvery > 0 {
		go s.sweepLoop(o.SweepEvery)
	} else {
		close(s.done)
	}
	s.startSnapshots(o)
	return s
}

// shardFor returns key's shard and the hash that finds it there (the
// high bits: the low ones chose the shard).
func (s *Store) shardFor(key string) (*shard, uint32) {
	h := maphash.String(s.seed, key)
	return &s.shards[h%uint64(len(s.shards))], uint32(h >> 32)
}

// Run implements store.Store.
func (s *Store) Run(_ context.Context, now time.Time, program []store.Op, res *store.Result) error {
	s.run(now.UnixNano(), program, res, true)
	return nil
}

// run walks program with Rack::Attack's stop rules. With write false
// (Inspector.Peek) it reads counters and bans without changing any: each
// count is what the write would have returned.
func (s *Store) run(t int64, program []store.Op, res *store.Result, write bool) {
	res.Stop, res.StopAt, res.BanTTL, res.Now = store.Completed, 0, 0, time.Time{}
	for i := range program {
		res.Counts[i] = 0
		res.Banned[i] = false
		if i < len(res.Reset) {
			res.Reset[i] = 0
		}
	}
	skipFailure, trusted := "", ""
	for i := range program {
		op := &program[i]
		if trusted != "" && op.BanKey == trusted {
			continue // a trusted pair: see store.OpTrustCheck
		}
		switch op.Kind {
		case store.OpBanCheck:
			if left := s.banLeft(op.BanKey, t); left > 0 {
				if !op.Enforce {
					// Dry-run: report the ban and go on, but count as an
					// enforced ban would (not at all), so it is not extended.
					res.Counts[i] = 1
					skipFailure = op.BanKey
					continue
				}
				res.Stop, res.StopAt, res.BanTTL = store.StopBanned, i, left
				return
			}
		case store.OpFailure:
			if op.BanKey == skipFailure {
				continue
			}
			if write {
				res.Counts[i], res.Banned[i] = s.fail(op, t)
			} else {
				c := s.get(op.Key, t) + 1
				res.Counts[i], res.Banned[i] = c, c >= op.Limit
			}
			if op.StopOnCount {
				res.Stop, res.StopAt = store.StopFailed, i
				return
			}
		case store.OpThrottle:
			var c int64
			var reset time.Duration
			if write {
				c, reset = s.throttle(op, t)
			} else {
				c, reset = s.peekThrottle(op, t)
			}
			res.Counts[i] = c
			if i < len(res.Reset) {
				res.Reset[i] = reset
			}
			if c > op.Limit && op.Enforce {
				res.Stop, res.StopAt = store.StopThrottled, i
				return
			}
		case store.OpCount:
			if write {
				res.Counts[i] = s.incr(op.Key, op.TTL, t, op.Class, op.Group)
			} else {
				res.Counts[i] = s.get(op.Key, t) + 1
			}
		default:
			res.Counts[i] = s.runTrust(op, t, &trusted, write)
		}
	}
}

// Fail implements store.Store.
func (s *Store) Fail(_ context.Context, now time.Time, op store.Op) (int64, bool, error) {
	c, banned := s.fail(&op, now.UnixNano())
	return c, banned, nil
}

func (s *Store) fail(op *store.Op, t int64) (int64, bool) {
	c := s.incr(op.Key, op.TTL, t, op.Class, op.Group)
	if c < op.Limit {
		return c, false
	}
	banTTL := s.banTTL(op, t) // before locking: it may lock the history key's shard
	sh, h := s.shardFor(op.BanKey)
	sh.mu.Lock()
	s.put(sh, op.BanKey, h, record{count: 1, expires: t + int64(banTTL), ban: true, since: t}, listID{class: store.ClassBan}, t)
	sh.mu.Unlock()
	return c, true
}

// banLeft returns how long the ban at key still runs (0: not banned).
func (s *Store) banLeft(key string, t int64) time.Duration {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	var left int64
	if i := sh.find(key, h); i >= 0 && sh.entries[i].flags&banned != 0 {
		left = sh.entries[i].expires - t
	}
	sh.mu.Unlock()
	return time.Duration(max(left, 0))
}

// incr adds one to key, creating it with the given lifetime when absent or
// expired, and returns the new count.
func (s *Store) incr(key string, ttl time.Duration, t int64, class store.Class, group string) int64 {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i := sh.find(key, h); i >= 0 {
		e := &sh.entries[i]
		if e.expires > t {
			e.count++
		} else {
			e.count, e.expires = 1, t+int64(ttl)
		}
		sh.touch(i, t)
		return e.count
	}
	s.put(sh, key, h, record{count: 1, expires: t + int64(ttl)}, listID{class, group}, t)
	return 1
}

// put stores r under key (whose hash is h) in the eviction list id,
// making room first when the shard is full. The caller holds sh.mu.
func (s *Store) put(sh *shard, key string, h uint32, r record, id listID, t int64) {
	if i := sh.find(key, h); i >= 0 {
		sh.set(i, r)
		if sh.listID(&sh.entries[i]) != id {
			sh.unlink(i)
			sh.link(i, id)
		} else {
			sh.touch(i, t)
		}
		return
	}
	if sh.n >= s.maxPerShard {
		// Sweeping is O(shard); do it at most once a second per shard so a
		// flood of new keys cannot turn every insert into a full scan.
		if t-sh.lastSweep >= int64(time.Second) {
			sweepShard(sh, t)
		}
		if sh.n >= s.maxPerShard {
			s.evictOne(sh)
		}
	}
	i := sh.insert(key, h, s.maxPerShard)
	sh.set(i, r)
	sh.entries[i].touched = t
	sh.link(i, id)
}

// set writes r's values into entry i.
func (sh *shard) set(i int32, r record) {
	e := &sh.entries[i]
	e.count, e.expires = r.count, r.expires
	switch {
	case r.ban:
		e.flags |= banned
		sh.since[i] = r.since
	case e.flags&banned != 0:
		e.flags &^= banned
		delete(sh.since, i)
	}
}

func sweepShard(sh *shard, t int64) {
	for i := range sh.entries {
		if e := &sh.entries[i]; e.flags&inUse != 0 && e.expires <= t {
			sh.remove(int32(i))
		}
	}
	sh.lastSweep = t
	sh.shrink()
}

// Sweep deletes every expired key now.
func (s *Store) Sweep(now time.Time) {
	t := now.UnixNano()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sweepShard(sh, t)
		sh.mu.Unlock()
	}
}

func (s *Store) sweepLoop(every time.Duration) {
	defer close(s.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			s.Sweep(s.now())
		}
	}
}

// Reset implements store.Store.
func (s *Store) Reset(_ context.Context, prefix string) (int, error) {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for i := range sh.entries {
			if e := &sh.entries[i]; e.flags&inUse != 0 && hasPrefix(sh.key(e), prefix) {
				sh.remove(int32(i))
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n, nil
}

// Len returns the number of keys held, expired or not.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.n
		sh.mu.Unlock()
	}
	return n
}

// Evictions returns how many live keys were dropped to respect MaxKeys.
func (s *Store) Evictions() int64 { return s.evictions.Load() }

// Close stops the background sweeper.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		err = s.stopSnapshots()
	})
	<-s.done
	return err
}

// Stats implements store.StatsReporter.
func (s *Store) Stats() store.Stats {
	return store.Stats{Kind: "memory", Keys: int64(s.Len()), Evictions: s.Evictions(), Healthy: true, Detail: "in-process memory store" + s.evictionDetail()}
}

// hasPrefix is strings.HasPrefix for a stored key, without copying it.
func hasPrefix(key []byte, prefix string) bool {
	return len(key) >= len(prefix) && string(key[:len(prefix)]) == prefix
}
