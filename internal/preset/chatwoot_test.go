package preset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
)

// The defaults and the whole order are Chatwoot's current rack_attack.rb:
// the first exceeded throttle stops counting, so order decides what counts.
func TestChatwootDefaults(t *testing.T) {
	spec, warnings := Chatwoot(func(string) string { return "" })
	if len(warnings) != 0 {
		t.Fatalf("warnings %v", warnings)
	}
	want := []struct {
		name   string
		limit  int64
		period time.Duration
	}{
		{"req/ip", 3000, time.Minute},
		{"super_admin_login/ip", 5, 5 * time.Minute},
		{"super_admin_login/email", 5, 15 * time.Minute},
		{"login/ip", 5, 5 * time.Minute},
		{"login/email", 10, 15 * time.Minute},
		{"reset_password/ip", 5, 30 * time.Minute},
		{"reset_password/email", 5, time.Hour},
		{"resend_confirmation/ip", 5, 30 * time.Minute},
		{"resend_confirmation/email", 5, time.Hour},
		{"resend_confirmation_auth/ip", 5, 30 * time.Minute},
		{"mfa_verification/ip", 5, time.Minute},
		{"mfa_login/ip", 10, time.Minute},
		{"mfa_login/token", 10, time.Minute},
		{"mfa_setup_login/ip", 10, time.Minute},
		{"mfa_setup_login/token", 10, time.Minute},
		{"accounts/ip", 5, 30 * time.Minute},
		{"api/v1/widget/conversations", 30, time.Minute},
		{"api/v1/widget/messages", 60, time.Minute},
		{"api/v1/widget/contact", 60, time.Hour},
		{"widget?website_token={website_token}&cw_conversation={x-auth-token}", 200, time.Hour},
		{"api/v1/widget/conversations/transcript", 5, time.Hour},
		{"/api/v1/accounts/:account_id/conversations/:conversation_id/transcript", 1000, time.Hour},
		{"/api/v1/accounts/:account_id/conversations/:id DELETE", 60, time.Minute},
		{"/api/v1/accounts/:account_id/agents POST", 100, 24 * time.Hour},
		{"/api/v1/accounts/:account_id/agents/:id DELETE", 50, 24 * time.Hour},
		{"/api/v1/accounts/:account_id/upload", 60, time.Hour},
		{"/api/v1/accounts/:account_id/contacts/search", 100, time.Minute},
		{"/api/v2/accounts/:account_id/reports/drilldown/user", 10, time.Minute},
		{"/api/v2/accounts/:account_id/reports/user", 100, time.Minute},
		{"/api/v2/accounts/:account_id/reports", 1000, time.Minute},
		{"/api/v1/accounts/:account_id/conversations/meta/user", 30, time.Minute},
	}
	if len(spec.Throttles) != len(want) {
		t.Fatalf("%d throttles, want %d", len(spec.Throttles), len(want))
	}
	for i, w := range want {
		th := spec.Throttles[i]
		if th.Name != w.name || *th.Limit != w.limit || time.Duration(th.Period) != w.period || th.Source != Source {
			t.Errorf("#%d: %s %d/%s, want %s %d/%s", i, th.Name, *th.Limit, time.Duration(th.Period), w.name, w.limit, w.period)
		}
	}
	if _, err := rules.Compile(spec, rules.Options{Store: nil}); err == nil || !strings.Contains(err.Error(), "need a store") {
		t.Fatalf("compile without store: %v", err)
	}
}

func TestChatwootEnv(t *testing.T) {
	env := map[string]string{"ENABLE_RACK_ATTACK": "FALSE"}
	if spec, _ := Chatwoot(func(k string) string { return env[k] }); len(spec.Throttles)+len(spec.Safelists) != 0 {
		t.Fatal("ENABLE_RACK_ATTACK=FALSE left rules")
	}
	env = map[string]string{"RACK_ATTACK_LIMIT": "lots", "RACK_ATTACK_ALLOWED_IPS": "10.0.0.0/8,nope", "RATE_LIMIT_REPORTS_API_USER_LEVEL": "50"}
	spec, warnings := Chatwoot(func(k string) string { return env[k] })
	if *spec.Throttles[0].Limit != 3000 || len(warnings) != 2 {
		t.Fatalf("limit %d warnings %v", *spec.Throttles[0].Limit, warnings)
	}
	if got := spec.Safelists[0].IP; strings.Join(got, ",") != "127.0.0.1,::1,10.0.0.0/8" {
		t.Fatalf("allowed %v", got)
	}
	for _, th := range spec.Throttles {
		if th.Name == "/api/v2/accounts/:account_id/reports/drilldown/user" && *th.Limit != 5 {
			t.Fatalf("drilldown default max(50/10,1) = %d", *th.Limit)
		}
	}
}

func TestReadEnvFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".env")
	os.WriteFile(p, []byte("# c\n\nA=1\nexport B=\"two words\"\nC='3' \nD=4 # note\nE=\n"), 0o600)
	m, err := ReadEnvFile(p)
	if err != nil || m["A"] != "1" || m["B"] != "two words" || m["C"] != "3" || m["D"] != "4" || m["E"] != "" {
		t.Fatalf("%v %v", m, err)
	}
	os.WriteFile(p, []byte("A=1\nnot a line\n"), 0o600)
	if _, err := ReadEnvFile(p); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Fatalf("err %v", err)
	}
}
