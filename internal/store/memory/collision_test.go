package memory

import (
	"hash/maphash"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// collidingKeys returns 2×pairs keys, each consecutive two in the same
// shard of s with the same 32-bit hash there (found by brute force: the
// birthday bound needs a few hundred thousand keys for a few dozen pairs).
func collidingKeys(t *testing.T, s *Store, pairs int) []string {
	t.Helper()
	const tries = 1 << 20 // ~128 pairs expected per shard count of 1
	hashes := make([]uint64, 0, tries)
	for i := range tries {
		h := maphash.String(s.seed, "c"+strconv.Itoa(i)) // as shardFor: the shard, then the hash in it
		n := h % uint64(len(s.shards))
		hashes = append(hashes, h>>32<<32|n<<24|uint64(i)) // shard < 256, i < 2^24
	}
	slices.Sort(hashes)
	var out []string
	for j := 1; j < len(hashes) && len(out) < 2*pairs; j++ {
		if hashes[j]>>24 == hashes[j-1]>>24 {
			a, b := "c"+strconv.Itoa(int(hashes[j-1]&(1<<24-1))), "c"+strconv.Itoa(int(hashes[j]&(1<<24-1)))
			out = append(out, a, b)
			j++ // no key in two pairs
		}
	}
	if len(out) < 2*pairs {
		t.Fatalf("found %d colliding pairs in %d keys, want %d", len(out)/2, tries, pairs)
	}
	for i := 0; i < len(out); i += 2 {
		sa, ha := s.shardFor(out[i])
		sb, hb := s.shardFor(out[i+1])
		if sa != sb || ha != hb {
			t.Fatalf("%q and %q do not collide", out[i], out[i+1])
		}
	}
	return out
}

// TestCollidingKeysStayApart: keys with the same hash in the same shard
// (compared by bytes only after the hash) count, expire, ban and delete
// on their own, whichever of the two comes first in the probe run.
func TestCollidingKeysStayApart(t *testing.T) {
	s := New(Options{MaxKeys: 1000, Shards: 1, SweepEvery: -1, Now: func() time.Time { return t0 }})
	defer s.Close()
	keys := collidingKeys(t, s, 8)
	ctx := t.Context()
	count := func(k string, ttl time.Duration) int64 {
		return run(t, s, t0, store.Op{Kind: store.OpCount, Key: k, TTL: ttl}).Counts[0]
	}
	for p := 0; p < len(keys); p += 2 {
		a, b := keys[p], keys[p+1]
		for range p/2 + 2 {
			count(a, time.Hour)
		}
		count(b, time.Minute)
		if got := []int64{s.get(a, t0.UnixNano()), s.get(b, t0.UnixNano())}; got[0] != int64(p/2+2) || got[1] != 1 {
			t.Fatalf("pair %d: counts %v, want [%d 1]", p/2, got, p/2+2)
		}
		if p%4 == 0 { // delete the first of the pair, the other stays
			if n, _ := s.Delete(ctx, a); n != 1 {
				t.Fatalf("Delete(%q) = %d", a, n)
			}
			if s.get(a, t0.UnixNano()) != 0 || s.get(b, t0.UnixNano()) != 1 {
				t.Fatalf("pair %d: after deleting %q: %d, %d", p/2, a, s.get(a, t0.UnixNano()), s.get(b, t0.UnixNano()))
			}
		}
	}
	checkShards(t, s)
	// b's minute passes: the sweep removes every b, every a stays.
	s.Sweep(t0.Add(2 * time.Minute))
	checkShards(t, s)
	for p := 0; p < len(keys); p += 2 {
		want := int64(p/2 + 2)
		if p%4 == 0 {
			want = 0
		}
		if got := s.get(keys[p], t0.Add(2*time.Minute).UnixNano()); got != want || s.get(keys[p+1], t0.UnixNano()) != 0 {
			t.Fatalf("pair %d after the sweep: %d (want %d), partner %d", p/2, got, want, s.get(keys[p+1], t0.UnixNano()))
		}
	}
	// A ban on one key of a pair is not a ban on the other.
	run(t, s, t0, store.Op{Kind: store.OpFailure, Key: "f", TTL: time.Hour, Limit: 1, BanKey: keys[3], BanTTL: time.Hour})
	if s.banLeft(keys[3], t0.UnixNano()) != time.Hour || s.banLeft(keys[2], t0.UnixNano()) != 0 {
		t.Fatalf("ban of %q: %v, its partner %v", keys[3], s.banLeft(keys[3], t0.UnixNano()), s.banLeft(keys[2], t0.UnixNano()))
	}
}
