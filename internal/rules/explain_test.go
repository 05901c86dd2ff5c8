package rules

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store/memory"
)

func i64(n int64) *int64 { return &n }

// Explain gives the decision Decide then makes, every time, and never
// counts: explaining many times does not move a counter or start a ban.
func TestExplainMatchesDecideWithoutCounting(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.Options{SweepEvery: -1})
	defer st.Close()
	spec := Spec{
		Safelists: []ListRule{{Name: "office", IP: StringList{"10.0.0.0/8"}}},
		Fail2Ban: []BanRule{{Name: "logins", Key: StringList{"ip"}, Match: &Match{Path: StringList{"/login"}},
			MaxRetry: i64(3), FindTime: Duration(time.Minute), BanTime: Duration(time.Hour)}},
		Throttles: []Throttle{{Name: "req/ip", Limit: i64(2), Period: Duration(time.Minute), Key: StringList{"ip"}},
			{Name: "by-email", Limit: i64(9), Period: Duration(time.Minute), Key: StringList{"param:email"}}},
	}
	e, err := Compile(spec, Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_010, 0)
	req := func(path string) *Request {
		return &Request{Method: "GET", Path: path, IP: netip.MustParseAddr("192.0.2.1")}
	}
	want := []string{"pass", "pass", "throttle", "throttle"}
	for i, w := range want {
		var x *Explanation
		for range 3 {
			if x, err = e.Explain(ctx, now, req("/x")); err != nil {
				t.Fatal(err)
			}
		}
		d, err := e.Decide(ctx, now, req("/x"))
		if err != nil {
			t.Fatal(err)
		}
		if x.Action != w || d.Action.String() != w || x.Rule != d.Rule {
			t.Fatalf("request %d: explain %s/%s, decide %s/%s, want %s", i, x.Action, x.Rule, d.Action, d.Rule, w)
		}
		c := find(t, x, "req/ip")
		if !c.Matched || c.Key != "192.0.2.1" || c.Count != int64(i+1) || c.Limit != 2 {
			t.Fatalf("request %d: req/ip check %+v", i, c)
		}
		if em := find(t, x, "by-email"); !em.KeyMissing || em.Count != 0 {
			t.Fatalf("by-email without the param: %+v", em)
		}
		if i >= 2 && !c.Decided {
			t.Fatalf("req/ip should have decided: %+v", c)
		}
	}

	// A Fail2Ban: the third failure would ban; explain says so, then the
	// real request bans, then explain sees the ban on any path.
	for range 2 {
		e.Decide(ctx, now, req("/login"))
	}
	x, _ := e.Explain(ctx, now, req("/login"))
	if c := find(t, x, "logins"); !c.WouldBan || c.Count != 3 || x.Action != "block" {
		t.Fatalf("third failure: %+v %s", c, x.Action)
	}
	e.Decide(ctx, now, req("/login"))
	x, _ = e.Explain(ctx, now, req("/elsewhere"))
	if c := find(t, x, "logins"); !c.Banned || !c.Decided || x.Action != "block" || x.Type != "fail2ban" {
		t.Fatalf("banned: %+v %+v", c, x)
	}
	if c := find(t, x, "req/ip"); c.Evaluated {
		t.Fatalf("a throttle after the ban was evaluated: %+v", c)
	}

	// A safelisted client: decided by the safelist, nothing after it runs.
	x, _ = e.Explain(ctx, now, &Request{Method: "GET", Path: "/x", IP: netip.MustParseAddr("10.1.2.3")})
	if c := find(t, x, "office"); !c.Decided || x.Type != "safelist" || find(t, x, "req/ip").Evaluated {
		t.Fatalf("safelist: %+v", x)
	}
}

