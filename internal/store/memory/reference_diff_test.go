package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// The slab must behave exactly as the map it replaced: these tests drive
// the store and the old implementation (reference_old_test.go) with the
// same random operations at the same injected times and compare every
// answer, and every few steps each shard's keys, counts, lifetimes,
// bans, ban starts, eviction lists in order, and the eviction counters.

// diffGen makes random operations over a key pool built to hurt the slab:
// the empty key, keys that differ only in their last byte, keys of
// kilobytes (the arena compacts often), keys sharing prefixes (Reset).
type diffGen struct {
	rng     *rand.Rand
	pool    []string
	now     int64
	partner map[string]string // with colliding keys (useCollisions): the other key of each pair
}

func newDiffGen(seed uint64, poolSize int) *diffGen {
	g := &diffGen{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), now: t0.UnixNano()}
	g.pool = append(g.pool, "", "x", "x\x00", strings.Repeat("L", 3000)+"a", strings.Repeat("L", 3000)+"b")
	for i := 0; len(g.pool) < poolSize; i++ {
		g.pool = append(g.pool, fmt.Sprintf("k%d:%s", i, strings.Repeat("y", i%53)))
	}
	return g
}

// useCollisions replaces the pool with pairs of keys that have the same
// shard and the same 32-bit hash in s, and makes every operation use pool
// keys as they are (a prefix would change the hash): a failure's ban is
// the partner of its counter.
func (g *diffGen) useCollisions(t *testing.T, s *Store, pairs int) {
	g.pool, g.partner = collidingKeys(t, s, pairs), map[string]string{}
	for i := 0; i < len(g.pool); i += 2 {
		g.partner[g.pool[i]], g.partner[g.pool[i+1]] = g.pool[i+1], g.pool[i]
	}
}

// k is the key of a kind (its prefix) for discriminator d.
func (g *diffGen) k(prefix, d string) string {
	switch {
	case g.partner == nil:
		return prefix + d
	case prefix == "b:":
		return g.partner[d]
	}
	return d
}

func (g *diffGen) disc() string { return g.pool[g.rng.IntN(len(g.pool))] }

// crossPrefix is mostly "", sometimes another kind's prefix: a count or
// a trust key that lands on a ban, a failure or a history key.
func (g *diffGen) crossPrefix() string {
	return []string{"", "", "", "", "", "", "b:", "f:", "h:", "t:"}[g.rng.IntN(10)]
}

func (g *diffGen) class() store.Class { return store.Class(g.rng.IntN(int(store.ClassBan) + 1)) }

func (g *diffGen) group() string { return []string{"", "a", "b", "req/ip"}[g.rng.IntN(4)] }

func (g *diffGen) ttl() time.Duration {
	return []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 61 * time.Second}[g.rng.IntN(4)]
}

