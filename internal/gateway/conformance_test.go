package gateway_test

// The Rack::Attack conformance suite (rack-attack-semantics.md), walked
// through the running proxy with an injected clock.

import (
	"net/url"
	"testing"
)

const ip1, ip2 = "203.0.113.10", "203.0.113.20"

func TestConformanceThrottleLimitAndCounting(t *testing.T) {
	r := newRig(t, `preset: none
throttles:
  - {name: t, limit: 2, period: 60s, key: ip}
`, nil)
	// limit N: N pass, then 429, and throttled requests keep counting.
	got := r.statuses(req{ip: ip1}, 4)
	if want := codes(200, 200, 429, 429); !equalInts(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	counts := []float64{}
	for _, l := range r.logs.lines() {
		if l["msg"] == "throttled" {
			counts = append(counts, l["count"].(float64))
		}
	}
	if len(counts) != 2 || counts[0] != 3 || counts[1] != 4 {
		t.Fatalf("throttled counts %v, want [3 4] (throttled requests still count)", counts)
	}
	// Another client has its own bucket.
	if got := r.do(req{ip: ip2}).StatusCode; got != 200 {
		t.Fatalf("other client got %d", got)
	}
}

func TestConformanceLimitZeroThrottlesEverything(t *testing.T) {
	r := newRig(t, "preset: none\nthrottles: [{name: z, limit: 0, period: 60, key: ip}]\n", nil)
	if got := r.statuses(req{ip: ip1}, 2); !equalInts(got, codes(429, 429)) {
		t.Fatalf("got %v", got)
	}
}

func TestConformanceEpochAlignedWindows(t *testing.T) {
	r := newRig(t, "preset: none\nthrottles: [{name: w, limit: 1, period: 60s, key: ip}]\n", nil)
	// 1_800_000_000 is a window start. t+59 is still the same window.
	if got := r.statuses(req{ip: ip1}, 1); got[0] != 200 {
		t.Fatal("first request throttled")
	}
	r.clock.add(59)
	resp := r.do(req{ip: ip1})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("t+59: %d Retry-After %q, want 429 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// t+60 starts a new window: the counter starts again (fixed windows,
	// not rolling: up to 2×limit across a boundary, rack-attack #121).
	r.clock.add(1)
	if got := r.do(req{ip: ip1}).StatusCode; got != 200 {
		t.Fatalf("new window: %d", got)
	}
	resp = r.do(req{ip: ip1})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("on the boundary Retry-After %q, want 60 (range 1..period)", resp.Header.Get("Retry-After"))
	}
	// Retry-After = period - now%period: spec example period 60, t=25 → 35.
	r.clock.add(25)
	if got := r.do(req{ip: ip1}).Header.Get("Retry-After"); got != "35" {
		t.Fatalf("Retry-After at t=25: %q, want 35", got)
	}
}

func TestConformanceThrottleShortCircuit(t *testing.T) {
	// A (limit 1) before B (limit 5): after 3 requests A=3, B=1 — B is not
	// counted once A throttles (any? stops at the first exceeded).
	r := newRig(t, `preset: none
throttles:
  - {name: A, limit: 1, period: 60, key: ip, match: {path: /x}}
  - {name: B, limit: 5, period: 60, key: ip}
`, nil)
	if got := r.statuses(req{path: "/x", ip: ip1}, 3); !equalInts(got, codes(200, 429, 429)) {
		t.Fatalf("got %v", got)
	}
	resp := r.do(req{path: "/y", ip: ip1}) // only B: now B=2
	if got := resp.Header.Get("RateLimit"); got != `"B";r=3;t=60` {
		t.Fatalf("RateLimit %q, want B with 3 left (B counted only once before)", got)
	}
}

func TestConformanceListOrder(t *testing.T) {
	r := newRig(t, `preset: none
safelists:  [{name: office, ip: [203.0.113.0/24]}]
blocklists: [{name: bad, ip: [203.0.113.10, 198.51.100.0/24]}]
throttles:  [{name: t, limit: 1, period: 60, key: ip}]
`, nil)
	// Safelisted beats blocklisted and throttled: no counting either.
	if got := r.statuses(req{ip: ip1}, 3); !equalInts(got, codes(200, 200, 200)) {
		t.Fatalf("safelisted: %v", got)
	}
	// Blocklisted: 403, and the throttle is not evaluated.
	if got := r.statuses(req{ip: "198.51.100.7"}, 2); !equalInts(got, codes(403, 403)) {
		t.Fatalf("blocklisted: %v", got)
	}
	if got := r.do(req{ip: "198.51.100.8"}); got.StatusCode != 403 || got.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("blocklist response %d %q", got.StatusCode, got.Header.Get("Content-Type"))
	}
	// A plain client is throttled.
	if got := r.statuses(req{ip: "192.0.2.1"}, 2); !equalInts(got, codes(200, 429)) {
		t.Fatalf("plain: %v", got)
	}
}

