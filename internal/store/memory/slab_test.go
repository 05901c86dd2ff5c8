package memory

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// checkShards verifies the slab's invariants: every entry in use is in
// the index under its key and in exactly one eviction list, the free
// chain holds the rest, and the arena's dead bytes are what no key uses.
func checkShards(t *testing.T, s *Store) {
	t.Helper()
	for si := range s.shards {
		sh := &s.shards[si]
		used, keyBytes := 0, 0
		for i := range sh.entries {
			e := &sh.entries[i]
			if e.flags&inUse == 0 {
				continue
			}
			used++
			keyBytes += int(e.keyLen)
			if got := sh.find(string(sh.key(e)), e.hash); got != int32(i) {
				t.Fatalf("shard %d: entry %d (%q) found as %d", si, i, sh.key(e), got)
			}
			if _, ok := sh.since[int32(i)]; ok != (e.flags&banned != 0) {
				t.Fatalf("shard %d: entry %d: ban flag %v, start recorded %v", si, i, e.flags&banned != 0, ok)
			}
		}
		if used != sh.n {
			t.Fatalf("shard %d: %d entries in use, n = %d", si, used, sh.n)
		}
		slots := 0
		for _, v := range sh.index {
			if v != 0 {
				slots++
				if sh.entries[v-1].flags&inUse == 0 {
					t.Fatalf("shard %d: the index points at free entry %d", si, v-1)
				}
			}
		}
		if slots != sh.n {
			t.Fatalf("shard %d: %d index slots, n = %d", si, slots, sh.n)
		}
		free := 0
		for i := sh.free; i >= 0; i = sh.entries[i].next {
			if sh.entries[i].flags&inUse != 0 || free > len(sh.entries) {
				t.Fatalf("shard %d: the free chain is broken at %d", si, i)
			}
			free++
		}
		if free != len(sh.entries)-sh.n {
			t.Fatalf("shard %d: %d free entries, want %d", si, free, len(sh.entries)-sh.n)
		}
		if len(sh.keys)-sh.dead != keyBytes {
			t.Fatalf("shard %d: arena %d bytes, %d dead, keys use %d", si, len(sh.keys), sh.dead, keyBytes)
		}
		listed := 0
		for n := range sh.lists {
			l := &sh.lists[n]
			walked, prev := 0, int32(-1)
			for i := l.head; i >= 0; i = sh.entries[i].next {
				e := &sh.entries[i]
				if e.list != uint16(n) || e.prev != prev || walked > sh.n {
					t.Fatalf("shard %d list %d: entry %d has list %d prev %d (want %d)", si, n, i, e.list, e.prev, prev)
				}
				prev = i
				walked++
			}
			if walked != l.n || (l.n > 0 && l.tail != prev) {
				t.Fatalf("shard %d list %d: walked %d, n %d, tail %d (last %d)", si, n, walked, l.n, l.tail, prev)
			}
			if l.n > 0 && sh.listOf[l.id] != uint16(n) {
				t.Fatalf("shard %d list %d: not numbered under its id %+v", si, n, l.id)
			}
			listed += walked
		}
		if listed != sh.n {
			t.Fatalf("shard %d: %d entries listed, n = %d", si, listed, sh.n)
		}
	}
}

// TestSlabMatchesAMap drives the store with random counts, deletes,
// resets, bans and expiries (keys of many lengths, so the arena compacts
// and the index grows and shifts) and compares every counter with a
// plain map, checking the slab's invariants as it goes. The store is big
// enough never to evict, so the two must agree exactly.
func TestSlabMatchesAMap(t *testing.T) {
	for _, shards := range []int{1, 3, 64} {
		t.Run(fmt.Sprint(shards, "-shards"), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(shards)))
			now := t0
			s := New(Options{MaxKeys: 10_000, Shards: shards, SweepEvery: -1, Now: func() time.Time { return now }})
			defer s.Close()
			model := map[string]int64{} // every key live at now (see the default case)
			keyOf := func() string {
				n := rng.IntN(400)
				return fmt.Sprintf("k%d:%s", n, strings.Repeat("x", n%37))
			}
			ctx := context.Background()
			for step := range 20_000 {
				switch r := rng.IntN(100); {
				case r < 70:
					k := keyOf()
					got := run(t, s, now, store.Op{Kind: store.OpCount, Key: k, TTL: time.Duration(1+rng.IntN(30)) * time.Second}).Counts[0]
					model[k]++
					if got != model[k] {
						t.Fatalf("step %d: %q counted %d, want %d", step, k, got, model[k])
					}
				case r < 80:
					k := keyOf()
					n, _ := s.Delete(ctx, k)
					_, had := model[k]
					if had != (n == 1) {
						t.Fatalf("step %d: Delete(%q) = %d, model has it: %v", step, k, n, had)
					}
					delete(model, k)
				case r < 82:
					p := fmt.Sprintf("k%d", rng.IntN(40))
					s.Reset(ctx, p)
					for k := range model {
						if strings.HasPrefix(k, p) {
							delete(model, k)
						}
					}
				case r < 85:
					ban := "ban:" + keyOf()
					run(t, s, now, store.Op{Kind: store.OpFailure, Key: "f:" + ban, TTL: time.Hour, Limit: 1, BanKey: ban, BanTTL: time.Minute})
					if s.banLeft(ban, now.UnixNano()) != time.Minute {
						t.Fatalf("step %d: ban %q not set", step, ban)
					}
					model["f:"+ban]++
					if r == 84 {
						if n, _ := s.Delete(ctx, ban); n != 1 {
							t.Fatalf("step %d: Delete(%q) = %d", step, ban, n)
						}
					}
				default:
					// Time passes: whatever the store lets expire, the model
					// forgets; what it keeps must still count as the model says.
					now = now.Add(time.Duration(rng.IntN(3)) * time.Second)
					s.Sweep(now)
					for k, c := range model {
						got := s.get(k, now.UnixNano())
						if got == 0 {
							delete(model, k)
							continue
						}
						if got != c {
							t.Fatalf("step %d: %q = %d after the sweep, want %d", step, k, got, c)
						}
					}
				}
				if step%997 == 0 {
					checkShards(t, s)
				}
			}
			checkShards(t, s)
			if s.Len() < len(model) {
				t.Fatalf("store holds %d keys, the model %d", s.Len(), len(model))
			}
		})
	}
}

