package memory

import (
	"context"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// Peek answers what Run would, for every kind of operation and stop, and
// changes nothing: a Run after any number of Peeks gives the same result.
func TestPeekIsRunWithoutCounting(t *testing.T) {
	ctx := context.Background()
	s := New(Options{SweepEvery: -1})
	defer s.Close()
	thr := store.Op{Kind: store.OpThrottle, Key: "t", TTL: time.Minute, Limit: 2, Enforce: true}
	cnt := store.Op{Kind: store.OpCount, Key: "c", TTL: time.Minute}
	ban := store.Op{Kind: store.OpBanCheck, BanKey: "ban", Enforce: true}
	fail := store.Op{Kind: store.OpFailure, Key: "f", TTL: time.Minute, Limit: 2, BanKey: "ban", BanTTL: time.Hour, StopOnCount: true}
	programs := [][]store.Op{{thr, cnt}, {ban, fail}, {ban, fail, thr}}
	for round := 0; round < 4; round++ {
		for _, p := range programs {
			peek := store.Result{Counts: make([]int64, len(p)), Banned: make([]bool, len(p))}
			for i := 0; i < 3; i++ {
				if err := s.Peek(ctx, t0, p, &peek); err != nil {
					t.Fatal(err)
				}
			}
			got := run(t, s, t0, p...)
			if peek.Stop != got.Stop || peek.StopAt != got.StopAt || peek.BanTTL != got.BanTTL {
				t.Fatalf("round %d %v: peek %+v, run %+v", round, p, peek, got)
			}
			for i := range p {
				if peek.Counts[i] != got.Counts[i] || peek.Banned[i] != got.Banned[i] {
					t.Fatalf("round %d op %d: peek %+v, run %+v", round, i, peek, got)
				}
			}
		}
	}
}

func TestBansAndDelete(t *testing.T) {
	ctx := context.Background()
	s := New(Options{SweepEvery: -1, Now: func() time.Time { return t0 }})
	defer s.Close()
	fail := func(key, ban string) store.Op {
		return store.Op{Kind: store.OpFailure, Key: key, TTL: time.Minute, Limit: 1, BanKey: ban, BanTTL: time.Hour}
	}
	s.Fail(ctx, t0, fail("wg:f:a", "wg:fail2ban:ban:login:1.2.3.4"))
	s.Fail(ctx, t0.Add(time.Second), fail("wg:f:b", "wg:fail2ban:ban:other:5.6.7.8"))
	bans, _ := s.Bans(ctx, t0.Add(2*time.Second), "wg:fail2ban:ban:login:")
	if len(bans) != 1 || bans[0].Key != "wg:fail2ban:ban:login:1.2.3.4" || !bans[0].Since.Equal(t0) || !bans[0].Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("bans %+v", bans)
	}
	if all, _ := s.Bans(ctx, t0, "wg:"); len(all) != 2 {
		t.Fatalf("all bans %+v", all)
	}
	if after, _ := s.Bans(ctx, t0.Add(2*time.Hour), "wg:"); len(after) != 0 {
		t.Fatalf("expired bans listed: %+v", after)
	}
	n, _ := s.Delete(ctx, "wg:fail2ban:ban:login:1.2.3.4", "wg:missing")
	if n != 1 {
		t.Fatalf("deleted %d, want 1", n)
	}
	res := run(t, s, t0, store.Op{Kind: store.OpBanCheck, BanKey: "wg:fail2ban:ban:login:1.2.3.4", Enforce: true})
	if res.Stop != store.Completed {
		t.Fatalf("still banned after Delete: %+v", res)
	}
}
