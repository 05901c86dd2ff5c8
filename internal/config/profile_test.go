package config

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

func TestProfileErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"unknown profile", "profile: paranoid\n", `wootguard.yaml:1: unknown profile "paranoid"`},
		{"unknown profile key", "profile:\n  name: strict\n  enforced: true\n", `wootguard.yaml:3: unknown key "enforced" (did you mean "enforce"?)`},
		{"bad admin network", "profile:\n  name: strict\n  admin_networks:\n    - 10.0.0.0/8\n    - office\n", `wootguard.yaml:5: bad IP address "office"`},
		{"plain token", "profile:\n  name: strict\n  exempt_tokens: [abc123]\n", "wootguard.yaml:3: want sha256:"},
		{"short hash", "profile:\n  name: strict\n  exempt_tokens: ['sha256:abcd']\n", `wootguard.yaml:3: bad token hash`},
		{"settings without a profile", "profile: {enforce: true}\n", "wootguard.yaml:1: profile settings without a profile"},
		{"tune unknown rule", "profile:\n  name: strict\n  tune:\n    strict/nope: {limit: 3}\n", `wootguard.yaml:4: the strict profile has no rule "strict/nope"`},
		{"tune wrong field", "profile:\n  name: strict\n  tune:\n    strict/signup/v2/ip: {maxretry: 3}\n", "wootguard.yaml:4: strict/signup/v2/ip is a throttle"},
		{"tune bad limit", "profile:\n  name: strict\n  tune:\n    strict/signup/v2/ip:\n      limit: -1\n", "wootguard.yaml:5: limit must be 0 or more"},
		{"tune bad mode", "profile:\n  name: strict\n  tune:\n    strict/repeat-offenders:\n      mode: sometimes\n", `wootguard.yaml:5: unknown mode "sometimes"`},
		{"refused_by unknown rule", "fail2ban:\n  - name: f\n    key: ip\n    maxretry: 3\n    findtime: 1m\n    bantime: 1h\n    failure:\n      refused_by: [login/ip, logn/email]\n",
			`wootguard.yaml:8: no blocklist, fail2ban, allow2ban or throttle named "logn/email"`},
		{"refused_by itself", "fail2ban:\n  - {name: f, key: ip, maxretry: 3, findtime: 1m, bantime: 1h, failure: {refused_by: [f]}}\n", "cannot count its own refusals"},
		{"status and refused_by", "fail2ban:\n  - {name: f, key: ip, maxretry: 3, findtime: 1m, bantime: 1h, failure: {status: [401], refused_by: [login/ip]}}\n", "status or refused_by, not both"},
		{"bad scope", "fail2ban:\n  - {name: f, key: ip, maxretry: 3, findtime: 1m, bantime: 1h, scope: some}\n", `wootguard.yaml:2: unknown scope "some"`},
		{"increment max below bantime", "fail2ban:\n  - {name: f, key: ip, maxretry: 3, findtime: 1m, bantime: 1h, bantime_increment: {max: 10m}}\n", "shorter than bantime"},
		{"trusted_for without status failures", "fail2ban:\n  - {name: f, key: ip, maxretry: 3, findtime: 1m, bantime: 1h, trusted_for: 30d}\n", "trusted_for needs failure.status"},
		{"bad exempt token on a throttle", "throttles:\n  - {name: a, limit: 1, period: 60, key: ip, exempt_tokens: [secret]}\n", "wootguard.yaml:2: want sha256:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.body, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant containing %q", err, tt.want)
			}
		})
	}
}

func findThrottle(s rules.Spec, name string) *rules.Throttle {
	for i := range s.Throttles {
		if s.Throttles[i].Name == name {
			return &s.Throttles[i]
		}
	}
	return nil
}

