package memory

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

var t0 = time.Unix(1_800_000_000, 0)

func run(t *testing.T, s *Store, now time.Time, ops ...store.Op) store.Result {
	t.Helper()
	res := store.Result{Counts: make([]int64, len(ops)), Banned: make([]bool, len(ops))}
	if err := s.Run(context.Background(), now, ops, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestProgramSemantics(t *testing.T) {
	s := New(Options{SweepEvery: -1})
	defer s.Close()
	thr := func(k string, limit int64) store.Op {
		return store.Op{Kind: store.OpThrottle, Key: k, TTL: time.Minute, Limit: limit, Enforce: true}
	}
	// Stops at the first exceeded throttle; later ones are not counted.
	run(t, s, t0, thr("a", 1), thr("b", 5))
	res := run(t, s, t0, thr("a", 1), thr("b", 5))
	if res.Stop != store.StopThrottled || res.StopAt != 0 || res.Counts[0] != 2 || res.Counts[1] != 0 {
		t.Fatalf("%+v", res)
	}
	if got := run(t, s, t0, thr("b", 5)).Counts[0]; got != 2 {
		t.Fatalf("b = %d, want 2", got)
	}
	// Fail2Ban: ban at maxretry, then banned requests are not counted.
	f := store.Op{Kind: store.OpFailure, Key: "fc", TTL: time.Minute, Limit: 2, BanKey: "ban", BanTTL: time.Hour, StopOnCount: true}
	ban := store.Op{Kind: store.OpBanCheck, BanKey: "ban", Enforce: true}
	if r := run(t, s, t0, ban, f); r.Stop != store.StopFailed || r.Banned[1] {
		t.Fatalf("first failure %+v", r)
	}
	if r := run(t, s, t0, ban, f); !r.Banned[1] {
		t.Fatalf("second failure should ban %+v", r)
	}
	r := run(t, s, t0.Add(10*time.Minute), ban, f)
	if r.Stop != store.StopBanned || r.BanTTL != 50*time.Minute {
		t.Fatalf("banned %+v", r)
	}
	if r := run(t, s, t0.Add(time.Hour), ban, f); r.Stop != store.StopFailed {
		t.Fatalf("after the ban %+v", r)
	}
}

func TestKeysExpireAtWindowEnd(t *testing.T) {
	s := New(Options{SweepEvery: -1})
	defer s.Close()
	op := store.Op{Kind: store.OpCount, Key: "k", TTL: 61 * time.Second}
	run(t, s, t0, op)
	if c := run(t, s, t0.Add(60*time.Second), op).Counts[0]; c != 2 {
		t.Fatalf("before expiry %d", c)
	}
	if c := run(t, s, t0.Add(61*time.Second), op).Counts[0]; c != 1 {
		t.Fatalf("after expiry %d", c)
	}
	s.Sweep(t0.Add(200 * time.Second))
	if s.Len() != 0 {
		t.Fatalf("sweep left %d keys", s.Len())
	}
}

func TestBoundedKeysEvictCountersBeforeBans(t *testing.T) {
	s := New(Options{MaxKeys: 64, Shards: 1, SweepEvery: -1})
	defer s.Close()
	// Ten bans, then a spray of a thousand new counters (an attacker with
	// many addresses).
	for i := 0; i < 10; i++ {
		s.Fail(context.Background(), t0, store.Op{Kind: store.OpFailure, Key: fmt.Sprint("f", i), TTL: time.Minute, Limit: 1,
			BanKey: fmt.Sprint("ban", i), BanTTL: time.Hour})
	}
	for i := 0; i < 1000; i++ {
		run(t, s, t0, store.Op{Kind: store.OpCount, Key: fmt.Sprint("spray", i), TTL: time.Minute})
	}
	if s.Len() > 64 {
		t.Fatalf("%d keys, bound 64", s.Len())
	}
	if s.Evictions() < 1000-64 {
		t.Fatalf("evictions %d", s.Evictions())
	}
	banned := 0
	for i := 0; i < 10; i++ {
		if s.banLeft(fmt.Sprint("ban", i), t0.UnixNano()) > 0 {
			banned++
		}
	}
	if banned != 10 {
		t.Fatalf("%d of 10 bans survived the spray", banned)
	}
	// Expired keys go first, before any live key is evicted.
	before := s.Evictions()
	run(t, s, t0.Add(2*time.Hour), store.Op{Kind: store.OpCount, Key: "late", TTL: time.Minute})
	if s.Evictions() != before {
		t.Fatal("evicted a key although expired ones could be swept")
	}
}

func TestConcurrentIncrementsAreExact(t *testing.T) {
	s := New(Options{SweepEvery: time.Millisecond})
	defer s.Close()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				res := store.Result{Counts: make([]int64, 1), Banned: make([]bool, 1)}
				s.Run(context.Background(), time.Now(), []store.Op{{Kind: store.OpCount, Key: "shared", TTL: time.Hour}}, &res)
			}
		}()
	}
	wg.Wait()
	res := run(t, s, time.Now(), store.Op{Kind: store.OpCount, Key: "shared", TTL: time.Hour})
	if res.Counts[0] != 4001 {
		t.Fatalf("count %d, want 4001 (atomic per key, unlike rack-attack #496)", res.Counts[0])
	}
	if n, _ := s.Reset(context.Background(), "sha"); n != 1 || s.Len() != 0 {
		t.Fatalf("reset %d, left %d", n, s.Len())
	}
}
