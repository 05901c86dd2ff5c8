package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/admin"
	"github.com/wootguard/wootguard/internal/rules"
)

func TestTokenGuardsEverythingButHealth(t *testing.T) {
	r := newRig(t)
	for _, p := range []string{"/healthz", "/readyz", "/", "/static/app.js"} {
		if c := r.api("GET", p, "", "", nil); c != 200 {
			t.Errorf("%s without a token: %d, want 200", p, c)
		}
	}
	for _, ep := range [][2]string{{"GET", "/metrics"}, {"GET", "/api/bans"}, {"DELETE", "/api/bans?rule=login-failures&key=1.2.3.4"},
		{"GET", "/api/top"}, {"POST", "/api/reset"}, {"POST", "/api/explain"}, {"GET", "/api/rules"}, {"POST", "/api/reload"},
		{"POST", "/api/maintenance"}, {"GET", "/api/activity"}, {"GET", "/api/nothing"}} {
		for _, tok := range []string{"", "wrong", token + "x", token[:len(token)-1]} {
			if c := r.api(ep[0], ep[1], tok, "", nil); c != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q: %d, want 401", ep[0], ep[1], tok, c)
			}
		}
	}
	if c := r.api("GET", "/api/rules", token, "", nil); c != 200 {
		t.Fatalf("right token: %d", c)
	}
	if r.reloads != 0 {
		t.Fatal("a refused reload ran")
	}
}

func TestBanListedThenLiftedLetsTheClientThrough(t *testing.T) {
	r := newRig(t)
	for i := 0; i < 3; i++ {
		if c := r.send("POST", "/auth/sign_in", "192.0.2.66", "email=a@b.c&password=x"); c != 401 {
			t.Fatalf("failure %d: %d", i, c)
		}
	}
	if c := r.send("GET", "/after", "192.0.2.66", ""); c != 403 {
		t.Fatalf("banned client got %d", c)
	}
	var list struct{ Bans []admin.Ban }
	r.api("GET", "/api/bans", token, "", &list)
	if len(list.Bans) != 1 || list.Bans[0].Rule != "login-failures" || list.Bans[0].Key != "192.0.2.66" || list.Bans[0].SecondsLeft < 3590 || list.Bans[0].Since.IsZero() {
		t.Fatalf("bans %+v", list.Bans)
	}
	var del map[string]any
	if c := r.api("DELETE", "/api/bans?rule=login-failures&key=192.0.2.66", token, "", &del); c != 200 || del["removed"] != true {
		t.Fatalf("unban: %d %v", c, del)
	}
	if c := r.send("GET", "/after", "192.0.2.66", ""); c != 200 {
		t.Fatalf("after unban: %d", c)
	}
	r.api("GET", "/api/bans", token, "", &list)
	if len(list.Bans) != 0 {
		t.Fatalf("still listed: %+v", list.Bans)
	}
	if c := r.api("DELETE", "/api/bans?rule=nope&key=x", token, "", nil); c != 404 {
		t.Fatalf("unknown rule: %d", c)
	}
	if c := r.api("DELETE", "/api/bans?rule=login-failures", token, "", nil); c != 400 {
		t.Fatalf("no key: %d", c)
	}
	logs := r.logs.String()
	if !strings.Contains(logs, `"msg":"admin: unban"`) || !strings.Contains(logs, `"key":"192.0.2.66"`) || !strings.Contains(logs, `"from":"127.0.0.1:`) {
		t.Fatalf("the unban is not logged with key and address:\n%s", logs)
	}
}

// Explain answers what the gateway then does, for a sequence that passes,
// throttles and bans; and explaining never counts.
func TestExplainIsTheGatewaysNextDecision(t *testing.T) {
	r := newRig(t)
	explain := func(method, path, ip, body string) *rules.Explanation {
		var x rules.Explanation
		q := admin.ExplainRequest{Method: method, Path: path, ClientIP: ip, Body: body,
			Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}
		if c := r.api("POST", "/api/explain", token, mustJSON(q), &x); c != 200 {
			t.Fatalf("explain: %d", c)
		}
		return &x
	}
	status := map[string]int{"pass": 200, "throttle": 429, "block": 403}
	for i := 0; i < 8; i++ {
		for range 3 {
			explain("GET", "/x?y=1", "198.51.100.9", "")
		}
		x := explain("GET", "/x?y=1", "198.51.100.9", "")
		got := r.send("GET", "/x?y=1", "198.51.100.9", "")
		if status[x.Action] != got {
			t.Fatalf("request %d: explain said %s (%s), gateway answered %d", i, x.Action, x.Rule, got)
		}
		for _, c := range x.Rules {
			if c.Name == "req/ip" && c.Count != int64(i+1) {
				t.Fatalf("request %d: req/ip would count %d, want %d (explain counted)", i, c.Count, i+1)
			}
		}
	}
	x := explain("POST", "/auth/sign_in", "203.0.113.5", "email=Agent@Example.com&password=x")
	for _, c := range x.Rules {
		if c.Name == "login/email" && (!c.Matched || c.Key != "agent@example.com" || c.Count != 1) {
			t.Fatalf("login/email: %+v", c)
		}
	}
	if c := r.api("POST", "/api/explain", token, `{"path":"no-slash"}`, nil); c != 400 {
		t.Fatalf("bad path: %d", c)
	}
	if c := r.api("POST", "/api/explain", token, `{"path":"/", "client_ip":"junk"}`, nil); c != 400 {
		t.Fatalf("bad ip: %d", c)
	}
}

