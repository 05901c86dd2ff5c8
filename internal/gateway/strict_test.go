package gateway_test

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"testing"

	"github.com/wootguard/wootguard/internal/rules"
)

const strictEnforced = "preset: chatwoot\nprofile: {name: strict, enforce: true, admin_networks: [10.9.0.0/16]}\n"

// logged reports whether a log line with this message and rule exists.
func (r *rig) logged(msg, rule string) bool {
	for _, l := range r.logs.lines() {
		if l["msg"] == msg && l["rule"] == rule {
			return true
		}
	}
	return false
}

func TestStrictProfileEveryThrottleFiresAtItsLimit(t *testing.T) {
	// Per-address rules: one address. Per-inbox and per-account rules: a
	// new address (or API user) each time, so only the rule under test
	// can fire.
	ipN := func(i int) string { return fmt.Sprintf("100.64.%d.%d", i/250, i%250+1) }
	const inbox = "/public/api/v1/inboxes/INBOX1/contacts"
	cases := []struct {
		rule  string
		limit int
		make  func(i int) req
	}{
		{"strict/signup/v2/ip", 5, func(i int) req { return req{method: "POST", path: "/api/v2/accounts", ip: "198.18.0.1"} }},
		{"strict/signup/auth/ip", 5, func(i int) req { return req{method: "POST", path: "/auth.json", ip: "198.18.0.2"} }},
		{"strict/public-api/contacts/ip", 60, func(i int) req {
			return req{method: "POST", path: fmt.Sprintf("/public/api/v1/inboxes/in%d/contacts", i), ip: "198.18.0.3"}
		}},
		{"strict/public-api/contacts/inbox", 3000, func(i int) req { return req{method: "POST", path: inbox, ip: ipN(i)} }},
		{"strict/public-api/conversations/ip", 30, func(i int) req {
			return req{method: "POST", path: inbox + fmt.Sprintf("/c%d/conversations", i), ip: "198.18.0.4"}
		}},
		{"strict/public-api/conversations/inbox", 600, func(i int) req {
			return req{method: "POST", path: inbox + "/c1/conversations", ip: ipN(i)}
		}},
		{"strict/public-api/messages/ip", 60, func(i int) req {
			return req{method: "POST", path: inbox + fmt.Sprintf("/c1/conversations/%d/messages", i), ip: "198.18.0.5"}
		}},
		{"strict/public-api/messages/inbox", 1200, func(i int) req {
			return req{method: "POST", path: inbox + "/c1/conversations/7/messages", ip: ipN(i)}
		}},
		{"strict/api-writes/conversations/user", 60, func(i int) req {
			return req{method: "POST", path: "/api/v1/accounts/3/conversations", ip: "198.18.0.6", header: map[string]string{"api_access_token": "agent-token"}}
		}},
		{"strict/api-writes/conversations/account", 600, func(i int) req {
			return req{method: "POST", path: "/api/v1/accounts/3/conversations", ip: "198.18.0.7", header: map[string]string{"uid": fmt.Sprint("agent", i, "@x.io")}}
		}},
		{"strict/api-writes/messages/user", 120, func(i int) req {
			return req{method: "POST", path: fmt.Sprintf("/api/v1/accounts/3/conversations/%d/messages", i%7+1), ip: "198.18.0.8", header: map[string]string{"uid": "agent@x.io"}}
		}},
		{"strict/api-writes/messages/account", 1200, func(i int) req {
			return req{method: "POST", path: "/api/v1/accounts/3/conversations/9/messages", ip: "198.18.0.9", header: map[string]string{"api_access_token": fmt.Sprint("tok", i)}}
		}},
		{"strict/api-writes/contacts/user", 60, func(i int) req {
			return req{method: "POST", path: "/api/v1/accounts/3/contacts", ip: "198.18.0.10", header: map[string]string{"uid": "agent@x.io"}}
		}},
		{"strict/api-writes/contacts/account", 600, func(i int) req {
			return req{method: "POST", path: "/api/v1/accounts/3/contacts", ip: "198.18.0.11", header: map[string]string{"uid": fmt.Sprint("agent", i, "@x.io")}}
		}},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			r := newRig(t, strictEnforced, nil)
			for i := 0; i < c.limit; i++ {
				if got := r.do(c.make(i)).StatusCode; got != 200 {
					t.Fatalf("request %d of %d: %d before the limit", i+1, c.limit, got)
				}
			}
			if got := r.do(c.make(c.limit)).StatusCode; got != 429 {
				t.Fatalf("request %d: %d, want 429", c.limit+1, got)
			}
			if !r.logged("throttled", c.rule) {
				t.Fatalf("no throttled log line for %s", c.rule)
			}
		})
	}
}