func TestConformanceCIDRLists(t *testing.T) {
	r := newRig(t, `preset: none
blocklists: [{name: nets, ip: ["10.0.0.0/8", "2001:db8::/32", "192.0.2.5"]}]
`, nil)
	for _, tc := range []struct {
		ip   string
		want int
	}{
		{"10.200.1.1", 403}, {"11.0.0.1", 200}, {"2001:db8:1::9", 403}, {"2001:db9::1", 200},
		{"192.0.2.5", 403}, {"192.0.2.6", 200},
		{"::ffff:10.1.1.1", 403}, // mapped IPv4 is the same client (deliberate: Ruby IPAddr would not match)
		{"EVIL", 200},            // junk never matches (Ruby raises → 500)
	} {
		if got := r.do(req{ip: tc.ip}).StatusCode; got != tc.want {
			t.Errorf("%s: %d, want %d", tc.ip, got, tc.want)
		}
	}
}

func TestConformanceFail2Ban(t *testing.T) {
	// Spec sequence, maxretry 2: fail→403, fail→403 (now banned), ok→403.
	r := newRig(t, `preset: none
fail2ban:
  - {name: pentest, key: ip, match: {path_prefix: /etc}, maxretry: 2, findtime: 60, bantime: 300}
`, nil)
	seq := []int{r.do(req{path: "/etc/passwd", ip: ip1}).StatusCode, r.do(req{path: "/etc/passwd", ip: ip1}).StatusCode,
		r.do(req{path: "/ok", ip: ip1}).StatusCode}
	if !equalInts(seq, codes(403, 403, 403)) {
		t.Fatalf("fail2ban %v", seq)
	}
	if r.up.hits.Load() != 0 {
		t.Fatalf("upstream saw %d requests of a banned client", r.up.hits.Load())
	}
	resp := r.do(req{path: "/ok", ip: ip1})
	if resp.Header.Get("Retry-After") != "300" {
		t.Fatalf("ban Retry-After %q, want 300 (bans count from the moment they start)", resp.Header.Get("Retry-After"))
	}
	// Others are not affected; the ban ends after bantime.
	if got := r.do(req{path: "/ok", ip: ip2}).StatusCode; got != 200 {
		t.Fatalf("other client %d", got)
	}
	r.clock.add(300)
	if got := r.do(req{path: "/ok", ip: ip1}).StatusCode; got != 200 {
		t.Fatalf("after bantime %d", got)
	}
}

func TestConformanceFail2BanFindtimeIsFixedWindow(t *testing.T) {
	r := newRig(t, `preset: none
fail2ban: [{name: f, key: ip, match: {path: /bad}, maxretry: 2, findtime: 30, bantime: 300}]
`, nil)
	r.clock.add(20)
	r.do(req{path: "/bad", ip: ip1}) // window [0,30)
	r.clock.add(11)                  // t=31: window [30,60): the count starts again
	r.do(req{path: "/bad", ip: ip1})
	if got := r.do(req{path: "/ok", ip: ip1}).StatusCode; got != 200 {
		t.Fatalf("failures in different findtime windows added up: %d", got)
	}
}

