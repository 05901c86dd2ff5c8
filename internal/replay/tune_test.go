package replay

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
)

const tuneConfig = `preset: none
throttles:
  - {name: api/ip, limit: 100, period: 1m, key: ip, match: {path_prefix: /api/}}
  - {name: login/ip, limit: 5, period: 5m, key: ip, match: {method: POST, path: /auth/sign_in}}
  - {name: unused, limit: 7, period: 1m, key: ip, match: {path: /nowhere}}
`

// tuneLog: in minute 0 ten clients 10.0.0.1..10 send 2, 4, …, 20 API
// requests and an attacker (10.0.0.99) 500; in minute 1 each client sends
// 3 and the attacker 400. Each of the ten clients signs in once.
func tuneLog() []tReq {
	var out []tReq
	for i := 1; i <= 10; i++ {
		ip := "10.0.0." + itoa(i)
		for k := 0; k < 2*i; k++ {
			out = append(out, tReq{t0 + int64(k%60), ip, "GET", "/api/v1/accounts/1/conversations", 200})
		}
		for k := 0; k < 3; k++ {
			out = append(out, tReq{t0 + 60 + int64(k), ip, "GET", "/api/v1/accounts/1/conversations", 200})
		}
	}
	for k := 0; k < 500; k++ {
		out = append(out, tReq{t0 + int64(k%60), "10.0.0.99", "GET", "/api/v1/accounts/1/conversations", 200})
	}
	for k := 0; k < 400; k++ {
		out = append(out, tReq{t0 + 60 + int64(k%60), "10.0.0.99", "GET", "/api/v1/accounts/1/conversations", 200})
	}
	for i := 1; i <= 10; i++ {
		out = append(out, tReq{t0 + 10, "10.0.0." + itoa(i), "POST", "/auth/sign_in", 200})
	}
	return sortReqs(out)
}

func itoa(i int) string { return strconv.Itoa(i) }

func sortReqs(r []tReq) []tReq {
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].t < r[j-1].t; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
	return r
}