// op returns one random operation; failures and ban checks share BanKeys
// with trust checks so that programs stop, skip and ban.
func (g *diffGen) op() store.Op {
	d := g.disc()
	switch g.rng.IntN(9) {
	case 0:
		return store.Op{Kind: store.OpCount, Key: g.k(g.crossPrefix(), d), TTL: g.ttl(), Class: g.class(), Group: g.group()}
	case 1, 2:
		return store.Op{Kind: store.OpThrottle, Key: g.k("t:", d), TTL: g.ttl(), Limit: int64(1 + g.rng.IntN(4)), Enforce: g.rng.IntN(2) == 0, Class: g.class(), Group: g.group()}
	case 3:
		period := []int64{1, 2, 10}[g.rng.IntN(3)]
		unix := g.now / int64(time.Second)
		key, at := "sw:"+strconv.FormatInt(unix/period, 10)+":"+d, 3
		if g.partner != nil {
			key, at = d, 0
		}
		return store.Op{Kind: store.OpThrottle, Algorithm: store.SlidingWindow, Key: key, WindowAt: at,
			Period: period, TTL: time.Duration(period) * time.Second, Limit: int64(1 + g.rng.IntN(4)), Enforce: g.rng.IntN(2) == 0, Class: g.class(), Group: g.group()}
	case 4:
		return store.Op{Kind: store.OpThrottle, Algorithm: store.GCRA, Key: g.k("g:", d), Period: int64(1 + g.rng.IntN(10)), Rate: int64(1 + g.rng.IntN(5)),
			Limit: int64(1 + g.rng.IntN(5)), Enforce: g.rng.IntN(2) == 0, Class: g.class(), Group: g.group()}
	case 5, 6:
		op := store.Op{Kind: store.OpFailure, Key: g.k("f:", d), TTL: g.ttl(), Limit: int64(1 + g.rng.IntN(3)), BanKey: g.k("b:", d),
			BanTTL: []time.Duration{time.Second, 5 * time.Second, time.Minute}[g.rng.IntN(3)], StopOnCount: g.rng.IntN(2) == 0, Class: g.class(), Group: g.group()}
		if g.rng.IntN(2) == 0 {
			op.HistoryKey, op.HistoryTTL, op.BanFactor, op.BanMaxTTL = g.k("h:", d), 30*time.Second, 2, time.Hour
		}
		return op
	case 7:
		return store.Op{Kind: store.OpBanCheck, BanKey: g.k("b:", d), Enforce: g.rng.IntN(3) != 0}
	default:
		if g.rng.IntN(2) == 0 {
			return store.Op{Kind: store.OpTrustCheck, Key: g.k("tr:", d), BanKey: g.k("b:", d)}
		}
		return store.Op{Kind: store.OpTrustSet, Key: g.k([]string{"tr:", "b:"}[g.rng.IntN(2)], d), TTL: g.ttl()}
	}
}

// program returns 1 to 5 operations, often a rule's ban check and failure
// on the same discriminator.
func (g *diffGen) program() []store.Op {
	var p []store.Op
	for range 1 + g.rng.IntN(5) {
		if g.rng.IntN(4) == 0 {
			f := g.op()
			for f.Kind != store.OpFailure {
				f = g.op()
			}
			p = append(p, store.Op{Kind: store.OpBanCheck, BanKey: f.BanKey, Enforce: true}, f)
			continue
		}
		p = append(p, g.op())
	}
	return p
}

// step moves the clock: mostly forward by less than touchEvery or by a
// few seconds, sometimes past every lifetime, now and then back a little
// (callers' clocks are not monotonic across goroutines).
func (g *diffGen) step() {
	d := []time.Duration{0, time.Millisecond, 300 * time.Millisecond, 999 * time.Millisecond, time.Second,
		1500 * time.Millisecond, 5 * time.Second, 70 * time.Second, -400 * time.Millisecond}[g.rng.IntN(9)]
	g.now += int64(d)
}

func newResult(n int) store.Result {
	return store.Result{Counts: make([]int64, n), Banned: make([]bool, n), Reset: make([]time.Duration, n)}
}

func sameResult(a, b store.Result) bool {
	return a.Stop == b.Stop && a.StopAt == b.StopAt && a.BanTTL == b.BanTTL && a.Now.Equal(b.Now) &&
		slices.Equal(a.Counts, b.Counts) && slices.Equal(a.Banned, b.Banned) && slices.Equal(a.Reset, b.Reset)
}

// refListOrder is listOrder for the reference shard.
func refListOrder(sh *refShard) map[listID][]string {
	out := map[listID][]string{}
	for id, l := range sh.lists {
		for e := l.head; e != nil; e = e.next {
			out[id] = append(out[id], e.key)
		}
	}
	return out
}

type diffEntry struct {
	key                            string
	count, expires, touched, since int64
	ban                            bool
	list                           listID
}

func slabEntries(sh *shard) []diffEntry {
	var out []diffEntry
	for i := range sh.entries {
		if e := &sh.entries[i]; e.flags&inUse != 0 {
			out = append(out, diffEntry{string(sh.key(e)), e.count, e.expires, e.touched, sh.since[int32(i)], e.flags&banned != 0, sh.listID(e)})
		}
	}
	slices.SortFunc(out, func(a, b diffEntry) int { return strings.Compare(a.key, b.key) })
	return out
}

