package replay

import (
	"context"
	"testing"
)

// string_param_present/absent (Chatwoot's auth_param, the preset's MFA and
// login rules) read the body as param_present/absent do, so a log without
// it reports them as not evaluated or assumed, never silently.
func TestReplayStringParamConditions(t *testing.T) {
	cfg := loadConfig(t, `upstream: http://127.0.0.1:3000
preset: none
throttles:
  - {name: mfa, limit: 100, period: 1m, key: ip, match: {method: POST, path: /auth/sign_in, string_param_present: [mfa_token]}}
  - {name: login, limit: 100, period: 1m, key: ip, match: {method: POST, path: /auth/sign_in, string_param_absent: [mfa_token]}}
`)
	reqs := []tReq{
		{t: 1764496800, ip: "203.0.113.1", method: "POST", uri: "/auth/sign_in", status: 401},
		{t: 1764496801, ip: "203.0.113.1", method: "POST", uri: "/auth/sign_in", status: 401},
		{t: 1764496802, ip: "203.0.113.1", method: "POST", uri: "/auth/sign_in?mfa_token=abc", status: 200},
	}
	rep, err := Run(context.Background(), []Config{cfg}, []Source{{Name: writeLog(t, "access.log", writeCombined(reqs, false))}}, Options{Unmask: true})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Configs[0]
	if got := ruleByName(t, c, "mfa"); got.NotEvaluated != 2 || got.Counted != 1 {
		t.Errorf("mfa: not evaluated %d, counted %d; want 2, 1 (%v)", got.NotEvaluated, got.Counted, got.NotEvaluatedWhy)
	}
	if got := ruleByName(t, c, "login"); got.Assumed != 2 || got.Counted != 2 {
		t.Errorf("login: assumed %d, counted %d; want 2, 2 (%v)", got.Assumed, got.Counted, got.AssumedWhy)
	}
}