func TestConformanceAllow2Ban(t *testing.T) {
	// Spec, maxretry 2: hit→200, hit→200 (now banned), hit→403, ok→403.
	r := newRig(t, `preset: none
allow2ban: [{name: login, key: ip, match: {path: /login}, maxretry: 2, findtime: 60, bantime: 60}]
`, nil)
	seq := r.statuses(req{path: "/login", ip: ip1}, 3)
	seq = append(seq, r.do(req{path: "/ok", ip: ip1}).StatusCode)
	if !equalInts(seq, codes(200, 200, 403, 403)) {
		t.Fatalf("allow2ban %v", seq)
	}
}

func TestConformanceBanKeysScopedPerRule(t *testing.T) {
	// Two rules with the same discriminator do not share a ban (Rack::Attack
	// would: its keys are only the discriminator).
	r := newRig(t, `preset: none
fail2ban:
  - {name: a, key: ip, match: {path: /a}, maxretry: 1, findtime: 60, bantime: 60}
  - {name: b, key: ip, match: {path: /b}, maxretry: 3, findtime: 60, bantime: 60}
`, nil)
	r.do(req{path: "/a", ip: ip1}) // bans ip1 for rule a
	if got := r.do(req{path: "/b", ip: ip1}).StatusCode; got != 403 {
		t.Fatalf("ban of rule a must block every request of the key: %d", got)
	}
	// Rule b's counter was not touched by rule a's failures.
	r.clock.add(60)
	seq := r.statuses(req{path: "/b", ip: ip1}, 3)
	if !equalInts(seq, codes(403, 403, 403)) {
		t.Fatalf("rule b: %v", seq)
	}
	if got := r.do(req{path: "/x", ip: ip2}).StatusCode; got != 200 {
		t.Fatal("unrelated client blocked")
	}
}

func TestConformanceResponseBasedFail2Ban(t *testing.T) {
	r := newRig(t, `preset: none
fail2ban:
  - {name: login-failures, key: ip, match: {method: POST, path: /auth/sign_in},
     failure: {status: [401]}, maxretry: 3, findtime: 10m, bantime: 1h}
`, nil)
	login := req{method: "POST", path: "/auth/sign_in", ip: ip1, status: "401"}
	// Failures are answered by Chatwoot; successes never count.
	r.do(req{method: "POST", path: "/auth/sign_in", ip: ip1, status: "200"})
	if got := r.statuses(login, 3); !equalInts(got, codes(401, 401, 401)) {
		t.Fatalf("failing logins %v", got)
	}
	// The ban starts with the next request, whatever it is.
	if got := r.do(req{path: "/app", ip: ip1}).StatusCode; got != 403 {
		t.Fatalf("after 3 failures: %d, want 403", got)
	}
	var banLog bool
	for _, l := range r.logs.lines() {
		banLog = banLog || (l["msg"] == "ban started" && l["rule"] == "login-failures")
	}
	if !banLog {
		t.Fatal("no 'ban started' log line")
	}
	if got := r.do(req{method: "POST", path: "/auth/sign_in", ip: ip2, status: "200"}).StatusCode; got != 200 {
		t.Fatalf("other client %d", got)
	}
}

func TestConformanceMissingAndEmptyKeys(t *testing.T) {
	r := newRig(t, `preset: none
throttles: [{name: e, limit: 1, period: 60, key: param:email, match: {method: POST, path: /s}}]
`, nil)
	post := func(v url.Values) int { return r.do(req{method: "POST", path: "/s", ip: ip1, form: v}).StatusCode }
	// Missing param: the rule does not apply (nil discriminator).
	if got := []int{post(url.Values{"x": {"1"}}), post(url.Values{"x": {"1"}})}; !equalInts(got, codes(200, 200)) {
		t.Fatalf("missing key counted: %v", got)
	}
	// Empty param: one real, shared bucket.
	if got := []int{post(url.Values{"email": {""}}), post(url.Values{"email": {""}})}; !equalInts(got, codes(200, 429)) {
		t.Fatalf("empty key: %v", got)
	}
	// Discriminators are stripped and lower-cased.
	if got := []int{post(url.Values{"email": {" Person@Example.com\r\n"}}), post(url.Values{"email": {"person@example.com"}})}; !equalInts(got, codes(200, 429)) {
		t.Fatalf("normalization: %v", got)
	}
}