func TestProfileStrictRulesFollowThePresetAndCanBeTunedOrOverridden(t *testing.T) {
	g, err := load(t, `profile:
  name: strict
  tune:
    strict/api-writes/messages/account: {limit: 3000}
    strict/repeat-offenders: {maxretry: 40, mode: enforce}
throttles:
  - {name: strict/signup/v2/ip, limit: 2, period: 1h, key: ip, match: {method: POST, path: /api/v2/accounts}}
fail2ban:
  - {name: mine, key: ip, maxretry: 3, findtime: 1m, bantime: 1h, failure: {refused_by: [login/ip, strict/signup/v2/ip]}}
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.Profile != "strict" || g.ProfileEnforce {
		t.Fatalf("profile %q enforce %v", g.Profile, g.ProfileEnforce)
	}
	// After every preset throttle.
	last := -1
	for i, r := range g.Spec.Throttles {
		if r.Source == "chatwoot" {
			last = i
		} else if strings.HasPrefix(r.Name, "strict/") && i < last {
			t.Fatalf("%s comes before a preset rule", r.Name)
		}
	}
	if r := findThrottle(g.Spec, "strict/api-writes/messages/account"); *r.Limit != 3000 || r.Mode != rules.ModeDryRun || r.Source != "strict (tuned)" {
		t.Fatalf("tuned throttle %+v", r)
	}
	if r := findThrottle(g.Spec, "strict/signup/v2/ip"); *r.Limit != 2 || r.Mode != "" || r.Source != "config (overrides strict)" {
		t.Fatalf("overridden throttle %+v", r)
	}
	if r := findThrottle(g.Spec, "strict/public-api/messages/ip"); r.Mode != rules.ModeDryRun || r.Source != "strict" {
		t.Fatalf("default throttle %+v", r)
	}
	for _, r := range g.Spec.Fail2Ban {
		if r.Name == "strict/repeat-offenders" && (*r.MaxRetry != 40 || r.Mode != rules.ModeEnforce) {
			t.Fatalf("tuned ban %+v", r)
		}
	}
	if _, err := rules.Compile(g.Spec, rules.Options{Store: noStore{}}); err != nil {
		t.Fatalf("merged spec: %v", err)
	}
}

func TestProfileEnforceAndPresetNone(t *testing.T) {
	g, err := load(t, "preset: none\nprofile: {name: strict, enforce: true}\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range g.Spec.Throttles {
		if r.Mode != rules.ModeEnforce {
			t.Fatalf("%s is %q with enforce: true", r.Name, r.Mode)
		}
	}
	// Without the preset, repeat offenders count the strict rules' refusals.
	for _, r := range g.Spec.Fail2Ban {
		if r.Name == "strict/repeat-offenders" && strings.Join(r.Failure.RefusedBy, ",") != "strict/signup/v2/ip,strict/signup/auth/ip,strict/login-failures/email" {
			t.Fatalf("refused_by %v", r.Failure.RefusedBy)
		}
	}
	if _, err := rules.Compile(g.Spec, rules.Options{Store: noStore{}}); err != nil {
		t.Fatalf("merged spec: %v", err)
	}
	if g.StripExtension {
		t.Fatal("without the preset the engine must keep extensions: the profile's rules strip them themselves")
	}
}

// preset: none + profile: strict: the operator's rule still sees the whole
// path, the profile's rules see it without extensions.
func TestProfileLeavesOperatorPathsWhole(t *testing.T) {
	g, err := load(t, "preset: none\nprofile: {name: strict, enforce: true}\nthrottles:\n  - {name: feed, limit: 0, period: 60, key: ip, match: {path: /feed.xml}}\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{SweepEvery: -1})
	defer st.Close()
	e, err := rules.Compile(g.Spec, rules.Options{Store: st, StripExtension: g.StripExtension})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	decide := func(method, path string) rules.Decision {
		t.Helper()
		d, err := e.Decide(context.Background(), now, &rules.Request{Method: method, Path: path, IP: netip.MustParseAddr("192.0.2.1"), Header: http.Header{}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := decide("GET", "/feed.xml"); d.Rule != "feed" || d.Action != rules.ActionThrottle {
		t.Fatalf("GET /feed.xml: %v by %q, want the operator's rule to throttle it", d.Action, d.Rule)
	}
	if d := decide("GET", "/feed"); d.Rule == "feed" {
		t.Fatal("GET /feed matched path /feed.xml")
	}
	var d rules.Decision
	for range 6 { // strict/signup/auth/ip allows 5 per 30 minutes
		d = decide("POST", "/auth.json")
	}
	if d.Rule != "strict/signup/auth/ip" || d.Action != rules.ActionThrottle {
		t.Fatalf("6th POST /auth.json: %v by %q, want the profile to count it as /auth", d.Action, d.Rule)
	}
}
