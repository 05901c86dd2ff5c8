package gateway_test

// Regression tests for ways a client could dodge a throttle or pose as
// someone else (found in review).

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestClientForwardedHeaderCannotPickKeyOrBecomeLocal(t *testing.T) {
	// Behind nginx ($proxy_add_x_forwarded_for), a client's own Forwarded
	// header passes through untouched: it must not be read.
	r := newRig(t, "", map[string]string{"RACK_ATTACK_LIMIT": "1"})
	var got []int
	for i := 0; i < 3; i++ {
		got = append(got, r.do(req{ip: "203.0.113.10", header: map[string]string{"Forwarded": fmt.Sprintf("for=198.51.100.%d", i)}}).StatusCode)
	}
	got = append(got, r.do(req{ip: "203.0.113.11", header: map[string]string{"Forwarded": "for=127.0.0.1"}}).StatusCode,
		r.do(req{ip: "203.0.113.11", header: map[string]string{"Forwarded": "for=127.0.0.1"}}).StatusCode)
	if !equalInts(got, codes(200, 429, 429, 200, 429)) {
		t.Fatalf("Forwarded changed the key: %v", got)
	}
	// An operator whose proxy writes Forwarded opts in, and then XFF is ignored.
	r = newRig(t, "preset: none\nclient_ip: {trusted_proxies: [127.0.0.1], header: forwarded}\nthrottles: [{name: t, limit: 1, period: 60, key: ip}]\n", nil)
	a := r.do(req{ip: "1.1.1.1", header: map[string]string{"Forwarded": "for=203.0.113.5"}}).StatusCode
	b := r.do(req{ip: "2.2.2.2", header: map[string]string{"Forwarded": "for=203.0.113.5"}}).StatusCode
	if a != 200 || b != 429 {
		t.Fatalf("forwarded mode: %d %d", a, b)
	}
}

func TestBodyParamsCannotBeHidden(t *testing.T) {
	cases := []struct {
		name   string
		header map[string]string
		body   func(i int) string
	}{
		{"upgrade headers on a POST", map[string]string{"Content-Type": "application/json", "Connection": "Upgrade", "Upgrade": "foo"},
			func(int) string { return `{"email":"victim@x.io"}` }},
		{"no content type (Rack reads a form)", nil, func(int) string { return "email=victim@x.io" }},
		{"text/x-json", map[string]string{"Content-Type": "text/x-json"}, func(int) string { return `{"email":"victim@x.io"}` }},
		{"application/jsonrequest", map[string]string{"Content-Type": "application/jsonrequest"}, func(int) string { return `{"email":"victim@x.io"}` }},
		{"Unicode case (KELVIN SIGN)", map[string]string{"Content-Type": "application/json"}, func(i int) string {
			return []string{`{"email":"kate@x.io"}`, `{"email":"\u212Aate@x.io"}`}[i%2]
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, "", nil)
			var got []int
			for i := 0; i < 11; i++ {
				got = append(got, r.raw("POST", "/auth/sign_in", fmt.Sprint("198.51.100.", i+1), tc.header, tc.body(i)))
			}
			if !equalInts(got, join(repeat(200, 10), codes(429))) {
				t.Fatalf("login/email dodged: %v", got)
			}
		})
	}
}

func TestMethodOverrideCountsAsTheOverriddenMethod(t *testing.T) {
	// Rack::MethodOverride runs before Rack::Attack in Rails: these POSTs
	// are DELETE /api/v1/profile/mfa to Chatwoot (mfa_verification/ip, 5/min).
	r := newRig(t, "", nil)
	var got []int
	for i := 0; i < 6; i++ {
		if i%2 == 0 {
			got = append(got, r.raw("POST", "/api/v1/profile/mfa", "198.51.100.77", map[string]string{"X-HTTP-Method-Override": "DELETE"}, ""))
		} else {
			got = append(got, r.raw("POST", "/api/v1/profile/mfa", "198.51.100.77", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "_method=delete&otp=123456"))
		}
	}
	if !equalInts(got, join(repeat(200, 5), codes(429))) {
		t.Fatalf("method override dodged mfa_verification/ip: %v", got)
	}
}

func TestHeaderSpellingsAreTheSameHeader(t *testing.T) {
	r := newRig(t, "", map[string]string{"RATE_LIMIT_CONVERSATIONS_META": "1"})
	a := r.do(req{path: "/api/v1/accounts/5/conversations/meta", ip: "198.51.100.1", header: map[string]string{"Api-Access-Token": "tok"}}).StatusCode
	b := r.do(req{path: "/api/v1/accounts/5/conversations/meta", ip: "198.51.100.2", header: map[string]string{"api_access_token": "tok"}}).StatusCode
	if a != 200 || b != 429 {
		t.Fatalf("dashed and underscored api_access_token are different keys: %d %d", a, b)
	}
}

