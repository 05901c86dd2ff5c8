package telemetry_test

import (
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/memory"
	"github.com/wootguard/wootguard/internal/telemetry"
)

// rig is a gateway with metrics in front of a stand-in Chatwoot that
// answers 401 to /auth/sign_in, 500 to /boom and 200 otherwise.
func rig(t *testing.T) (*httptest.Server, *telemetry.Metrics) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth/sign_in":
			w.WriteHeader(401)
		case "/boom":
			w.WriteHeader(500)
		}
	}))
	t.Cleanup(up.Close)
	p := filepath.Join(t.TempDir(), "w.yaml")
	os.WriteFile(p, []byte(`
upstream: `+up.URL+`
preset: none
body_limit: 16
client_ip: {trusted_proxies: [127.0.0.1]}
safelists: [{name: office, ip: [10.0.0.0/8]}]
blocklists: [{name: scanners, match: {path_prefix: /wp-admin}}]
fail2ban:
  - {name: login-failures, key: ip, match: {method: POST, path: /auth/sign_in}, failure: {status: [401]}, maxretry: 2, findtime: 10m, bantime: 1h}
throttles:
  - {name: req/ip, limit: 3, period: 1h, key: ip}
  - {name: by-email, limit: 1, period: 1h, key: param:email, mode: dry-run}
`), 0o644)
	cfg, err := config.Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{SweepEvery: -1})
	t.Cleanup(func() { st.Close() })
	opts, err := gateway.FromConfig(cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	m := telemetry.New(telemetry.Sources{Stats: func() (store.Stats, bool) { return st.Stats(), true },
		Bans: func() map[string]int { return map[string]int{"login-failures": 1} }})
	opts.Observer = m
	gw := httptest.NewServer(gateway.New(opts))
	t.Cleanup(gw.Close)
	return gw, m
}

func send(t *testing.T, gw *httptest.Server, method, path, ip, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, gw.URL+path, strings.NewReader(body))
	req.Header.Set("X-Forwarded-For", ip)
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Known traffic gives exact counts per decision and rule.
func TestMetricValuesAfterKnownTraffic(t *testing.T) {
	gw, m := rig(t)
	for i := 0; i < 5; i++ { // 3 pass, 2 throttled
		send(t, gw, "GET", "/a", "192.0.2.1", "")
	}
	for i := 0; i < 2; i++ { // safelisted, never counted
		send(t, gw, "GET", "/a", "10.1.1.1", "")
	}
	send(t, gw, "GET", "/wp-admin/x", "192.0.2.2", "")                    // blocklist
	send(t, gw, "POST", "/auth/sign_in", "192.0.2.3", "")                 // pass (401)
	send(t, gw, "POST", "/auth/sign_in", "192.0.2.3", "")                 // pass (401) → ban starts
	send(t, gw, "GET", "/a", "192.0.2.3", "")                             // ban
	send(t, gw, "GET", "/boom", "192.0.2.4", "")                          // pass, 500
	send(t, gw, "POST", "/x", "192.0.2.5", "email=a@b.c")                 // dry-run by-email (count 1, not over)
	send(t, gw, "POST", "/x", "192.0.2.5", "email=a@b.c")                 // dry-run would throttle
	send(t, gw, "POST", "/x", "192.0.2.6", strings.Repeat("email=x&", 5)) // 413 (body_limit 16)

	want := map[[2]string]float64{
		{"pass", ""}:              3 + 2 + 1 + 1,
		{"throttle", "req/ip"}:    2,
		{"safelist", "office"}:    2,
		{"block", "scanners"}:     1,
		{"ban", "login-failures"}: 1,
		{"dry-run", "by-email"}:   1,
		{"block", "body_limit"}:   1,
	}
	for k, v := range want {
		if got := requests(t, m, k[0], k[1]); got != v {
			t.Errorf("requests_total{decision=%q,rule=%q} = %v, want %v", k[0], k[1], got, v)
		}
	}
	if n := testutil.CollectAndCount(m.Registry(), "wootguard_requests_total"); n != len(want) {
		t.Errorf("%d request series, want %d", n, len(want))
	}
	expected := `
# HELP wootguard_body_limit_rejections_total Requests answered 413 because their body exceeded body_limit on a route whose rules read body params.
# TYPE wootguard_body_limit_rejections_total counter
wootguard_body_limit_rejections_total 1
# HELP wootguard_bans_started_total Fail2Ban/Allow2Ban bans started, by rule.
# TYPE wootguard_bans_started_total counter
wootguard_bans_started_total{rule="login-failures"} 1
# HELP wootguard_bans_active Bans in force, by rule.
# TYPE wootguard_bans_active gauge
wootguard_bans_active{rule="login-failures"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(expected), "wootguard_body_limit_rejections_total",
		"wootguard_bans_started_total", "wootguard_bans_active"); err != nil {
		t.Error(err)
	}
	// Forwarded requests are timed by the class of Chatwoot's answer.
	fams, _ := m.Registry().Gather()
	classes := map[string]uint64{}
	for _, f := range fams {
		if f.GetName() == "wootguard_upstream_duration_seconds" {
			for _, mt := range f.GetMetric() {
				classes[mt.GetLabel()[0].GetValue()] = mt.GetHistogram().GetSampleCount()
			}
		}
	}
	if want := map[string]uint64{"error": 0, "1xx": 0, "2xx": 3 + 2 + 2, "3xx": 0, "4xx": 2, "5xx": 1}; !maps.Equal(classes, want) {
		t.Errorf("upstream answers by class %v, want %v", classes, want)
	}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(`
# HELP wootguard_store_evictions_total Live keys the store dropped to stay within its bound (store.max_keys).
# TYPE wootguard_store_evictions_total counter
wootguard_store_evictions_total{store="memory"} 0
`), "wootguard_store_evictions_total"); err != nil {
		t.Error(err)
	}
}

// requests reads wootguard_requests_total{decision,rule} from a scrape.
func requests(t *testing.T, m *telemetry.Metrics, decision, rule string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "wootguard_requests_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range mt.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["decision"] == decision && l["rule"] == rule {
				return mt.GetCounter().GetValue()
			}
		}
	}
	return 0
}