func refEntries(sh *refShard) []diffEntry {
	var out []diffEntry
	for k, e := range sh.m {
		out = append(out, diffEntry{k, e.count, e.expires, e.touched, e.since, e.ban, e.listID()})
	}
	slices.SortFunc(out, func(a, b diffEntry) int { return strings.Compare(a.key, b.key) })
	return out
}

// compareStores fails unless every shard of s holds what the reference's
// does, in the same eviction order.
func compareStores(t *testing.T, step int, s *Store, ref *refStore) {
	t.Helper()
	for i := range s.shards {
		sh, rsh := &s.shards[i], &ref.shards[i]
		if got, want := slabEntries(sh), refEntries(rsh); !slices.Equal(got, want) {
			t.Fatalf("step %d shard %d: entries\n got %v\nwant %v", step, i, got, want)
		}
		if got, want := listOrder(sh), refListOrder(rsh); !maps.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("step %d shard %d: eviction lists\n got %v\nwant %v", step, i, got, want)
		}
		if sh.lastSweep != rsh.lastSweep {
			t.Fatalf("step %d shard %d: last sweep %d, want %d", step, i, sh.lastSweep, rsh.lastSweep)
		}
	}
	if s.Len() != ref.Len() || s.EvictionsByClass() != ref.EvictionsByClass() || s.Evictions() != ref.Evictions() {
		t.Fatalf("step %d: %d keys, evictions %v; want %d, %v", step, s.Len(), s.EvictionsByClass(), ref.Len(), ref.EvictionsByClass())
	}
}

// readSnapshot returns the entries of the snapshot at path by key.
func readSnapshot(t *testing.T, path string) []snapshotEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f snapshotFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(f.Entries, func(a, b snapshotEntry) int { return strings.Compare(a.Key, b.Key) })
	return f.Entries
}

// compareSnapshots fails unless s and ref write the same snapshot, and
// loading it into a store half as big (which evicts while loading) gives
// the same store in both implementations.
func compareSnapshots(t *testing.T, step int, s *Store, ref *refStore, dir string, smaller Options) {
	t.Helper()
	mine, theirs := filepath.Join(dir, "slab"), filepath.Join(dir, "ref")
	if err := s.SaveSnapshot(mine); err != nil {
		t.Fatal(err)
	}
	if err := ref.SaveSnapshot(theirs); err != nil {
		t.Fatal(err)
	}
	if got, want := readSnapshot(t, mine), readSnapshot(t, theirs); !slices.Equal(got, want) {
		t.Fatalf("step %d: snapshot\n got %+v\nwant %+v", step, got, want)
	}
	s2, ref2 := New(smaller), newRefStore(smaller)
	defer s2.Close()
	defer ref2.Close()
	ref2.seed = s2.seed
	now := smaller.Now()
	n1, d1, err1 := s2.load(mine, now)
	n2, d2, err2 := ref2.load(mine, now)
	if n1 != n2 || d1 != d2 || err1 != nil || err2 != nil {
		t.Fatalf("step %d: loaded %d %d %v, want %d %d %v", step, n1, d1, err1, n2, d2, err2)
	}
	compareStores(t, step, s2, ref2)
	checkShards(t, s2)
}

