package memory

import (
	"context"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// These tests pin the semantics store.go documents for OpTrustCheck,
// OpTrustSet and ban escalation, which every store must share.

func TestTrustCheckSkipsTheRulesLaterOps(t *testing.T) {
	s := New(Options{SweepEvery: -1})
	defer s.Close()
	ban := store.Op{Kind: store.OpBanCheck, BanKey: "ban:a", Enforce: true}
	fail := store.Op{Kind: store.OpFailure, Key: "fc:a", TTL: time.Minute, Limit: 1, BanKey: "ban:a", BanTTL: time.Hour}
	check := store.Op{Kind: store.OpTrustCheck, Key: "trust:a:1.2.3.4", BanKey: "ban:a"}
	other := store.Op{Kind: store.OpThrottle, Key: "th", TTL: time.Minute, Limit: 10, Enforce: true}

	// Untrusted: the check does nothing; the failure bans.
	res := run(t, s, t0, check, fail)
	if res.Counts[0] != 0 || !res.Banned[1] {
		t.Fatalf("untrusted %+v", res)
	}
	if res := run(t, s, t0, check, ban); res.Stop != store.StopBanned || res.StopAt != 1 {
		t.Fatalf("untrusted banned pair not stopped: %+v", res)
	}
	// Trusted: the ban check and the failure of that BanKey are skipped,
	// a later op of another rule still runs.
	if res := run(t, s, t0, store.Op{Kind: store.OpTrustSet, Key: "trust:a:1.2.3.4", TTL: 30 * time.Second}); res.Counts[0] != 1 {
		t.Fatalf("trust set %+v", res)
	}
	res = run(t, s, t0, check, ban, fail, other)
	if res.Stop != store.Completed || res.Counts[0] != 1 || res.Counts[2] != 0 || res.Banned[2] || res.Counts[3] != 1 {
		t.Fatalf("trusted %+v", res)
	}
	if got := run(t, s, t0, store.Op{Kind: store.OpThrottle, Key: "fc:a", TTL: time.Minute, Limit: 99}).Counts[0]; got != 2 {
		t.Fatalf("the skipped failure was counted: fc:a = %d, want 2", got)
	}
	// Trust expires after its TTL; setting it again replaces the lifetime.
	if res := run(t, s, t0.Add(30*time.Second), check, ban); res.Stop != store.StopBanned {
		t.Fatalf("expired trust still skips: %+v", res)
	}
	run(t, s, t0.Add(40*time.Second), store.Op{Kind: store.OpTrustSet, Key: "trust:a:1.2.3.4", TTL: time.Minute})
	if res := run(t, s, t0.Add(99*time.Second), check, ban); res.Stop != store.Completed {
		t.Fatalf("refreshed trust: %+v", res)
	}
}

func TestBanEscalation(t *testing.T) {
	s := New(Options{SweepEvery: -1})
	defer s.Close()
	at := t0
	banFor := func() time.Duration {
		t.Helper()
		f := store.Op{Kind: store.OpFailure, Key: "fc:" + at.String(), TTL: time.Minute, Limit: 1, BanKey: "ban", BanTTL: 10 * time.Second,
			HistoryKey: "hist", HistoryTTL: time.Hour, BanFactor: 2, BanMaxTTL: 35 * time.Second}
		if _, banned, err := s.Fail(context.Background(), at, f); err != nil || !banned {
			t.Fatalf("no ban: %v", err)
		}
		res := run(t, s, at, store.Op{Kind: store.OpBanCheck, BanKey: "ban", Enforce: true})
		return res.BanTTL
	}
	for i, want := range []time.Duration{10, 20, 35, 35} {
		if got := banFor(); got != want*time.Second {
			t.Fatalf("ban %d lasts %s, want %ds", i+1, got, want)
		}
		at = at.Add(10 * time.Minute) // within the history's hour
	}
	// The history lasts HistoryTTL after the last ban: then it starts over.
	at = at.Add(time.Hour)
	if got := banFor(); got != 10*time.Second {
		t.Fatalf("after the history expired: %s", got)
	}
	// Without HistoryKey the ban lasts BanTTL.
	f := store.Op{Kind: store.OpFailure, Key: "plain", TTL: time.Minute, Limit: 1, BanKey: "ban2", BanTTL: 7 * time.Second}
	s.Fail(context.Background(), at, f)
	s.Fail(context.Background(), at, f)
	if got := run(t, s, at, store.Op{Kind: store.OpBanCheck, BanKey: "ban2", Enforce: true}).BanTTL; got != 7*time.Second {
		t.Fatalf("plain ban %s", got)
	}
}

func TestEscalatedBanTTL(t *testing.T) {
	const ten = 10 * 365 * 24 * time.Hour
	for _, c := range []struct {
		base   time.Duration
		factor float64
		max    time.Duration
		n      int64
		want   time.Duration
	}{
		{time.Hour, 2, 24 * time.Hour, 1, time.Hour},
		{time.Hour, 2, 24 * time.Hour, 2, 2 * time.Hour},
		{time.Hour, 2, 24 * time.Hour, 5, 16 * time.Hour},
		{time.Hour, 2, 24 * time.Hour, 6, 24 * time.Hour},
		{time.Hour, 2, 24 * time.Hour, 1 << 40, 24 * time.Hour}, // no overflow
		{time.Hour, 1.5, 0, 3, 2*time.Hour + 15*time.Minute},
		{time.Hour, 0.5, 0, 9, time.Hour}, // factor < 1 is 1
		{time.Hour, 100, 0, 1000, ten},    // max 0 is ten years
		{time.Hour, 2, 0, 0, time.Hour},   // n < 1 is the first ban
	} {
		if got := store.EscalatedBanTTL(c.base, c.factor, c.max, c.n); got != c.want {
			t.Errorf("EscalatedBanTTL(%s, %g, %s, %d) = %s, want %s", c.base, c.factor, c.max, c.n, got, c.want)
		}
	}
}