func proposal(t *testing.T, tr *TuneReport, name string) Proposal {
	t.Helper()
	for _, p := range tr.Proposals {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no proposal for %s", name)
	return Proposal{}
}

// By hand, api/ip: the keys' busiest windows are 3, 4, 6, …, 20 and 500;
// the median of those 11 is 12, so the attacker (500 > 10 × 12, and over
// the limit 100) is excluded. The 20 remaining samples (2, 4, …, 20 and
// ten 3s) have p99.9 = the 20th of 20 = 20; × 2 = 40. At 40 the attacker
// loses (500−40) + (400−40) = 820 requests; at 100, 400 + 300 = 700.
// With the 50th percentile: the 10th sample, 3; × 2 = 6, which refuses
// clients 8…20 (7 keys) 2+4+…+14 = 56 requests and the attacker 888.
// login/ip: every key signs in once: p99.9 = 1, × 2 = 2, raised to
// Chatwoot's default 5 unless --below-default.
func TestTuneHandComputed(t *testing.T) {
	cfg := loadConfig(t, tuneConfig)
	src := []Source{{Name: writeLog(t, "access.log", writeCombined(tuneLog(), false))}}
	tr, err := Tune(context.Background(), cfg, src, TuneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	api := proposal(t, tr, "api/ip")
	if api.Proposed != 40 || api.PercentileVal != 20 || api.MedianPeak != 12 || api.ExcludedKeys != 1 || api.Windows != 22 || api.Keys != 11 {
		t.Errorf("api/ip: %+v; want proposed 40 from p99.9 20, median peak 12, 1 key excluded, 22 windows, 11 keys", api)
	}
	if api.ProposedCost != (Cost{Keys: 1, Requests: 820}) || api.CurrentCost != (Cost{Keys: 1, Requests: 700}) {
		t.Errorf("api/ip costs: proposed %+v current %+v; want 820 and 700 requests from the attacker only", api.ProposedCost, api.CurrentCost)
	}
	if len(api.Excluded) != 1 || api.Excluded[0].Peak != 500 {
		t.Errorf("excluded %+v, want the attacker with peak 500", api.Excluded)
	}
	login := proposal(t, tr, "login/ip")
	if login.Proposed != 5 || !login.FloorApplied || login.ChatwootFloor != 5 {
		t.Errorf("login/ip: %+v; want 5 (Chatwoot's floor over 2)", login)
	}
	if p := proposal(t, tr, "unused"); !p.NoTraffic || p.Proposed != 7 {
		t.Errorf("unused: %+v; want no traffic, limit kept", p)
	}

	tr50, err := Tune(context.Background(), cfg, src, TuneOptions{Percentile: 50, BelowDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	api = proposal(t, tr50, "api/ip")
	if api.Proposed != 6 || api.ProposedCost != (Cost{Keys: 8, Requests: 944, LegitKeys: 7, LegitRequests: 56}) {
		t.Errorf("api/ip at p50: proposed %d cost %+v; want 6, 944 requests from 8 keys, 56 from 7 legitimate", api.Proposed, api.ProposedCost)
	}
	if login = proposal(t, tr50, "login/ip"); login.Proposed != 2 || login.FloorApplied {
		t.Errorf("login/ip with --below-default: %+v; want 2", login)
	}

	// The YAML fragment is a valid config that sets the proposed limits.
	frag, err := tr.YAML()
	if err != nil {
		t.Fatal(err)
	}
	// strict loading: unknown keys would be errors
	loaded := loadConfig(t, "preset: none\n"+frag).Gateway.Spec.Throttles
	if len(loaded) != 1 || loaded[0].Name != "api/ip" || *loaded[0].Limit != 40 ||
		loaded[0].Match == nil || loaded[0].Match.PathPrefix[0] != "/api/" || loaded[0].Key[0] != "ip" {
		t.Errorf("fragment: %+v\n%s", loaded, frag)
	}
	var text strings.Builder
	if err := tr.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"- api/ip: limit 100 per 1m", "+ api/ip: limit 40 per 1m", "820 requests from 1 key"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("tune text lacks %q:\n%s", want, text.String())
		}
	}
}

// A lone brute-forcer among few keys is not told apart from normal use
// (with two keys it is the median's neighbour: 30 is not over 10 × 3), so
// below MinTuneKeys non-abusive keys the current limit is kept, not raised
// to p99.9 30 × 2 = 60.
func TestTuneKeepsLimitWithFewKeys(t *testing.T) {
	var log []tReq
	for k := 0; k < 30; k++ {
		log = append(log, tReq{t0 + int64(k), "203.0.113.9", "POST", "/auth/sign_in", 401})
	}
	for k := 0; k < 3; k++ {
		log = append(log, tReq{t0 + 40 + int64(k), "10.0.0.1", "POST", "/auth/sign_in", 200})
	}
	cfg := loadConfig(t, tuneConfig)
	src := []Source{{Name: writeLog(t, "access.log", writeCombined(sortReqs(log), false))}}
	tr, err := Tune(context.Background(), cfg, src, TuneOptions{Rules: []string{"login/ip"}})
	if err != nil {
		t.Fatal(err)
	}
	login := proposal(t, tr, "login/ip")
	if login.Proposed != 5 || !login.FewKeys || login.Keys != 2 || !strings.Contains(login.Basis, "only 2 keys not excluded as abusive, fewer than 10") {
		t.Errorf("login/ip: %+v; want the current 5 kept, with the reason", login)
	}
	if login.ProposedCost != login.CurrentCost || login.CurrentCost.Requests != 25 {
		t.Errorf("costs: proposed %+v current %+v; want both the current limit's 25 refused", login.ProposedCost, login.CurrentCost)
	}
	var text strings.Builder
	if err := tr.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# no limit to change", "  login/ip: limit 5 per 5m   # kept: only 2 keys"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("tune text lacks %q:\n%s", want, text.String())
		}
	}
}

// Options Tune cannot use are refused, NaN and infinity included: a
// comparison with NaN is always false, so "h < 1" would let it through.
func TestTuneRefusesBadOptions(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, o := range []TuneOptions{
		{Headroom: nan}, {Headroom: inf}, {Headroom: 0.5},
		{Percentile: nan}, {Percentile: -3}, {Percentile: 101},
		{AbuseFactor: nan}, {AbuseFactor: 1}, {AbuseFactor: inf},
	} {
		if err := o.Check(); err == nil {
			t.Errorf("%+v: accepted", o)
		}
		cfg := loadConfig(t, tuneConfig)
		src := []Source{{Name: writeLog(t, "access.log", writeCombined(tuneLog(), false))}}
		if _, err := Tune(context.Background(), cfg, src, o); err == nil {
			t.Errorf("Tune with %+v: no error", o)
		}
	}
	if err := (TuneOptions{}).Check(); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}
