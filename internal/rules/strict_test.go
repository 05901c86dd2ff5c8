package rules

import (
	"context"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// callCounter counts a store's calls.
type callCounter struct {
	store.Store
	runs, fails int
}

func (c *callCounter) Run(ctx context.Context, now time.Time, p []store.Op, res *store.Result) error {
	c.runs++
	return c.Store.Run(ctx, now, p, res)
}

func (c *callCounter) Fail(ctx context.Context, now time.Time, op store.Op) (int64, bool, error) {
	c.fails++
	return c.Store.Fail(ctx, now, op)
}

func TestRefusalCountingCostsAStoreCallOnlyWhenRefused(t *testing.T) {
	mem := memory.New(memory.Options{SweepEvery: -1})
	defer mem.Close()
	st := &callCounter{Store: mem}
	one, two := int64(1), int64(2)
	e, err := Compile(Spec{
		Throttles: []Throttle{{Name: "t", Limit: &one, Period: Duration(time.Minute), Key: StringList{"ip"}, Match: &Match{Path: StringList{"/x"}}}},
		Fail2Ban: []BanRule{{Name: "rep", Key: StringList{"ip"}, Match: &Match{Path: StringList{"/x"}}, Failure: &Failure{RefusedBy: StringList{"t"}},
			MaxRetry: &two, FindTime: Duration(time.Minute), BanTime: Duration(time.Hour)}},
	}, Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	decide := func() Decision {
		d, err := e.Decide(context.Background(), now, &Request{Method: "GET", Path: "/x", IP: netip.MustParseAddr("192.0.2.1"), Header: http.Header{}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := decide(); d.Action != ActionPass || st.runs != 1 || st.fails != 0 {
		t.Fatalf("passed request: %v, %d runs, %d fails", d.Action, st.runs, st.fails)
	}
	if d := decide(); d.Action != ActionThrottle || st.runs != 2 || st.fails != 1 {
		t.Fatalf("first refusal: %v, %d runs, %d fails", d.Action, st.runs, st.fails)
	}
	d := decide() // the second refusal starts the ban
	if d.Action != ActionThrottle || st.fails != 2 || len(d.Events) != 1 || !d.Events[0].BanStarted || d.Events[0].Rule != "rep" {
		t.Fatalf("second refusal: %+v, %d fails", d, st.fails)
	}
	if d := decide(); d.Action != ActionBlock || d.Rule != "rep" || st.fails != 2 || d.RetryAfter != 3600 {
		t.Fatalf("banned: %+v, %d fails", d, st.fails)
	}
}

func TestExemptTokenMatchesOnlyTheExactAccessToken(t *testing.T) {
	sum, err := ParseTokenHash(HashToken("tok-123"))
	if err != nil {
		t.Fatal(err)
	}
	rl := &rule{strictRule: strictRule{exempt: [][32]byte{sum}}}
	for _, c := range []struct {
		h    http.Header
		want bool
	}{
		{http.Header{"Api-Access-Token": {"tok-123"}}, true},
		{http.Header{"Api_access_token": {"tok-123"}}, true},
		{http.Header{"Api-Access-Token": {"tok-1234"}}, false},
		{http.Header{"Uid": {"tok-123"}}, false},
		{http.Header{"Authorization": {"Bearer tok-123"}}, false},
		{http.Header{}, false},
	} {
		if got := rl.exempted(&Request{Header: c.h}); got != c.want {
			t.Errorf("%v: exempted %v, want %v", c.h, got, c.want)
		}
	}
	for _, bad := range []string{"tok-123", "sha256:zz", "sha256:" + "ab", "SHA256:" + HashToken("x")[7:]} {
		if _, err := ParseTokenHash(bad); err == nil {
			t.Errorf("ParseTokenHash(%q) accepted", bad)
		}
	}
}

func TestBanTimeIncrementDefaults(t *testing.T) {
	three := int64(3)
	for _, c := range []struct {
		key     string
		bantime time.Duration
		max     time.Duration
	}{
		{"ip", time.Hour, DefaultIncrementMaxAddress},   // addresses are shared: short
		{"param:email", time.Hour, DefaultIncrementMax}, // other keys may grow longer
		{"ip", 3 * 24 * time.Hour, 3 * 24 * time.Hour},  // never below bantime
		{"param:email|header:email", time.Hour, DefaultIncrementMax},
	} {
		e, err := Compile(Spec{Fail2Ban: []BanRule{{Name: "b", Key: StringList{c.key}, MaxRetry: &three,
			FindTime: Duration(time.Minute), BanTime: Duration(c.bantime), BanTimeIncrement: &BanTimeIncrement{}}}}, Options{Store: &callCounter{}})
		if err != nil {
			t.Fatal(err)
		}
		inc := e.bans[0].incr
		if inc.factor != 2 || inc.remember != DefaultIncrementRemember || inc.max != c.max {
			t.Errorf("%s, bantime %s: %+v, want max %s", c.key, c.bantime, *inc, c.max)
		}
	}
}

// A refusal-counted failure (failure.refused_by) is a security counter
// like any other failure: a spray of track keys filling a bounded store
// must not evict it and so reset the repeat offender's count.
func TestRefusalCountersSurviveAKeySpray(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.Options{MaxKeys: 3, Shards: 1, SweepEvery: -1})
	defer st.Close()
	spec := Spec{
		Throttles: []Throttle{{Name: "t", Limit: i64(1), Period: Duration(time.Minute), Key: StringList{"ip"}, Match: &Match{Path: StringList{"/x"}}}},
		Fail2Ban: []BanRule{{Name: "rep", Key: StringList{"ip"}, Match: &Match{Path: StringList{"/x"}}, Failure: &Failure{RefusedBy: StringList{"t"}},
			MaxRetry: i64(2), FindTime: Duration(time.Minute), BanTime: Duration(time.Hour)}},
		Tracks: []Track{{Name: "spray", Limit: i64(1000), Period: Duration(time.Minute), Key: StringList{"param:k"}, Match: &Match{Path: StringList{"/y"}}}},
	}
	e, err := Compile(spec, Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_010, 0)
	decide := func(path, query string) Decision {
		t.Helper()
		d, err := e.Decide(ctx, now, &Request{Method: "GET", Path: path, RawQuery: query, IP: netip.MustParseAddr("192.0.2.7")})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	decide("/x", "")
	decide("/x", "") // refused by t: rep counts 1
	for i := range 5 {
		decide("/y", "k="+string(rune('a'+i)))
	}
	d := decide("/x", "") // refused by t: rep counts 2 and bans
	for _, ev := range d.Events {
		if ev.Rule == "rep" && ev.BanStarted {
			return
		}
	}
	t.Fatalf("no ban after two refusals and a spray of track keys: %+v (evicted by class %v)", d.Events, st.EvictionsByClass())
}

// A trusted pair's address is the client as "ip" keys see it: an IPv6
// client is its client_ip.ipv6_prefix network, so the user's next
// temporary address (RFC 8981) in the same /64 is still trusted.
func TestTrustedPairIsTheIPv6Network(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.Options{SweepEvery: -1})
	defer st.Close()
	spec := Spec{Fail2Ban: []BanRule{{Name: "logins", Key: StringList{"param:email"}, Match: &Match{Path: StringList{"/login"}},
		MaxRetry: i64(1), FindTime: Duration(time.Minute), BanTime: Duration(time.Hour),
		Failure: &Failure{Status: []int{401}}, TrustedFor: Duration(time.Hour)}}}
	e, err := Compile(spec, Options{Store: st, IPv6Prefix: 64})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_010, 0)
	login := func(ip string, status int) Decision {
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
		return d
	}
	login("2001:db8:1:2::5", 200)
	login("198.51.100.1", 401) // bans the email
	if d := login("2001:db8:1:2:abcd::9", 200); d.Action != ActionPass {
		t.Fatalf("the same /64: %s by %s, want pass", d.Action, d.Rule)
	}
	if d := login("2001:db8:1:3::5", 200); d.Action != ActionBlock {
		t.Fatalf("another /64: %s, want block", d.Action)
	}
}