func TestConformanceTracksNeverBlock(t *testing.T) {
	r := newRig(t, `preset: none
throttles: [{name: t, limit: 1, period: 60, key: ip, match: {path: /t}}]
tracks:
  - {name: seen, match: {path_prefix: /}}
  - {name: busy, limit: 1, period: 60, key: ip}
`, nil)
	if got := r.statuses(req{path: "/x", ip: ip1}, 3); !equalInts(got, codes(200, 200, 200)) {
		t.Fatalf("tracks blocked: %v", got)
	}
	over, seen := 0, 0
	for _, l := range r.logs.lines() {
		switch l["msg"] {
		case "track over limit":
			over++
		case "track matched":
			seen++
		}
	}
	if over != 2 || seen != 3 {
		t.Fatalf("track logs: over=%d seen=%d, want 2 and 3", over, seen)
	}
	// A throttled request runs no track (and a track named like a
	// throttle would not share its counter).
	r.do(req{path: "/t", ip: ip2})
	r.do(req{path: "/t", ip: ip2})
	seen = 0
	for _, l := range r.logs.lines() {
		if l["msg"] == "track matched" {
			seen++
		}
	}
	if seen != 4 {
		t.Fatalf("tracks after a throttled request: %d matched, want 4", seen)
	}
}

func TestConformanceDryRun(t *testing.T) {
	r := newRig(t, `preset: none
blocklists: [{name: b, ip: [203.0.113.10], mode: dry-run}]
throttles:  [{name: t, limit: 1, period: 60, key: ip, mode: dry-run}]
fail2ban:   [{name: f, key: ip, match: {path: /f}, maxretry: 1, findtime: 60, bantime: 60, mode: dry-run}]
`, nil)
	if got := r.statuses(req{path: "/f", ip: ip1}, 3); !equalInts(got, codes(200, 200, 200)) {
		t.Fatalf("dry-run enforced: %v", got)
	}
	would := map[string]int{}
	for _, l := range r.logs.lines() {
		if l["dry_run"] == true {
			would[l["rule"].(string)]++
		}
	}
	if would["b"] != 3 || would["t"] != 2 || would["f"] < 3 {
		t.Fatalf("dry-run logs %v, want b=3, t=2, f>=3", would)
	}
}

func TestConformanceResponseHeadersAndBodies(t *testing.T) {
	r := newRig(t, `preset: none
throttles:
  - {name: login/ip, limit: 5, period: 300, key: ip, match: {path: /auth/sign_in}}
  - {name: req/ip, limit: 100, period: 60, key: ip}
`, nil)
	r.clock.add(188)
	resp := r.do(req{path: "/auth/sign_in", ip: ip1})
	// Passed: the tightest throttle (fewest left) is shown.
	if p, q := resp.Header.Get("RateLimit-Policy"), resp.Header.Get("RateLimit"); p != `"login/ip";q=5;w=300` || q != `"login/ip";r=4;t=112` {
		t.Fatalf("passed: %q / %q", p, q)
	}
	r.statuses(req{path: "/auth/sign_in", ip: ip1}, 4)
	resp = r.do(req{path: "/auth/sign_in", ip: ip1})
	if resp.StatusCode != 429 || resp.Header.Get("RateLimit") != `"login/ip";r=0;t=112` || resp.Header.Get("Retry-After") != "112" {
		t.Fatalf("throttled: %d %q %q", resp.StatusCode, resp.Header.Get("RateLimit"), resp.Header.Get("Retry-After"))
	}
	js := r.do(req{path: "/auth/sign_in", ip: ip1, header: map[string]string{"Accept": "application/json"}})
	if js.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("JSON refusal content type %q", js.Header.Get("Content-Type"))
	}
}

func TestResponsesCanBeTurnedOff(t *testing.T) {
	r := newRig(t, `preset: none
responses: {retry_after: false, ratelimit_headers: false}
throttles: [{name: t, limit: 0, period: 60, key: ip}]
`, nil)
	resp := r.do(req{ip: ip1})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "" || resp.Header.Get("RateLimit") != "" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
}