func TestUnderscoreSpoofHeadersNeverReachChatwoot(t *testing.T) {
	r := newRig(t, "preset: none\n", nil)
	hr, _ := http.NewRequest("GET", r.gw.URL+"/", nil)
	hr.Header["Client_ip"] = []string{"127.0.0.1"}
	hr.Header["X_forwarded_for"] = []string{"127.0.0.1"}
	hr.Header["X_real_ip"] = []string{"127.0.0.1"}
	hr.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	seen, _ := r.up.lastRequest()
	for k := range seen.Header {
		if strings.Contains(k, "_") {
			t.Fatalf("upstream got %s: %v", k, seen.Header)
		}
	}
	if seen.Header.Get("X-Forwarded-For") != "203.0.113.9" {
		t.Fatalf("XFF %q", seen.Header.Get("X-Forwarded-For"))
	}
}

func TestHugeKeysAreHashed(t *testing.T) {
	r := newRig(t, "", nil)
	huge := strings.Repeat("a", 60000) + "@x.io"
	for i := 0; i < 3; i++ {
		r.do(req{method: "POST", path: "/auth/sign_in", ip: fmt.Sprint("198.51.100.", i+1), json: `{"email":"` + huge + `"}`})
	}
	if n := r.store.Len(); n == 0 || n > 20 {
		t.Fatalf("%d keys", n)
	}
	// Same email, same (hashed) bucket: 11th is throttled.
	var last int
	for i := 3; i < 11; i++ {
		last = r.do(req{method: "POST", path: "/auth/sign_in", ip: fmt.Sprint("198.51.100.", i+1), json: `{"email":"` + huge + `"}`}).StatusCode
	}
	if last != 429 {
		t.Fatalf("hashed key not shared: %d", last)
	}
}

func TestDryRunThrottleSendsNoRateLimitHeaders(t *testing.T) {
	r := newRig(t, "preset: none\nthrottles:\n  - {name: trial, limit: 1, period: 60, key: ip, mode: dry-run}\n  - {name: real, limit: 100, period: 60, key: ip}\n", nil)
	r.do(req{ip: "198.51.100.1"})
	resp := r.do(req{ip: "198.51.100.1"})
	if got := resp.Header.Get("RateLimit"); !strings.HasPrefix(got, `"real"`) {
		t.Fatalf("RateLimit %q: a dry-run rule must not tell clients to back off", got)
	}
}

func TestDryRunBanIsNotExtended(t *testing.T) {
	r := newRig(t, "preset: none\nfail2ban: [{name: f, key: ip, match: {path: /f}, maxretry: 1, findtime: 60, bantime: 100, mode: dry-run}]\n", nil)
	r.do(req{path: "/f", ip: "198.51.100.1"}) // would-be ban starts: t=0..100
	r.clock.add(90)
	r.do(req{path: "/f", ip: "198.51.100.1"}) // an enforced ban would not count or extend this
	r.clock.add(20)                           // t=110: the would-be ban is over
	before := len(r.logs.lines())
	r.do(req{path: "/x", ip: "198.51.100.1"})
	for _, l := range r.logs.lines()[before:] {
		if l["dry_run"] == true {
			t.Fatalf("dry-run ban extended: %v", l)
		}
	}
}

func TestStreamedUploadIsNotCutByBodyTimeout(t *testing.T) {
	r := newRig(t, "preset: none\nserver: {body_timeout: 1s}\n", nil)
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(strings.Repeat("x", 1000)))
		time.Sleep(1500 * time.Millisecond) // longer than body_timeout
		pw.Write([]byte(strings.Repeat("y", 1000)))
		pw.Close()
	}()
	hr, _ := http.NewRequest("POST", r.gw.URL+"/api/v1/accounts/1/upload", pr)
	hr.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, body := r.up.lastRequest(); resp.StatusCode != 200 || len(body) != 2000 {
		t.Fatalf("%d, upstream got %d bytes", resp.StatusCode, len(body))
	}
}

func TestLocalProxyWithoutTrustIsWarnedOnce(t *testing.T) {
	r := newRig(t, "client_ip: {trusted_proxies: []}\n", nil)
	r.statuses(req{ip: "203.0.113.1"}, 3)
	n := 0
	for _, l := range r.logs.lines() {
		if strings.Contains(fmt.Sprint(l["msg"]), "trusted_proxies is empty") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d warnings, want 1", n)
	}
}

// raw sends a request with exactly the given headers and body.
func (r *rig) raw(method, path, ip string, header map[string]string, body string) int {
	r.t.Helper()
	hr, _ := http.NewRequest(method, r.gw.URL+path, strings.NewReader(body))
	if body == "" {
		hr.Body = http.NoBody
	}
	hr.Header.Set("X-Forwarded-For", ip)
	for k, v := range header {
		hr.Header[k] = []string{v}
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		r.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