// diffRun drives both stores for steps random steps.
func diffRun(t *testing.T, g *diffGen, maxKeys, shards, steps, collisions int) {
	if raceEnabled {
		steps /= 5
	}
	opts := Options{MaxKeys: maxKeys, Shards: shards, SweepEvery: -1, Now: func() time.Time { return time.Unix(0, g.now) }}
	s, ref := New(opts), newRefStore(opts)
	defer s.Close()
	defer ref.Close()
	ref.seed = s.seed // the same keys in the same shards
	if collisions > 0 {
		g.useCollisions(t, s, collisions)
	}
	ctx := context.Background()
	dir := t.TempDir()
	for step := range steps {
		now := time.Unix(0, g.now)
		switch r := g.rng.IntN(100); {
		case r < 55, r < 65:
			p := g.program()
			got, want := newResult(len(p)), newResult(len(p))
			if r < 55 {
				s.Run(ctx, now, p, &got)
				ref.Run(ctx, now, p, &want)
			} else {
				s.Peek(ctx, now, p, &got)
				ref.Peek(ctx, now, p, &want)
			}
			if !sameResult(got, want) {
				t.Fatalf("step %d (%d): program %+v\n got %+v\nwant %+v", step, r, p, got, want)
			}
		case r < 70:
			op := g.op()
			for op.Kind != store.OpFailure {
				op = g.op()
			}
			c1, b1, _ := s.Fail(ctx, now, op)
			c2, b2, _ := ref.Fail(ctx, now, op)
			if c1 != c2 || b1 != b2 {
				t.Fatalf("step %d: Fail %+v = %d %v, want %d %v", step, op, c1, b1, c2, b2)
			}
		case r < 78:
			keys := []string{g.disc(), g.k("t:", g.disc()), g.k("b:", g.disc()), g.k("f:", g.disc())}
			n1, _ := s.Delete(ctx, keys...)
			n2, _ := ref.Delete(ctx, keys...)
			if n1 != n2 {
				t.Fatalf("step %d: Delete(%q) = %d, want %d", step, keys, n1, n2)
			}
		case r < 79:
			p := []string{"t:", "b:", "f:k1", "sw:", "g:k", "k2", "h:"}[g.rng.IntN(7)]
			n1, _ := s.Reset(ctx, p)
			n2, _ := ref.Reset(ctx, p)
			if n1 != n2 {
				t.Fatalf("step %d: Reset(%q) = %d, want %d", step, p, n1, n2)
			}
		case r < 82:
			s.Sweep(now)
			ref.Sweep(now)
		case r < 84:
			p := []string{"", "b:", "b:k1"}[g.rng.IntN(3)]
			b1, _ := s.Bans(ctx, now, p)
			b2, _ := ref.Bans(ctx, now, p)
			byKey := func(a, b store.Ban) int { return strings.Compare(a.Key, b.Key) }
			slices.SortFunc(b1, byKey)
			slices.SortFunc(b2, byKey)
			if fmt.Sprint(b1) != fmt.Sprint(b2) {
				t.Fatalf("step %d: Bans(%q)\n got %v\nwant %v", step, p, b1, b2)
			}
		case r < 85 && g.rng.IntN(5) == 0: // a snapshot is synced to disk: not too often
			compareSnapshots(t, step, s, ref, dir, Options{MaxKeys: max(maxKeys/2, 1), Shards: shards, SweepEvery: -1, Now: opts.Now})
		default:
			g.step()
		}
		if step%4 == 0 { // a difference in state persists: no need to look every step
			compareStores(t, step, s, ref)
		}
		if step%64 == 0 {
			checkShards(t, s)
		}
	}
	checkShards(t, s)
}

// TestSlabMatchesTheMapImplementation: small stores evict on most
// inserts (every class, many groups), big pools spray, the clock jumps
// past every lifetime so sweeps rebuild shards; the answers and the
// state must match the old implementation's.
func TestSlabMatchesTheMapImplementation(t *testing.T) {
	for _, c := range []struct{ maxKeys, shards, pool, steps, collisions int }{
		{8, 1, 20, 20_000, 0},
		{40, 1, 60, 20_000, 0},
		{40, 3, 200, 20_000, 0},
		{300, 2, 2000, 12_000, 0},
		{1000, 1, 400, 8_000, 0},
		{12, 1, 0, 10_000, 10}, // every key shares its 32-bit hash with another
		{100, 2, 0, 10_000, 16},
	} {
		t.Run(fmt.Sprintf("max%d-shards%d-pool%d-collisions%d", c.maxKeys, c.shards, c.pool, c.collisions), func(t *testing.T) {
			diffRun(t, newDiffGen(uint64(c.maxKeys*31+c.shards), c.pool), c.maxKeys, c.shards, c.steps, c.collisions)
		})
	}
}
