package gateway_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// pathVariants are spellings Rails routes to the same action.
func pathVariants(p string) []string {
	return []string{p, p + ".json", p + "/", "/" + strings.ReplaceAll(p, "/", "//"), strings.Replace(p, "_", "%5F", 1), strings.Replace(p, "s", "%73", 1) + ".json/"}
}

func TestChatwootPresetEveryRuleFires(t *testing.T) {
	type mk func(i int) req
	cases := []struct {
		rule  string
		env   map[string]string
		limit int
		make  mk
	}{
		{"req/ip", map[string]string{"RACK_ATTACK_LIMIT": "4"}, 4, func(i int) req { return req{path: "/app/accounts/1", ip: "198.18.0.1"} }},
		{"super_admin_login/ip", nil, 5, func(i int) req {
			return req{method: "POST", path: "/super_admin/sign_in", ip: "198.18.1.1", form: url.Values{"email": {fmt.Sprint("a", i, "@x.io")}}}
		}},
		{"super_admin_login/email", nil, 5, func(i int) req {
			return req{method: "POST", path: "/super_admin/sign_in", ip: fmt.Sprint("198.18.2.", i+1), form: url.Values{"email": {"Root@X.io"}}}
		}},
		{"login/ip", nil, 5, func(i int) req {
			return req{method: "POST", path: "/auth/sign_in", ip: "198.18.3.1", json: fmt.Sprintf(`{"email":"u%d@x.io","password":"x"}`, i)}
		}},
		{"login/email", nil, 10, func(i int) req {
			// JSON body, form body and the email header (4.18) all count.
			ip := fmt.Sprint("198.18.4.", i+1)
			switch i % 3 {
			case 0:
				return req{method: "POST", path: "/auth/sign_in", ip: ip, json: `{"email":"victim@x.io"}`}
			case 1:
				return req{method: "POST", path: "/auth/sign_in", ip: ip, form: url.Values{"email": {"VICTIM@x.io "}}}
			}
			return req{method: "POST", path: "/auth/sign_in", ip: ip, header: map[string]string{"email": "victim@x.io"}}
		}},
		{"reset_password/ip", nil, 5, func(i int) req {
			return req{method: "POST", path: "/auth/password", ip: "198.18.5.1", form: url.Values{"email": {fmt.Sprint(i, "@x.io")}}}
		}},
		{"reset_password/email", nil, 5, func(i int) req {
			return req{method: "POST", path: "/auth/password", ip: fmt.Sprint("198.18.6.", i+1), form: url.Values{"email": {"v@x.io"}}}
		}},
		{"resend_confirmation/ip", nil, 5, func(i int) req {
			return req{method: "POST", path: "/resend_confirmation", ip: "198.18.7.1", form: url.Values{"email": {fmt.Sprint(i, "@x.io")}}}
		}},
		{"resend_confirmation/email", nil, 5, func(i int) req {
			return req{method: "POST", path: "/resend_confirmation", ip: fmt.Sprint("198.18.8.", i+1), json: `{"email":"v@x.io"}`}
		}},
		{"resend_confirmation_auth/ip", nil, 5, func(i int) req {
			return req{method: "POST", path: "/api/v1/profile/resend_confirmation", ip: "198.18.9.1"}
		}},
		{"mfa_verification/ip", nil, 5, func(i int) req {
			if i%2 == 0 {
				return req{method: "DELETE", path: "/api/v1/profile/mfa", ip: "198.18.10.1"}
			}
			return req{method: "POST", path: "/api/v1/profile/mfa/backup_codes", ip: "198.18.10.1"}
		}},
		{"mfa_login/ip", nil, 10, func(i int) req {
			return req{method: "POST", path: "/auth/sign_in", ip: "198.18.11.1", form: url.Values{"mfa_token": {fmt.Sprint("tok", i)}}}
		}},
		{"mfa_login/token", nil, 10, func(i int) req {
			return req{method: "POST", path: "/auth/sign_in", ip: fmt.Sprint("198.18.12.", i+1), form: url.Values{"mfa_token": {"T0K"}}}
		}},
		{"mfa_setup_login/ip", nil, 10, func(i int) req {
			return req{method: "POST", path: "/auth/sign_in", ip: "198.18.13.1", json: fmt.Sprintf(`{"mfa_setup_token":"s%d"}`, i)}
		}},
		{"mfa_setup_login/token", nil, 10, func(i int) req {
			return req{method: "POST", path: "/auth/sign_in", ip: fmt.Sprint("198.18.14.", i+1), json: `{"mfa_setup_token":"S"}`}
		}},
		{"accounts/ip", nil, 5, func(i int) req { return req{method: "POST", path: "/api/v1/accounts", ip: "198.18.15.1"} }},
		{"api/v1/widget/conversations", map[string]string{"RATE_LIMIT_WIDGET_CONVERSATIONS": "3"}, 3, func(i int) req {
			return req{method: "POST", path: "/api/v1/widget/conversations?website_token=abc", ip: "198.18.16.1"}
		}},
		{"api/v1/widget/messages", map[string]string{"RATE_LIMIT_WIDGET_MESSAGES": "3"}, 3, func(i int) req {
			return req{method: "POST", path: "/api/v1/widget/messages", ip: "198.18.17.1", json: `{"website_token":"abc"}`}
		}},
		{"api/v1/widget/contact", map[string]string{"RATE_LIMIT_WIDGET_CONTACTS": "3"}, 3, func(i int) req {
			m := []string{"PATCH", "PUT"}[i%2]
			return req{method: m, path: "/api/v1/widget/contact", ip: "198.18.18.1"}
		}},
		{"widget?website_token={website_token}&cw_conversation={x-auth-token}", map[string]string{"RATE_LIMIT_WIDGET_LOAD": "3"}, 3, func(i int) req {
			return req{path: "/widget?website_token=abc", ip: "198.18.19.1"}
		}},
		{"api/v1/widget/conversations/transcript", map[string]string{"RATE_LIMIT_WIDGET_TRANSCRIPT": "3"}, 3, func(i int) req {
			return req{method: "POST", path: "/api/v1/widget/conversations/transcript", ip: "198.18.20.1"}
		}},
		{"/api/v1/accounts/:account_id/conversations/:conversation_id/transcript", map[string]string{"RATE_LIMIT_CONVERSATION_TRANSCRIPT": "3"}, 3, func(i int) req {
			return req{method: "POST", path: fmt.Sprintf("/api/v1/accounts/7/conversations/%d/transcript", i), ip: fmt.Sprint("198.18.21.", i+1)}
		}},
		{"/api/v1/accounts/:account_id/upload", nil, 60, func(i int) req {
			return req{method: "POST", path: "/api/v1/accounts/8/upload", ip: fmt.Sprint("198.18.22.", i+1)}
		}},
		{"/api/v1/accounts/:account_id/contacts/search", map[string]string{"RATE_LIMIT_CONTACT_SEARCH": "3"}, 3, func(i int) req {
			return req{path: "/api/v1/accounts/9/contacts/search?q=x", ip: "198.18.23.1"}
		}},
		{"/api/v2/accounts/:account_id/reports/user", map[string]string{"RATE_LIMIT_REPORTS_API_USER_LEVEL": "3"}, 3, func(i int) req {
			return req{path: "/api/v2/accounts/5/reports/summary", ip: fmt.Sprint("198.18.24.", i+1), header: map[string]string{"api_access_token": "secret-token"}}
		}},
		{"/api/v2/accounts/:account_id/reports", map[string]string{"RATE_LIMIT_REPORTS_API_ACCOUNT_LEVEL": "3"}, 3, func(i int) req {
			return req{path: "/api/v2/accounts/6/reports/summary", ip: fmt.Sprint("198.18.25.", i+1)}
		}},
		{"/api/v2/accounts/:account_id/reports/drilldown/user", map[string]string{"RATE_LIMIT_REPORTS_DRILLDOWN_API_USER_LEVEL": "2"}, 2, func(i int) req {
			return req{path: "/api/v2/accounts/5/reports/drilldown", ip: "198.18.26.1", header: map[string]string{"uid": "agent@x.io"}}
		}},
		{"/api/v1/accounts/:account_id/conversations/meta/user", map[string]string{"RATE_LIMIT_CONVERSATIONS_META": "3"}, 3, func(i int) req {
			return req{path: "/api/v1/accounts/5/conversations/meta", ip: "198.18.27.1", header: map[string]string{"Authorization": "Bearer abcdef"}}
		}},
		{"/api/v1/accounts/:account_id/conversations/:id DELETE", map[string]string{"RATE_LIMIT_CONVERSATION_DELETE": "3"}, 3, func(i int) req {
			return req{method: "DELETE", path: fmt.Sprint("/api/v1/accounts/5/conversations/", 100+i), ip: "198.18.28.1"}
		}},
		{"/api/v1/accounts/:account_id/agents POST", map[string]string{"RATE_LIMIT_AGENT_CREATE": "3"}, 3, func(i int) req {
			p := []string{"/api/v1/accounts/5/agents", "/api/v1/accounts/5/agents/bulk_create"}[i%2]
			return req{method: "POST", path: p, ip: "198.18.29.1"}
		}},
		{"/api/v1/accounts/:account_id/agents/:id DELETE", map[string]string{"RATE_LIMIT_AGENT_DELETE": "3"}, 3, func(i int) req {
			return req{method: "DELETE", path: fmt.Sprint("/api/v1/accounts/5/agents/", i+1), ip: "198.18.30.1"}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			r := newRig(t, "", tc.env)
			for i := 0; i <= tc.limit; i++ {
				q := tc.make(i)
				// Walk the path spellings Rails treats as one route.
				base, query, _ := strings.Cut(q.path, "?")
				variants := pathVariants(base)
				q.path = variants[i%len(variants)]
				if query != "" {
					q.path += "?" + query
				}
				resp := r.do(q)
				want := 200
				if i == tc.limit {
					want = 429
				}
				if resp.StatusCode != want {
					t.Fatalf("request %d (%s %s): %d, want %d", i+1, q.method, q.path, resp.StatusCode, want)
				}
				if want == 429 && !strings.HasPrefix(resp.Header.Get("RateLimit"), `"`+tc.rule+`"`) {
					t.Fatalf("throttled by %q, want %q", resp.Header.Get("RateLimit"), tc.rule)
				}
			}
		})
	}
}

