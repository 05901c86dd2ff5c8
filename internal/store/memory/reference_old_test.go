package memory

// The implementation before the slab (commit fed6d0e: a map[string]*entry
// per shard, eviction lists of pointers), kept verbatim but renamed as the
// reference model for the differential tests in reference_diff_test.go.
// Only the background snapshot writer is left out.

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

type refEntry struct {
	count   int64
	expires int64 // unix nanoseconds
	ban     bool
	refLRU        // eviction order (evict.go)
	since   int64 // unix nanoseconds a ban started (Inspector.Bans)
}

type refShard struct {
	mu        sync.Mutex
	m         map[string]*refEntry
	lastSweep int64
	lists     map[listID]*refLRUList
}

// refStore is an in-memory store.Store.
type refStore struct {
	seed        maphash.Seed
	shards      []refShard
	maxPerShard int
	evictions   atomic.Int64
	evictedBy   [store.ClassBan + 1]atomic.Int64
	now         func() time.Time
	stop        chan struct{}
	done        chan struct{}
	closeOnce   sync.Once
}

// newRefStore returns a refStore and starts its background sweeper (stopped by Close).
func newRefStore(o Options) *refStore {
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
	s := &refStore{
		seed:        maphash.MakeSeed(),
		shards:      make([]refShard, o.Shards),
		maxPerShard: (o.MaxKeys + o.Shards - 1) / o.Shards,
		now:         o.Now,
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i].m = make(map[string]*refEntry)
		s.shards[i].lists = make(map[listID]*refLRUList)
	}
	if o.SweepEvery > 0 {
		go s.sweepLoop(o.SweepEvery)
	} else {
		close(s.done)
	}
	return s
}

func (s *refStore) shardFor(key string) *refShard {
	return &s.shards[maphash.String(s.seed, key)%uint64(len(s.shards))]
}

// Run implements store.Store.
func (s *refStore) Run(_ context.Context, now time.Time, program []store.Op, res *store.Result) error {
	s.run(now.UnixNano(), program, res, true)
	return nil
}

// run walks program with Rack::Attack's stop rules. With write false
// (Inspector.Peek) it reads counters and bans without changing any: each
// count is what the write would have returned.
func (s *refStore) run(t int64, program []store.Op, res *store.Result, write bool) {
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
func (s *refStore) Fail(_ context.Context, now time.Time, op store.Op) (int64, bool, error) {
	c, banned := s.fail(&op, now.UnixNano())
	return c, banned, nil
}

func (s *refStore) fail(op *store.Op, t int64) (int64, bool) {
	c := s.incr(op.Key, op.TTL, t, op.Class, op.Group)
	if c < op.Limit {
		return c, false
	}
	banTTL := s.banTTL(op, t) // before locking: it may lock the history key's refShard
	sh := s.shardFor(op.BanKey)
	sh.mu.Lock()
	s.put(sh, op.BanKey, refEntry{count: 1, expires: t + int64(banTTL), ban: true, since: t}, listID{class: store.ClassBan}, t)
	sh.mu.Unlock()
	return c, true
}

// banLeft returns how long the ban at key still runs (0: not banned).
func (s *refStore) banLeft(key string, t int64) time.Duration {
	sh := s.shardFor(key)
	sh.mu.Lock()
	var left int64
	if e, ok := sh.m[key]; ok && e.ban {
		left = e.expires - t
	}
	sh.mu.Unlock()
	return time.Duration(max(left, 0))
}

// incr adds one to key, creating it with the given lifetime when absent or
// expired, and returns the new count.
func (s *refStore) incr(key string, ttl time.Duration, t int64, class store.Class, group string) int64 {
	sh := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	// Update in place through the pointer: assigning to an existing string
	// key would replace the stored key, which may alias a reused buffer.
	if e, ok := sh.m[key]; ok {
		if e.expires > t {
			e.count++
		} else {
			e.count, e.expires = 1, t+int64(ttl)
		}
		sh.touch(e, t)
		return e.count
	}
	s.put(sh, key, refEntry{count: 1, expires: t + int64(ttl)}, listID{class, group}, t)
	return 1
}

// put stores e under key in the eviction list id, making room first
// when the refShard is full. The caller holds sh.mu.
func (s *refStore) put(sh *refShard, key string, e refEntry, id listID, t int64) {
	if old, exists := sh.m[key]; exists {
		old.count, old.expires, old.ban, old.since = e.count, e.expires, e.ban, e.since
		if old.listID() != id {
			sh.unlink(old)
			sh.link(old, id)
		} else {
			sh.touch(old, t)
		}
		return
	}
	if len(sh.m) >= s.maxPerShard {
		// Sweeping is O(refShard); do it at most once a second per refShard so a
		// flood of new keys cannot turn every insert into a full scan.
		if t-sh.lastSweep >= int64(time.Second) {
			refSweepShard(sh, t)
		}
		if len(sh.m) >= s.maxPerShard {
			s.evictOne(sh)
		}
	}
	// Keys may alias the engine's reused buffers: keep a private copy.
	p := &e
	p.key, p.touched = strings.Clone(key), t
	sh.m[p.key] = p
	sh.link(p, id)
}

func refSweepShard(sh *refShard, t int64) {
	for k, e := range sh.m {
		if e.expires <= t {
			sh.remove(k, e)
		}
	}
	sh.lastSweep = t
}

// Sweep deletes every expired key now.
func (s *refStore) Sweep(now time.Time) {
	t := now.UnixNano()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		refSweepShard(sh, t)
		sh.mu.Unlock()
	}
}