// TestSlabUnderEviction: a spray through a small store keeps the slab's
// invariants, never grows it past the bound, and leaves the most
// recently sprayed keys exact.
func TestSlabUnderEviction(t *testing.T) {
	s := New(Options{MaxKeys: 256, Shards: 4, SweepEvery: -1})
	defer s.Close()
	for i := range 20_000 {
		k := fmt.Sprintf("w:1:req/ip:10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		run(t, s, t0, store.Op{Kind: store.OpThrottle, Key: k, TTL: time.Minute, Limit: 1 << 40, Class: store.ClassThrottle, Group: "req/ip"})
		if i%1000 == 0 {
			checkShards(t, s)
		}
	}
	checkShards(t, s)
	for i := range s.shards {
		if sh := &s.shards[i]; len(sh.entries) > s.maxPerShard || cap(sh.entries) > s.maxPerShard {
			t.Fatalf("shard %d: slab %d (cap %d), bound %d", i, len(sh.entries), cap(sh.entries), s.maxPerShard)
		}
	}
	if s.Len() > 256 || s.Evictions() < 20_000-256 {
		t.Fatalf("%d keys, %d evictions", s.Len(), s.Evictions())
	}
	k := "w:1:req/ip:10.0.78.31" // the last one sprayed (19999)
	if c := run(t, s, t0, store.Op{Kind: store.OpThrottle, Key: k, TTL: time.Minute, Limit: 1 << 40, Class: store.ClassThrottle, Group: "req/ip"}).Counts[0]; c != 2 {
		t.Fatalf("the last sprayed key counts %d, want 2", c)
	}
}

// listOrder returns each eviction list's keys, most recently used first.
func listOrder(sh *shard) map[listID][]string {
	out := map[listID][]string{}
	for n := range sh.lists {
		for i := sh.lists[n].head; i >= 0; i = sh.entries[i].next {
			out[sh.lists[n].id] = append(out[sh.lists[n].id], string(sh.key(&sh.entries[i])))
		}
	}
	return out
}

// TestSweepShrinksAfterASpray: once a spray's keys have expired, the
// sweep gives their room back (the slab, index and arena are rebuilt for
// what is left) and what is left keeps its counts, bans and eviction order.
func TestSweepShrinksAfterASpray(t *testing.T) {
	s := New(Options{MaxKeys: 100_000, Shards: 1, SweepEvery: -1})
	defer s.Close()
	thr := func(key, group string, ttl time.Duration) store.Op {
		return store.Op{Kind: store.OpThrottle, Key: key, TTL: ttl, Limit: 1 << 40, Class: store.ClassSecurity, Group: group, Enforce: true}
	}
	now := t0
	for i := range 20 {
		run(t, s, now, thr(fmt.Sprint("login/ip:", i), "login/ip", time.Hour))
		run(t, s, now, thr(fmt.Sprint("login/email:", i), "login/email", time.Hour))
	}
	run(t, s, now, store.Op{Kind: store.OpFailure, Key: "f", TTL: time.Hour, Limit: 1, BanKey: "ban", BanTTL: time.Hour})
	for i := range 20_000 {
		run(t, s, now, thr(fmt.Sprint("req/ip:10.0.", i), "req/ip", time.Minute))
	}
	for i := 0; i < 20; i += 3 { // a different order than insertion
		now = now.Add(time.Second)
		run(t, s, now, thr(fmt.Sprint("login/ip:", i), "login/ip", time.Hour))
	}
	sh := &s.shards[0]
	peak := cap(sh.entries)
	before := listOrder(sh)
	delete(before, listID{store.ClassSecurity, "req/ip"})
	s.Sweep(now.Add(2 * time.Minute))
	checkShards(t, s)
	if s.Len() != 42 || cap(sh.entries) > 2*42 || len(sh.index) > 128 || cap(sh.keys) > 1024 {
		t.Fatalf("after the sweep: %d keys, slab cap %d (peak %d), index %d, arena %d", s.Len(), cap(sh.entries), peak, len(sh.index), cap(sh.keys))
	}
	after := listOrder(sh)
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("eviction order changed:\n%v\n%v", before, after)
	}
	if c := s.get("login/ip:3", now.UnixNano()); c != 2 {
		t.Fatalf("login/ip:3 = %d, want 2", c)
	}
	if s.banLeft("ban", now.UnixNano()) <= 0 {
		t.Fatal("the ban was lost")
	}
	if bans, _ := s.Bans(t.Context(), now, ""); len(bans) != 1 || !bans[0].Since.Equal(t0) {
		t.Fatalf("bans %+v", bans)
	}
}