func TestChatwootPresetKeysAndSwitches(t *testing.T) {
	t.Run("widget keys separate sites behind one NAT; no token is not counted", func(t *testing.T) {
		r := newRig(t, "", map[string]string{"RATE_LIMIT_WIDGET_CONVERSATIONS": "1"})
		conv := func(tok string) int {
			p := "/api/v1/widget/conversations"
			if tok != "" {
				p += "?website_token=" + tok
			}
			return r.do(req{method: "POST", path: p, ip: "198.19.0.1"}).StatusCode
		}
		if got := []int{conv("a"), conv("b"), conv(""), conv(""), conv("a")}; !equalInts(got, codes(200, 200, 200, 200, 429)) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("widget load with cw_conversation is not counted", func(t *testing.T) {
		r := newRig(t, "", map[string]string{"RATE_LIMIT_WIDGET_LOAD": "1"})
		got := r.statuses(req{path: "/widget?website_token=a&cw_conversation=jwt", ip: "198.19.0.2"}, 3)
		if !equalInts(got, codes(200, 200, 200)) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("login with mfa_token is not a login/ip hit", func(t *testing.T) {
		r := newRig(t, "", nil)
		got := r.statuses(req{method: "POST", path: "/auth/sign_in", ip: "198.19.0.3", form: url.Values{"mfa_token": {"t"}, "email": {"a@b.c"}}}, 8)
		if !equalInts(got, repeat(200, 8)) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("query wins over body for keys, as in Rails params", func(t *testing.T) {
		// An attacker cannot rotate a body email while the query carries
		// the victim's: the key is what Rails authenticates with.
		r := newRig(t, "", nil)
		var got []int
		for i := 0; i < 11; i++ {
			got = append(got, r.do(req{method: "POST", path: "/auth/sign_in?email=victim@x.io", ip: fmt.Sprint("198.19.1.", i+1),
				form: url.Values{"email": {fmt.Sprint("rand", i, "@x.io")}}}).StatusCode)
		}
		if !equalInts(got, join(repeat(200, 10), codes(429))) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("ENABLE_RACK_ATTACK_WIDGET_API=false drops the widget rules", func(t *testing.T) {
		r := newRig(t, "", map[string]string{"ENABLE_RACK_ATTACK_WIDGET_API": "false", "RATE_LIMIT_WIDGET_LOAD": "1"})
		if got := r.statuses(req{path: "/widget", ip: "198.19.0.4"}, 3); !equalInts(got, codes(200, 200, 200)) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("one widget switch", func(t *testing.T) {
		r := newRig(t, "", map[string]string{"ENABLE_RACK_ATTACK_WIDGET_LOAD": "off", "RATE_LIMIT_WIDGET_LOAD": "1", "RATE_LIMIT_WIDGET_TRANSCRIPT": "1"})
		if got := r.statuses(req{path: "/widget", ip: "198.19.0.5"}, 2); !equalInts(got, codes(200, 200)) {
			t.Fatalf("load: %v", got)
		}
		if got := r.statuses(req{method: "POST", path: "/api/v1/widget/conversations/transcript", ip: "198.19.0.5"}, 2); !equalInts(got, codes(200, 429)) {
			t.Fatalf("transcript: %v", got)
		}
	})
	t.Run("ENABLE_RACK_ATTACK=false keeps only the file's rules", func(t *testing.T) {
		r := newRig(t, "throttles: [{name: mine, limit: 1, period: 60, key: ip, match: {path: /mine}}]\n",
			map[string]string{"ENABLE_RACK_ATTACK": "false", "RACK_ATTACK_LIMIT": "1"})
		if got := r.statuses(req{path: "/x", ip: "198.19.0.6"}, 3); !equalInts(got, codes(200, 200, 200)) {
			t.Fatalf("preset still active: %v", got)
		}
		if got := r.statuses(req{path: "/mine", ip: "198.19.0.6"}, 2); !equalInts(got, codes(200, 429)) {
			t.Fatalf("own rule: %v", got)
		}
	})
	t.Run("RACK_ATTACK_ALLOWED_IPS takes exact IPs and CIDRs; /health is safelisted", func(t *testing.T) {
		r := newRig(t, "", map[string]string{"RACK_ATTACK_LIMIT": "1", "RACK_ATTACK_ALLOWED_IPS": "192.0.2.7, 198.51.100.0/24,junk"})
		for _, ip := range []string{"192.0.2.7", "198.51.100.99", "127.0.0.1"} {
			if got := r.statuses(req{path: "/x", ip: ip}, 3); !equalInts(got, codes(200, 200, 200)) {
				t.Fatalf("%s: %v", ip, got)
			}
		}
		if got := r.statuses(req{path: "/health", ip: "192.0.2.8"}, 3); !equalInts(got, codes(200, 200, 200)) {
			t.Fatalf("/health: %v", got)
		}
		if got := r.statuses(req{path: "/x", ip: "192.0.2.8"}, 2); !equalInts(got, codes(200, 429)) {
			t.Fatalf("plain client: %v", got)
		}
	})
	t.Run("a config rule with a preset name overrides it", func(t *testing.T) {
		r := newRig(t, "throttles: [{name: login/ip, limit: 1, period: 20s, key: ip, match: {method: POST, path: /auth/sign_in}}]\n", nil)
		if got := r.statuses(req{method: "POST", path: "/auth/sign_in", ip: "198.19.0.9"}, 2); !equalInts(got, codes(200, 429)) {
			t.Fatalf("got %v", got)
		}
	})
}