func TestStrictRepeatOffenderBanStartsAfterRefusalsAndLifts(t *testing.T) {
	r := newRig(t, strictEnforced, nil)
	signIn := func(i int) req {
		return req{method: "POST", path: "/auth/sign_in", ip: "203.0.113.9", json: fmt.Sprintf(`{"email":"u%d@x.io"}`, i)}
	}
	// login/ip allows 5 per 5 minutes; its next 20 refusals ban the address.
	got := r.statuses(signIn(0), 25)
	if want := join(repeat(200, 5), repeat(429, 20)); !equalInts(got, want) {
		t.Fatalf("sign-ins %v, want %v", got, want)
	}
	if !r.logged("ban started", "strict/repeat-offenders") {
		t.Fatal("no 'ban started' line for strict/repeat-offenders")
	}
	resp := r.do(signIn(99))
	if resp.StatusCode != 403 || resp.Header.Get("Retry-After") != "3600" {
		t.Fatalf("banned sign-in: %d Retry-After %q, want 403 and 3600", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got := r.do(req{method: "POST", path: "/auth/password", ip: "203.0.113.9", form: url.Values{"email": {"z@x.io"}}}).StatusCode; got != 403 {
		t.Fatalf("password reset while banned from the auth routes: %d", got)
	}
	// scope: match — the rest of Chatwoot still works for that address.
	if got := r.do(req{path: "/app/accounts/1/dashboard", ip: "203.0.113.9"}).StatusCode; got != 200 {
		t.Fatalf("dashboard while banned from the auth routes: %d", got)
	}
	r.clock.add(3600)
	if got := r.do(signIn(100)).StatusCode; got != 200 {
		t.Fatalf("sign-in after bantime: %d", got)
	}
}

func TestBanEscalationDoublesAndStopsAtMax(t *testing.T) {
	r := newRig(t, `preset: none
throttles: [{name: t, limit: 1, period: 60s, key: ip, match: {path: /x}}]
fail2ban:
  - {name: rep, key: ip, match: {path: /x}, failure: {refused_by: [t]}, maxretry: 2, findtime: 60s, bantime: 100s,
     bantime_increment: {factor: 2, max: 350s, remember: 1d}}
`, nil)
	x := req{path: "/x", ip: "192.0.2.7"}
	for round, want := range []string{"100", "200", "350", "350"} {
		if got := r.statuses(x, 3); !equalInts(got, codes(200, 429, 429)) {
			t.Fatalf("round %d: %v before the ban", round+1, got)
		}
		resp := r.do(x)
		if resp.StatusCode != 403 || resp.Header.Get("Retry-After") != want {
			t.Fatalf("ban %d: %d Retry-After %q, want 403 and %s", round+1, resp.StatusCode, resp.Header.Get("Retry-After"), want)
		}
		r.clock.add(350 + 60)
	}
	// Another address starts at bantime again.
	y := req{path: "/x", ip: "192.0.2.8"}
	r.statuses(y, 3)
	if got := r.do(y).Header.Get("Retry-After"); got != "100" {
		t.Fatalf("first ban of another key: Retry-After %q, want 100", got)
	}
	// A key not banned again within remember starts over.
	r.clock.add(86400 + 60)
	r.statuses(x, 3)
	if got := r.do(x).Header.Get("Retry-After"); got != "100" {
		t.Fatalf("ban after remember: Retry-After %q, want 100", got)
	}
}

func TestStrictFailedLoginBanSparesTheKnownAddress(t *testing.T) {
	r := newRig(t, strictEnforced, nil)
	const home = "203.0.113.5"
	login := func(ip, email, status string) req {
		return req{method: "POST", path: "/auth/sign_in", ip: ip, json: fmt.Sprintf(`{"email":%q,"password":"x"}`, email), status: status}
	}
	// The real user signed in from home before.
	if got := r.do(login(home, "victim@example.com", "200")).StatusCode; got != 200 {
		t.Fatalf("first sign-in %d", got)
	}
	// A distributed guess: one attempt from each of many addresses, each
	// answered 401 by Chatwoot. Chatwoot's login/email (10 per 15 minutes,
	// the home sign-in included) lets 9 through in the first window; the
	// tenth failure, in the next window, bans the email.
	guess := 0
	try := func(want int) {
		t.Helper()
		guess++
		email := []string{"Victim@Example.com", " victim@example.com"}[guess%2]
		if got := r.do(login(fmt.Sprintf("198.51.%d.%d", 100+guess/200, guess%200+1), email, "401")).StatusCode; got != want {
			t.Fatalf("guess %d: %d, want %d", guess, got, want)
		}
	}
	for i := 0; i < 9; i++ {
		try(401)
	}
	try(429) // Chatwoot's own login/email
	r.clock.add(900)
	try(401)
	if !r.logged("ban started", "strict/login-failures/email") {
		t.Fatal("no ban after 10 failures")
	}
	hits := r.up.hits.Load()
	for i := 0; i < 5; i++ {
		try(403)
	}
	// Past Chatwoot's own login/email window again, within the ban.
	r.clock.add(900)
	try(403)
	if r.up.hits.Load() != hits {
		t.Fatal("banned guesses reached Chatwoot")
	}
	if got := r.do(login(home, "victim@example.com", "200")).StatusCode; got != 200 {
		t.Fatalf("the real user from the known address: %d, want 200", got)
	}
	if got := r.do(login("198.51.102.1", "victim@example.com", "200")).StatusCode; got != 403 {
		t.Fatalf("the email from an unknown address: %d, want 403", got)
	}
	// The ban is on sign-in for that email only.
	if got := r.do(login("198.51.101.1", "other@example.com", "200")).StatusCode; got != 200 {
		t.Fatalf("another account's sign-in: %d", got)
	}
	if got := r.do(req{path: "/app", ip: "198.51.101.1"}).StatusCode; got != 200 {
		t.Fatalf("other routes from a guessing address: %d", got)
	}
}

func TestBanScopeMatchBlocksOnlyMatchingRequests(t *testing.T) {
	for _, c := range []struct {
		scope string
		other int
	}{{"all", 403}, {"match", 200}} {
		t.Run(c.scope, func(t *testing.T) {
			r := newRig(t, `preset: none
fail2ban: [{name: b, key: ip, match: {path_prefix: /login}, maxretry: 1, findtime: 60s, bantime: 600s, scope: `+c.scope+`}]
`, nil)
			if got := r.do(req{path: "/login", ip: ip1}).StatusCode; got != 403 {
				t.Fatalf("counted request %d", got)
			}
			if got := r.do(req{path: "/login/again", ip: ip1}).StatusCode; got != 403 {
				t.Fatalf("matching request while banned %d", got)
			}
			if got := r.do(req{path: "/other", ip: ip1}).StatusCode; got != c.other {
				t.Fatalf("other request while banned %d, want %d", got, c.other)
			}
		})
	}
}

func TestStrictAdminSurfacesOnlyFromAdminNetworks(t *testing.T) {
	r := newRig(t, strictEnforced, nil)
	for _, p := range []string{"/super_admin", "/super_admin/accounts/1", "/monitoring/sidekiq/queues", "/installation/onboarding"} {
		if got := r.do(req{path: p, ip: "10.9.3.4"}).StatusCode; got != 200 {
			t.Fatalf("%s from admin_networks: %d", p, got)
		}
		if got := r.do(req{path: p, ip: "198.51.100.20"}).StatusCode; got != 403 {
			t.Fatalf("%s from outside: %d, want 403", p, got)
		}
	}
	if !r.logged("blocked", "strict/admin-networks") {
		t.Fatal("no blocked line")
	}
	if got := r.do(req{path: "/app/accounts/1", ip: "198.51.100.20"}).StatusCode; got != 200 {
		t.Fatalf("the app from outside: %d", got)
	}
	// Without admin_networks the rule does not exist.
	open := newRig(t, "preset: chatwoot\nprofile: {name: strict, enforce: true}\n", nil)
	if got := open.do(req{path: "/super_admin", ip: "198.51.100.20"}).StatusCode; got != 200 {
		t.Fatalf("without admin_networks: %d", got)
	}
}

func TestStrictProfileIsDryRunByDefault(t *testing.T) {
	r := newRig(t, "preset: chatwoot\nprofile: strict\n", nil)
	// The preset's own login/ip still refuses (it is Chatwoot's rule); the
	// repeat-offender ban only says what it would do.
	signIn := req{method: "POST", path: "/auth/sign_in", ip: "203.0.113.9", json: `{"email":"u@x.io"}`}
	got := r.statuses(signIn, 30)
	if want := join(repeat(200, 5), repeat(429, 25)); !equalInts(got, want) {
		t.Fatalf("sign-ins %v, want %v", got, want)
	}
	if !r.logged("dry-run: would ban", "strict/repeat-offenders") {
		t.Fatal("no 'would ban' line for strict/repeat-offenders")
	}
	// Strict throttles and bans block nothing.
	for _, q := range []req{
		{method: "POST", path: "/api/v2/accounts", ip: "198.51.100.1"},
		{method: "POST", path: "/auth/sign_in", ip: "", json: `{"email":"v@x.io"}`, status: "401"},
	} {
		for i := 0; i < 12; i++ {
			if q.ip == "" || q.path == "/auth/sign_in" {
				q.ip = fmt.Sprint("198.51.101.", i+1)
			}
			want := 200
			if q.status == "401" {
				want = 401
			}
			if got := r.do(q).StatusCode; got != want && !(q.path == "/auth/sign_in" && got == 429) {
				t.Fatalf("%s %d: %d", q.path, i+1, got)
			}
		}
	}
	if !r.logged("dry-run: would ban", "strict/login-failures/email") {
		t.Fatal("no 'would ban' line for strict/login-failures/email")
	}
	if !r.logged("dry-run: throttle would act", "strict/signup/v2/ip") {
		t.Fatal("no dry-run line for strict/signup/v2/ip")
	}
	for _, l := range r.logs.lines() {
		if rule, _ := l["rule"].(string); len(rule) > 7 && rule[:7] == "strict/" && (l["msg"] == "blocked" || l["msg"] == "throttled") {
			t.Fatalf("a dry-run strict rule refused a request: %v", l)
		}
	}
}

func TestStrictExemptTokenOnlySkipsTheWriteRules(t *testing.T) {
	yaml := "preset: chatwoot\nprofile: {name: strict, enforce: true, exempt_tokens: [" + rules.HashToken("trusted-integration-token") + "]}\n"
	env := map[string]string{"RACK_ATTACK_LIMIT": "150"}
	msg := func(h map[string]string) req {
		return req{method: "POST", path: "/api/v1/accounts/3/conversations/9/messages", ip: "198.18.9.9", header: h}
	}
	t.Run("exact token", func(t *testing.T) {
		r := newRig(t, yaml, env)
		// Past strict/api-writes/messages/user (120/min), up to req/ip (150).
		got := r.statuses(msg(map[string]string{"api_access_token": "trusted-integration-token"}), 151)
		if want := join(repeat(200, 150), codes(429)); !equalInts(got, want) {
			t.Fatalf("exempt token: %v", got)
		}
		if !r.logged("throttled", "req/ip") {
			t.Fatal("the preset's req/ip did not count the exempt token")
		}
	})
	bearer := base64.StdEncoding.EncodeToString([]byte(`{"uid":"trusted-integration-token","client":"c","access-token":"trusted-integration-token"}`))
	for name, h := range map[string]map[string]string{
		"uid header":        {"uid": "trusted-integration-token"},
		"bearer token":      {"Authorization": "Bearer trusted-integration-token"},
		"bearer payload":    {"Authorization": "Bearer " + bearer},
		"other token + uid": {"api_access_token": "someone-else", "uid": "trusted-integration-token"},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, yaml, env)
			got := r.statuses(msg(h), 121)
			if want := join(repeat(200, 120), codes(429)); !equalInts(got, want) {
				t.Fatalf("%v", got)
			}
			if !r.logged("throttled", "strict/api-writes/messages/user") {
				t.Fatal("not throttled by strict/api-writes/messages/user")
			}
		})
	}
}

