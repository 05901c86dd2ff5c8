package rules_test

import (
	"context"
	"net/http"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/preset"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// The param memo and the throttle index only skip work: the preset
// engine decides every request, one after another until throttles
// refuse, exactly as an engine without them (every matcher evaluated,
// every param read through railsreq).
func TestShortcutsDecideAlike(t *testing.T) {
	spec, _ := preset.Chatwoot(func(string) string { return "" })
	fast, slow := shortcutEngines(t, spec, rules.Options{StripExtension: true})
	bodies := []struct{ ct, body string }{
		{"application/json", `{"email":"A@b.io","password":"x"}`},
		{"application/json", `{"email":"a@b.io","mfa_token":"t1"}`},
		{"application/json", `{"email":"a@b.io","mfa_token":"","mfa_setup_token":"s"}`},
		{"application/json", `{"email":"a@b.io","mfa_token":["t"],"mfa_setup_token":null}`},
		{"application/json", `{"email":" \u0041@b.io ","mfa_token":7}`},
		{"application/json", `{"email":"a@b.io",`},
		{"application/json", `["a"]`},
		{"application/json", `{"super_admin":{"email":"s@b.io"},"website_token":"w1"}`},
		{"application/x-www-form-urlencoded", "email=a%40b.io&mfa_token=t2&_method=delete"},
		{"application/x-www-form-urlencoded", "mfa_setup_token=s2&website_token=&cw_conversation=c"},
		{"text/plain", "email=a@b.io"},
		{"", ""},
	}
	paths := []string{"/auth/sign_in", "/auth/sign_in.json", "/super_admin/sign_in", "/auth/password", "/resend_confirmation",
		"/api/v1/widget/messages", "/api/v1/widget/conversations", "/widget", "/api/v1/profile/mfa", "/api/v1/profile/mfa/verify",
		"/api/v1/accounts/1/conversations/2", "/api/v2/accounts/3/reports", "/api/v1/accounts/1/agents"}
	queries := []string{"", "mfa_token=q", "website_token=w2&cw_conversation=", "email=q@b.io"}
	headers := []http.Header{{}, {"Api_access_token": {"tok"}}, {"X-Http-Method-Override": {"DELETE"}, "Email": {"h@b.io"}}}
	now := time.Unix(1_800_000_000, 0)
	ip := netip.MustParseAddr("203.0.113.9")
	n := 0
	for round := range 7 {
		for _, b := range bodies {
			for _, p := range paths {
				for qi, q := range queries {
					for hi, h := range headers {
						if (qi+hi+round)%3 != 0 && p != "/auth/sign_in" {
							continue // a sample off the sign-in route keeps the test short
						}
						hh := http.Header{}
						for k, v := range h {
							hh[k] = v
						}
						if b.ct != "" {
							hh["Content-Type"] = []string{b.ct}
						}
						for _, method := range []string{"POST", "GET", "DELETE"} {
							req := func() *rules.Request {
								return &rules.Request{Method: method, Path: p, RawQuery: q, IP: ip, Header: hh, Body: []byte(b.body)}
							}
							df, errF := fast.Decide(context.Background(), now, req())
							ds, errS := slow.Decide(context.Background(), now, req())
							n++
							if (errF == nil) != (errS == nil) || !sameDecision(df, ds) {
								t.Fatalf("%s %s?%s %v %q: with shortcuts %+v (%v), without %+v (%v)", method, p, q, h, b.body, df, errF, ds, errS)
							}
						}
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no request compared")
	}
}

// shortcutEngines compiles spec twice, each on its own memory store: fast
// as the gateway runs it, slow with the throttle index, the param memo and
// the path shortcuts switched off (the reference).
func shortcutEngines(t *testing.T, spec rules.Spec, o rules.Options) (fast, slow *rules.Engine) {
	t.Helper()
	engine := func(shortcuts bool) *rules.Engine {
		st := memory.New(memory.Options{SweepEvery: -1})
		t.Cleanup(func() { st.Close() })
		o.Store = st
		e, err := rules.Compile(spec, o)
		if err != nil {
			t.Fatal(err)
		}
		if !shortcuts {
			e.DisableShortcuts()
		}
		return e
	}
	return engine(true), engine(false)
}

// sameDecision compares what a decision tells its caller (Pending holds
// each engine's own rules).
func sameDecision(a, b rules.Decision) bool {
	return a.Action == b.Action && a.Rule == b.Rule && a.Type == b.Type && a.Discriminator == b.Discriminator &&
		a.Count == b.Count && a.Limit == b.Limit && a.RetryAfter == b.RetryAfter && a.Quota == b.Quota &&
		a.QuotaValid == b.QuotaValid && reflect.DeepEqual(a.Events, b.Events) && len(a.Pending) == len(b.Pending)
}
