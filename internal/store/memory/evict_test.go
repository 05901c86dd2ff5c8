package memory

import (
	"fmt"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// TestSprayCannotResetAVictim: an attacker sprays new keys into a full
// store; the victim's login counters (kept in use) and a ban survive, the
// spray evicts its own keys first, and every eviction is counted.
func TestSprayCannotResetAVictim(t *testing.T) {
	s := New(Options{MaxKeys: 100, Shards: 1, SweepEvery: -1})
	defer s.Close()
	now := t0
	op := func(key string, class store.Class, group string) store.Op {
		return store.Op{Kind: store.OpThrottle, Key: key, TTL: time.Hour, Limit: 1 << 40, Class: class, Group: group, Enforce: true}
	}
	loginIP := op("w:1:login/ip:203.0.113.5", store.ClassSecurity, "login/ip")
	loginEmail := op("w:1:login/email:victim@example.com", store.ClassSecurity, "login/email")
	ban := store.Op{Kind: store.OpFailure, Key: "w:1:f:count:x", TTL: time.Hour, Limit: 1, BanKey: "w:f:ban:x", BanTTL: time.Hour, Class: store.ClassSecurity, Group: "f"}
	run(t, s, now, ban)
	for range 4 {
		run(t, s, now, loginIP)
		run(t, s, now, loginEmail)
	}
	sprays := []struct {
		name  string
		class store.Class
		group string
	}{
		{"long-window track keys", store.ClassObserve, "track:spray"},
		{"global per-ip throttle keys", store.ClassThrottle, "req/ip"},
		// The same class as the victim: the email rule being sprayed has
		// the most keys and pays; the victim's email keeps being used.
		{"login emails", store.ClassSecurity, "login/email"},
	}
	for _, sp := range sprays {
		for i := range 5000 {
			run(t, s, now, op(fmt.Sprintf("w:1:%s:%d", sp.group, i), sp.class, sp.group))
			if i%20 == 0 { // the victim keeps trying to log in, a second apart
				now = now.Add(time.Second)
				run(t, s, now, loginEmail)
			}
		}
		if s.Len() > 100 {
			t.Fatalf("%s: %d keys, bound 100", sp.name, s.Len())
		}
		if left := s.banLeft("w:f:ban:x", now.UnixNano()); left <= 0 {
			t.Fatalf("%s evicted the ban", sp.name)
		}
		if c := s.get(loginIP.Key, now.UnixNano()); c != 4 {
			t.Fatalf("%s reset the victim's login/ip counter to %d, want 4", sp.name, c)
		}
		if c := s.get(loginEmail.Key, now.UnixNano()); c < 4 {
			t.Fatalf("%s reset the victim's login/email counter to %d", sp.name, c)
		}
	}
	by := s.EvictionsByClass()
	if by[store.ClassBan] != 0 || by[store.ClassObserve] == 0 || by[store.ClassThrottle] == 0 || by[store.ClassSecurity] == 0 ||
		s.Evictions() != by[0]+by[1]+by[2]+by[3] {
		t.Fatalf("evictions %v (total %d)", by, s.Evictions())
	}
	if d := s.Stats().Detail; d == "" || s.Stats().Evictions == 0 {
		t.Fatalf("stats %+v", s.Stats())
	}
}