func TestDryRunRefusalsCountOnlyForDryRunBans(t *testing.T) {
	for _, c := range []struct {
		banMode string
		want    []int
		log     string
	}{
		// An enforced ban never counts a dry-run rule's would-be refusals.
		{"enforce", repeat(200, 5), ""},
		// A dry-run ban counts them, and says so.
		{"dry-run", repeat(200, 5), "dry-run: would ban"},
	} {
		t.Run(c.banMode, func(t *testing.T) {
			r := newRig(t, `preset: none
throttles: [{name: t, limit: 1, period: 60s, key: ip, match: {path: /x}, mode: dry-run}]
fail2ban: [{name: rep, key: ip, match: {path: /x}, failure: {refused_by: [t]}, maxretry: 2, findtime: 60s, bantime: 600s, mode: `+c.banMode+`}]
`, nil)
			if got := r.statuses(req{path: "/x", ip: ip1}, 5); !equalInts(got, c.want) {
				t.Fatalf("%v", got)
			}
			banned := r.logged("ban started", "rep") || r.logged("dry-run: would ban", "rep")
			if c.log == "" && banned {
				t.Fatal("an enforced ban counted a dry-run throttle")
			}
			if c.log != "" && !r.logged(c.log, "rep") {
				t.Fatalf("no %q line", c.log)
			}
		})
	}
}