func (s *refStore) sweepLoop(every time.Duration) {
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
func (s *refStore) Reset(_ context.Context, prefix string) (int, error) {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if strings.HasPrefix(k, prefix) {
				sh.remove(k, e)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n, nil
}

// Len returns the number of keys held, expired or not.
func (s *refStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// Evictions returns how many live keys were dropped to respect MaxKeys.
func (s *refStore) Evictions() int64 { return s.evictions.Load() }

// Close stops the background sweeper.
func (s *refStore) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
	})
	<-s.done
	return nil
}

// refLRUList is one (class, group)'s keys, most recently used first.
type refLRUList struct {
	id         listID
	head, tail *refEntry
	n          int
}

// refLRU is an refEntry's place in its list.
type refLRU struct {
	key        string
	prev, next *refEntry
	list       *refLRUList // nil while unlinked
	touched    int64       // when it last moved to the front (unix ns)
}

// link puts e at the front of the list of id.
func (sh *refShard) link(e *refEntry, id listID) {
	l := sh.lists[id]
	if l == nil {
		l = &refLRUList{id: id}
		sh.lists[id] = l
	}
	e.list, e.prev, e.next = l, nil, l.head
	if l.head != nil {
		l.head.prev = e
	}
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
	l.n++
}

// detach takes e out of its list's chain (the count is the caller's).
func (l *refLRUList) detach(e *refEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

// unlink takes e out of its list.
func (sh *refShard) unlink(e *refEntry) {
	l := e.list
	if l == nil {
		return
	}
	l.detach(e)
	e.list = nil
	if l.n--; l.n == 0 {
		delete(sh.lists, l.id)
	}
}

// listID returns the id of e's eviction list (zero when unlinked).
func (e *refEntry) listID() listID {
	if e.list == nil {
		return listID{}
	}
	return e.list.id
}

// remove deletes key (whose refEntry is e) from the refShard and its eviction
// list: every deletion must go through here (assigning *e = refEntry{...}
// would also break the list). The caller holds sh.mu.
func (sh *refShard) remove(key string, e *refEntry) {
	delete(sh.m, key)
	sh.unlink(e)
}

// touch marks e most recently used at t (no map lookup, and at most once
// per touchEvery: it is on the hot path of every counted request).
func (sh *refShard) touch(e *refEntry, t int64) {
	l := e.list
	if l == nil || l.head == e || t-e.touched < touchEvery {
		return
	}
	e.touched = t
	l.detach(e)
	e.next = l.head
	l.head.prev = e
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
}

// evictOne removes one live key in the eviction order. The caller holds
// sh.mu.
func (s *refStore) evictOne(sh *refShard) {
	var victim *refLRUList
	var vid listID
	for id, l := range sh.lists {
		if victim == nil || id.class < vid.class || (id.class == vid.class && (l.n > victim.n || (l.n == victim.n && id.group < vid.group))) {
			victim, vid = l, id
		}
	}
	if victim == nil {
		return
	}
	e := victim.tail
	sh.remove(e.key, e)
	s.evictions.Add(1)
	s.evictedBy[vid.class].Add(1)
}

// EvictionsByClass returns the evictions per store.Class since start.
func (s *refStore) EvictionsByClass() [store.ClassBan + 1]int64 {
	var out [store.ClassBan + 1]int64
	for i := range out {
		out[i] = s.evictedBy[i].Load()
	}
	return out
}

// evictionDetail summarizes evictions per class for Stats.
func (s *refStore) evictionDetail() string {
	by := s.EvictionsByClass()
	var parts []string
	for i, n := range by {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", classNames[i], n))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; evicted: " + strings.Join(parts, ", ")
}

// throttle counts one request of an OpThrottle with its algorithm and
// returns the count and the reset (see store.Result.Reset).
func (s *refStore) throttle(op *store.Op, t int64) (int64, time.Duration) {
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
func (s *refStore) sliding(op *store.Op, t int64) (int64, time.Duration) {
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
func (s *refStore) gcra(op *store.Op, t int64) (int64, time.Duration) {
	sh := s.shardFor(op.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var tat int64
	e, ok := sh.m[op.Key]
	if ok && e.expires > t {
		tat = e.count
	}
	nowUS := t / 1000
	newTAT, count, allowed, reset := store.GCRAStep(tat, nowUS, store.GCRAInterval(op.Period, op.Rate), op.Limit)
	if allowed {
		if ok {
			e.count, e.expires = newTAT, newTAT*1000+int64(time.Second)
			sh.touch(e, t)
		} else {
			s.put(sh, op.Key, refEntry{count: newTAT, expires: newTAT*1000 + int64(time.Second)}, listID{op.Class, op.Group}, t)
		}
	}
	return count, reset
}

// peekThrottle is throttle without writing (Inspector.Peek): the count
// and reset this request would get.
func (s *refStore) peekThrottle(op *store.Op, t int64) (int64, time.Duration) {
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
func (s *refStore) get(key string, t int64) int64 {
	sh := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[key]; ok && e.expires > t && !e.ban {
		return e.count
	}
	return 0
}

// runTrust runs OpTrustCheck and OpTrustSet (store.go documents them). A
// trust check that finds its key sets *trusted to the op's BanKey, so Run
// skips the rule's later operations. Without write (Peek) a trust set
// changes nothing.
func (s *refStore) runTrust(op *store.Op, t int64, trusted *string, write bool) int64 {
	switch op.Kind {
	case store.OpTrustCheck:
		if s.live(op.Key, t) {
			*trusted = op.BanKey
			return 1
		}
	case store.OpTrustSet:
		if !write {
			return 1
		}
		sh := s.shardFor(op.Key)
		sh.mu.Lock()
		s.put(sh, op.Key, refEntry{count: 1, expires: t + int64(op.TTL)}, listID{class: store.ClassBan}, t) // losing it would lock a real user out
		sh.mu.Unlock()
		return 1
	}
	return 0
}

// live reports whether key is set and not expired.
func (s *refStore) live(key string, t int64) bool {
	sh := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[key]
	return ok && e.expires > t
}

// banTTL is the length of the ban op sets now: BanTTL, or with a
// HistoryKey the escalated length (store.Op documents the formula). It
// records the ban in the history.
func (s *refStore) banTTL(op *store.Op, t int64) time.Duration {
	if op.HistoryKey == "" {
		return op.BanTTL
	}
	n := s.touch(op.HistoryKey, op.HistoryTTL, t)
	return store.EscalatedBanTTL(op.BanTTL, op.BanFactor, op.BanMaxTTL, n)
}

// touch increments key (starting from 0 when absent or expired) and sets
// its lifetime to ttl from t, returning the new count.
func (s *refStore) touch(key string, ttl time.Duration, t int64) int64 {
	sh := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[key]; ok {
		if e.expires > t {
			e.count++
		} else {
			e.count = 1
		}
		e.expires = t + int64(ttl)
		sh.touch(e, t) // recently used: last to go within its class
		return e.count
	}
	s.put(sh, key, refEntry{count: 1, expires: t + int64(ttl)}, listID{class: store.ClassBan}, t) // a lost history shortens the next ban
	return 1
}

// Peek implements store.Inspector: it evaluates program exactly as Run
// would at now, reading counters and bans without changing any.
func (s *refStore) Peek(_ context.Context, now time.Time, program []store.Op, res *store.Result) error {
	s.run(now.UnixNano(), program, res, false)
	return nil
}

// Bans implements store.Inspector.
func (s *refStore) Bans(_ context.Context, now time.Time, prefix string) ([]store.Ban, error) {
	t := now.UnixNano()
	var out []store.Ban
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if e.ban && e.expires > t && strings.HasPrefix(k, prefix) {
				b := store.Ban{Key: k, Expires: time.Unix(0, e.expires)}
				if e.since != 0 {
					b.Since = time.Unix(0, e.since)
				}
				out = append(out, b)
			}
		}
		sh.mu.Unlock()
	}
	return out, nil
}

// Delete implements store.Inspector. Expired keys still held count as
// absent.
func (s *refStore) Delete(_ context.Context, keys ...string) (int, error) {
	t := s.now().UnixNano()
	n := 0
	for _, k := range keys {
		sh := s.shardFor(k)
		sh.mu.Lock()
		if e, ok := sh.m[k]; ok {
			if e.expires > t {
				n++
			}
			sh.remove(k, e) // unlinks it from its eviction list too
		}
		sh.mu.Unlock()
	}
	return n, nil
}

// SaveSnapshot writes every live key to path atomically (a temporary file
// in the same directory, synced, then renamed over path).
func (s *refStore) SaveSnapshot(path string) error {
	t := s.now().UnixNano()
	f := snapshotFile{Format: snapshotFormat, Version: 1, Saved: time.Unix(0, t).UTC()}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if e.expires > t {
				f.Entries = append(f.Entries, snapshotEntry{Key: k, Count: e.count, Expires: e.expires, Ban: e.ban,
					Class: uint8(e.listID().class), Group: e.listID().group, Since: e.since})
			}
		}
		sh.mu.Unlock()
	}
	data, err := json.Marshal(&f)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// load reads a snapshot, dropping expired entries. It changes nothing
// when the file is unreadable or not a snapshot.
func (s *refStore) load(path string, now time.Time) (loaded, dropped int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	var f snapshotFile
	if err := json.Unmarshal(data, &f); err != nil {
		return 0, 0, fmt.Errorf("not a snapshot: %v", err)
	}
	if f.Format != snapshotFormat || f.Version != 1 {
		return 0, 0, fmt.Errorf("not a wootguard memory snapshot (format %q version %d)", f.Format, f.Version)
	}
	t := now.UnixNano()
	for _, e := range f.Entries {
		if e.Expires <= t || e.Key == "" || e.Class > uint8(store.ClassBan) {
			dropped++
			continue
		}
		sh := s.shardFor(e.Key)
		sh.mu.Lock()
		s.put(sh, e.Key, refEntry{count: e.Count, expires: e.Expires, ban: e.Ban, since: e.Since}, listID{store.Class(e.Class), e.Group}, t)
		sh.mu.Unlock()
		loaded++
	}
	return loaded, dropped, nil
}