func TestResetTopRulesReloadMaintenance(t *testing.T) {
	r := newRig(t)
	for i := 0; i < 7; i++ {
		r.send("GET", "/x", "192.0.2.7", "")
	}
	var top struct {
		Window string
		Rules  []admin.TopRule
	}
	r.api("GET", "/api/top?window=5m", token, "", &top)
	if len(top.Rules) != 1 || top.Rules[0].Rule != "req/ip" || top.Rules[0].Total != 2 || top.Rules[0].Keys[0].Key != "192.0.2.7" {
		t.Fatalf("top %+v", top)
	}
	// The activity is kept per minute: a shorter window would be
	// reported as itself while counting a whole minute.
	for _, w := range []string{"forever", "10s", "2h"} {
		if c := r.api("GET", "/api/top?window="+w, token, "", nil); c != 400 {
			t.Fatalf("bad window %s: %d", w, c)
		}
	}
	if c := r.api("POST", "/api/reset", token, `{"rule":"req/ip","key":"192.0.2.7"}`, nil); c != 200 {
		t.Fatalf("reset: %d", c)
	}
	if c := r.send("GET", "/x", "192.0.2.7", ""); c != 200 {
		t.Fatalf("after reset: %d", c)
	}
	var rows struct{ Rules []rules.Row }
	r.api("GET", "/api/rules", token, "", &rows)
	if len(rows.Rules) != 3 {
		t.Fatalf("rules %+v", rows)
	}

	// Reload: a broken file is refused and the rules stay; a good one with
	// req/ip unchanged keeps its counter.
	r.writeConfig(rigRules + "throttles: [oops\n")
	var res map[string]any
	if c := r.api("POST", "/api/reload", token, "", &res); c != 422 || res["reloaded"] != false {
		t.Fatalf("broken reload: %d %v", c, res)
	}
	r.writeConfig(strings.Replace(rigRules, "limit: 100", "limit: 50", 1))
	if c := r.api("POST", "/api/reload", token, "", &res); c != 200 || r.reloads != 1 {
		t.Fatalf("reload: %d %v", c, res)
	}
	for i := 0; i < 4; i++ {
		r.send("GET", "/x", "192.0.2.7", "")
	}
	if c := r.send("GET", "/x", "192.0.2.7", ""); c != 429 {
		t.Fatalf("req/ip's counter did not survive the reload: %d", c)
	}

	var m map[string]bool
	r.api("POST", "/api/maintenance", token, `{"on":true}`, &m)
	if !m["maintenance"] || !r.gateway.Maintenance() {
		t.Fatal("maintenance not on")
	}
	resp, err := http.Get(r.gw.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "120" {
		t.Fatalf("maintenance answer %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	var h admin.Health
	r.api("GET", "/readyz", "", "", &h)
	if !h.Maintenance || h.Status != "ready" {
		t.Fatalf("readyz %+v", h)
	}
	r.api("POST", "/api/maintenance", token, `{"on":false}`, &m)
	if c := r.send("GET", "/y", "192.0.2.99", ""); c != 200 {
		t.Fatalf("after maintenance: %d", c)
	}
	if c := r.api("POST", "/api/maintenance", token, `{}`, nil); c != 400 {
		t.Fatalf("maintenance without on: %d", c)
	}
}

func mustJSON(v any) string {
	var b strings.Builder
	if err := jsonEncoder(&b).Encode(v); err != nil {
		panic(err)
	}
	return b.String()
}

// Explain reads the body only where the gateway would: a query that
// decides every param of the rules leaves the body unread, so a broken
// body does not change the key as it would not in the gateway.
func TestExplainReadsTheBodyAsTheGatewayDoes(t *testing.T) {
	r := newRig(t)
	q := admin.ExplainRequest{Method: "POST", Path: "/auth/sign_in?email=a@b.c", ClientIP: "203.0.113.5", Body: `{"email":`,
		Headers: map[string]string{"Content-Type": "application/json"}}
	var x rules.Explanation
	if c := r.api("POST", "/api/explain", token, mustJSON(q), &x); c != 200 {
		t.Fatalf("explain: %d", c)
	}
	for _, c := range x.Rules {
		if c.Name == "login/email" && c.Key != "a@b.c" {
			t.Fatalf("login/email keyed %q, want the query's a@b.c", c.Key)
		}
	}
}