func find(t *testing.T, x *Explanation, name string) RuleCheck {
	t.Helper()
	for _, c := range x.Rules {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no rule %q in %+v", name, x.Rules)
	return RuleCheck{}
}

func TestBanAndCounterKeys(t *testing.T) {
	st := memory.New(memory.Options{SweepEvery: -1})
	defer st.Close()
	e, err := Compile(Spec{Fail2Ban: []BanRule{{Name: "a/b", Key: StringList{"ip"}, MaxRetry: i64(1),
		FindTime: Duration(time.Minute), BanTime: Duration(time.Hour)}},
		Throttles: []Throttle{{Name: "t", Limit: i64(1), Period: Duration(time.Minute), Key: StringList{"ip"}}}},
		Options{Store: st, Prefix: "wg"})
	if err != nil {
		t.Fatal(err)
	}
	k, ok := e.BanKey("a/b", " 2001:DB8::1 ")
	if !ok || k != "wg:fail2ban:ban:a/b:2001:db8::1" {
		t.Fatalf("BanKey = %q %v", k, ok)
	}
	if r, typ, d, ok := e.ParseBanKey(k); !ok || r != "a/b" || typ != "fail2ban" || d != "2001:db8::1" {
		t.Fatalf("ParseBanKey = %q %q %q %v", r, typ, d, ok)
	}
	if _, ok := e.BanKey("t", "x"); ok {
		t.Fatal("a throttle has no ban key")
	}
	if k, _ := e.CounterKey("t", "1.2.3.4", time.Unix(120, 0)); k != "wg:2:t:1.2.3.4" {
		t.Fatalf("CounterKey = %q", k)
	}
}

// A trusted pair (trusted_for) is neither counted nor banned: Explain
// says so, and does not report the trust check's hit as the rule's count.
func TestExplainShowsTrustedPair(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.Options{SweepEvery: -1})
	defer st.Close()
	spec := Spec{Fail2Ban: []BanRule{{Name: "logins", Key: StringList{"param:email"}, Match: &Match{Path: StringList{"/login"}},
		MaxRetry: i64(2), FindTime: Duration(time.Minute), BanTime: Duration(time.Hour),
		Failure: &Failure{Status: []int{401}}, TrustedFor: Duration(time.Hour)}}}
	e, err := Compile(spec, Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_010, 0)
	login := func(ip string, status int) {
		t.Helper()
		d, err := e.Decide(ctx, now, &Request{Method: "POST", Path: "/login", RawQuery: "email=a@example.com", IP: netip.MustParseAddr(ip)})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Pending {
			if _, err := e.ReportResponse(ctx, now, p, status); err != nil {
				t.Fatal(err)
			}
		}
	}
	login("192.0.2.7", 200) // the owner logs in: (email, 192.0.2.7) trusted
	for range 2 {
		login("198.51.100.1", 401) // a guesser bans the email
	}
	owner := &Request{Method: "POST", Path: "/login", RawQuery: "email=a@example.com", IP: netip.MustParseAddr("192.0.2.7")}
	x, err := e.Explain(ctx, now, owner)
	if err != nil {
		t.Fatal(err)
	}
	c := find(t, x, "logins")
	if x.Action != "pass" || !c.Trusted || c.Banned || c.Count != 0 || !strings.Contains(c.Note, "trusted") {
		t.Fatalf("trusted owner: action %s, check %+v", x.Action, c)
	}
	x, _ = e.Explain(ctx, now, &Request{Method: "POST", Path: "/login", RawQuery: "email=a@example.com", IP: netip.MustParseAddr("203.0.113.9")})
	if c := find(t, x, "logins"); x.Action != "block" || c.Trusted || !c.Banned {
		t.Fatalf("other address: action %s, check %+v", x.Action, c)
	}
}

// Deleting a throttle's counter keys (admin reset) lets the key through
// again, whatever the algorithm: GCRA's one key has no window, and a
// sliding window also weighs the previous window's counter.
func TestCounterKeysResetEveryAlgorithm(t *testing.T) {
	ctx := context.Background()
	for _, algo := range []string{AlgorithmFixedWindow, AlgorithmSlidingWindow, AlgorithmGCRA} {
		st := memory.New(memory.Options{SweepEvery: -1})
		e, err := Compile(Spec{Throttles: []Throttle{{Name: "t", Limit: i64(2), Period: Duration(time.Minute), Key: StringList{"ip"}, Algorithm: algo}}},
			Options{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(1_800_000_000, 0)
		decide := func() string {
			d, err := e.Decide(ctx, now, &Request{Method: "GET", Path: "/", IP: netip.MustParseAddr("192.0.2.7")})
			if err != nil {
				t.Fatal(err)
			}
			return d.Action.String()
		}
		for range 2 {
			decide()
		}
		now = now.Add(61 * time.Second) // the next window: a sliding window still weighs the last one
		for decide() != "throttle" {
		}
		keys, ok := e.CounterKeys("t", "192.0.2.7", now)
		if !ok {
			t.Fatalf("%s: no counter keys", algo)
		}
		if _, err := st.Delete(ctx, keys...); err != nil {
			t.Fatal(err)
		}
		if got := decide(); got != "pass" {
			t.Errorf("%s: after deleting %v: %s, want pass", algo, keys, got)
		}
		st.Close()
	}
}
