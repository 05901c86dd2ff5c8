package rules

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// opsStore answers every program with counts of 1 and remembers its keys.
type opsStore struct{ keys []string }

func (s *opsStore) Run(_ context.Context, _ time.Time, p []store.Op, res *store.Result) error {
	for i, op := range p {
		res.Counts[i] = 1
		if op.Key != "" {
			s.keys = append(s.keys, op.Key)
		}
		if op.Kind == store.OpBanCheck {
			s.keys = append(s.keys, op.BanKey)
			res.Counts[i] = 0
		}
	}
	return nil
}
func (s *opsStore) Fail(context.Context, time.Time, store.Op) (int64, bool, error) {
	return 1, false, nil
}
func (s *opsStore) Reset(context.Context, string) (int, error) { return 0, nil }
func (s *opsStore) Close() error                               { return nil }

func TestRulesAndKeyIndex(t *testing.T) {
	one := int64(1)
	s := Spec{
		Safelists: []ListRule{{Name: "health", Match: &Match{Path: StringList{"/health"}}}},
		Fail2Ban:  []BanRule{{Name: "f", Key: StringList{"ip"}, MaxRetry: &one, FindTime: Duration(time.Minute), BanTime: Duration(time.Hour)}},
		Throttles: []Throttle{
			{Name: "/api/v1/accounts/:account_id/x", Limit: &one, Period: Duration(time.Minute), Key: StringList{"capture:1"},
				Match: &Match{PathRegex: `^/api/v1/accounts/(\d+)/x`}},
			{Name: "/api/v1/accounts/", Limit: &one, Period: Duration(time.Minute), Key: StringList{"ip"}, Mode: ModeDryRun},
			{Name: "login", Limit: &one, Period: Duration(5 * time.Minute), Key: StringList{"param:email|header:email", "ip"},
				Match: &Match{Method: StringList{"POST"}, Path: StringList{"/auth/sign_in"}, ParamAbsent: StringList{"mfa_token"},
					Any: []Match{{Header: map[string]string{"x-a": "*"}}, {ParamPresent: StringList{"p"}}}}},
		},
		Tracks: []Track{{Name: "login", Limit: &one, Period: Duration(time.Hour), Key: StringList{"ip"}}},
	}
	st := &opsStore{}
	e, err := Compile(s, Options{Store: st, Prefix: "wg"})
	if err != nil {
		t.Fatal(err)
	}
	infos := e.Rules()
	var names []string
	for _, in := range infos {
		names = append(names, in.Type+" "+in.Name)
	}
	if want := []string{"safelist health", "fail2ban f", "throttle /api/v1/accounts/:account_id/x", "throttle /api/v1/accounts/", "throttle login", "track login"}; !slices.Equal(names, want) {
		t.Fatalf("rules %v, want %v", names, want)
	}
	login := infos[4]
	if !slices.Equal(login.Absent, []string{"mfa_token"}) || !slices.Equal(login.Present, []string{"p"}) || !slices.Equal(login.Headers, []string{"X-A"}) ||
		len(login.Key) != 2 || !slices.Equal(login.Key[0], []string{"param:email", "header:Email"}) || login.Limit != 1 || login.Period != 300 {
		t.Errorf("login info %+v", login)
	}
	if !infos[3].DryRun || infos[2].DryRun {
		t.Error("dry-run not reported")
	}

	r := &Request{Method: "POST", Path: "/api/v1/accounts/42/x", IP: netip.MustParseAddr("203.0.113.7")}
	if _, err := e.Decide(context.Background(), time.Unix(1_800_000_000, 0), r); err != nil {
		t.Fatal(err)
	}
	if !e.MayApply(2, r) || e.MayApply(4, r) || !e.MayApply(3, r) || e.MayApply(0, r) || e.MayApply(99, r) {
		t.Error("MayApply disagrees with the method and path conditions")
	}
	idx := e.KeyIndex()
	want := map[string][3]any{ // key → rule, window, discriminator
		"wg:fail2ban:ban:f:203.0.113.7":                    {1, int64(-1), "203.0.113.7"},
		"wg:30000000:/api/v1/accounts/:account_id/x:42":    {2, int64(30000000), "42"},
		"wg:30000000:/api/v1/accounts/:203.0.113.7":        {3, int64(30000000), "203.0.113.7"},
		"wg:500000:track:login:203.0.113.7":                {5, int64(500000), "203.0.113.7"},
		"wg:30000000:fail2ban:count:f:203.0.113.7":         {1, int64(30000000), "203.0.113.7"},
		"wg:30000000:login:a@b.c:203.0.113.7":              {4, int64(30000000), "a@b.c:203.0.113.7"},
		"other:30000000:/api/v1/accounts/:account_id/x:42": {-1, int64(0), ""},
	}
	for _, k := range st.keys {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected store key %q", k)
		}
	}
	for key, w := range want {
		rule, win, disc, ok := idx.Parse(key)
		if w[0].(int) < 0 {
			if ok {
				t.Errorf("Parse(%q) = ok, want not ours", key)
			}
			continue
		}
		if !ok || rule != w[0].(int) || win != w[1].(int64) || disc != w[2].(string) {
			t.Errorf("Parse(%q) = %d %d %q %v, want %v", key, rule, win, disc, ok, w)
		}
	}
}
