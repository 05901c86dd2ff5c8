package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/config"
)

// t0 is a multiple of every period used here (1m, 5m, 10m, 1h).
const t0 = 1_800_000_000

// tReq is one generated request.
type tReq struct {
	t      int64
	ip     string
	method string
	uri    string
	status int
}

// traffic generates known traffic over the given minutes:
//   - a brute-force burst: 203.0.113.50 POSTs /auth/sign_in every 3s from
//     minute 2 to 12, answered 401;
//   - a busy office behind one NAT address (198.51.100.10): 150 API reads a
//     minute in minutes 5–15, and 12 sign-ins within minutes 20–24;
//   - a steady API client (192.0.2.200) with an api_key, one a second;
//   - background noise from many addresses, /health checks among it.
func traffic(minutes int64) []tReq {
	rnd := rand.New(rand.NewPCG(7, 11))
	end := int64(t0 + minutes*60)
	var out []tReq
	add := func(t int64, ip, method, uri string, status int) {
		if t < end {
			out = append(out, tReq{t, ip, method, uri, status})
		}
	}
	for t := int64(t0 + 120); t < t0+720; t += 3 {
		add(t, "203.0.113.50", "POST", "/auth/sign_in", 401)
	}
	for m := int64(5); m < 15; m++ {
		for i := 0; i < 150; i++ {
			add(t0+m*60+rnd.Int64N(60), "198.51.100.10", "GET", fmt.Sprintf("/api/v1/accounts/1/conversations?page=%d", rnd.IntN(9)+1), 200)
		}
	}
	for i := 0; i < 12; i++ {
		add(t0+1200+rnd.Int64N(300), "198.51.100.10", "POST", "/auth/sign_in", 200)
	}
	for t := int64(t0); t < end; t++ {
		add(t, "192.0.2.200", "GET", "/api/v1/accounts/2/contacts?api_key=K3y-Integration&page=1", 200)
	}
	paths := []string{"/health", "/app/login", "/packs/app.js", "/api/v1/profile", "/widget?website_token=abc", "/favicon.ico"}
	for i := int64(0); i < minutes*60; i++ {
		add(t0+rnd.Int64N(minutes*60), fmt.Sprintf("100.64.%d.%d", rnd.IntN(4), rnd.IntN(250)+1), "GET", paths[rnd.IntN(len(paths))], []int{200, 304, 404}[rnd.IntN(3)])
	}
	slices.SortStableFunc(out, func(a, b tReq) int { return int(a.t - b.t) })
	return out
}

const trafficConfig = `preset: none
client_ip: {trusted_proxies: [127.0.0.1]}
safelists:
  - {name: health, match: {path: /health}}
fail2ban:
  - {name: login-failures, key: ip, match: {method: POST, path: /auth/sign_in}, failure: {status: [401]}, maxretry: 8, findtime: 10m, bantime: 1h}
throttles:
  - {name: req/ip, limit: 120, period: 1m, key: ip}
  - {name: login/ip, limit: 5, period: 5m, key: ip, match: {method: POST, path: /auth/sign_in}}
  - {name: login/email, limit: 10, period: 15m, key: "param:email", match: {method: POST, path: /auth/sign_in}}
  - {name: api/key, limit: 100, period: 1m, key: "param:api_key", match: {path_prefix: /api/}}
  - {name: conversations/ip, limit: 100, period: 1m, key: ip, match: {path_prefix: /api/v1/accounts/1/conversations}, mode: dry-run}
`

// simStats is what the independent model below expects of one rule.
type simStats struct {
	counted, refused, bans, notEval int64
	keys                            map[string]bool
	first, last                     int64
}

type simThrottle struct {
	name   string
	limit  int64
	period int64
	dry    bool
	match  func(r tReq) bool
	key    func(r tReq) (string, bool)
}

// simulate is a from-scratch model of the config above (fixed windows,
// Rack::Attack's order, a response-based ban), written without the
// engine: the expected numbers come from here, not from replay output.
// It returns per-rule stats and whether each request was refused.
func simulate(reqs []tReq, loginLimit, reqLimit int64) (map[string]*simStats, []bool) {
	path := func(r tReq) string { p, _, _ := strings.Cut(r.uri, "?"); return p }
	query := func(r tReq, name string) (string, bool) {
		_, q, _ := strings.Cut(r.uri, "?")
		v, err := url.ParseQuery(q)
		if err != nil || !v.Has(name) {
			return "", false
		}
		return strings.ToLower(v.Get(name)), true
	}
	signIn := func(r tReq) bool { return r.method == "POST" && path(r) == "/auth/sign_in" }
	ip := func(r tReq) (string, bool) { return r.ip, true }
	throttles := []simThrottle{
		{"req/ip", reqLimit, 60, false, func(tReq) bool { return true }, ip},
		{"login/ip", loginLimit, 300, false, signIn, ip},
		{"login/email", 10, 900, false, signIn, func(r tReq) (string, bool) { return query(r, "email") }},
		{"api/key", 100, 60, false, func(r tReq) bool { return strings.HasPrefix(path(r), "/api/") },
			func(r tReq) (string, bool) { return query(r, "api_key") }},
		{"conversations/ip", 100, 60, true, func(r tReq) bool { return strings.HasPrefix(path(r), "/api/v1/accounts/1/conversations") }, ip},
	}
	stats := map[string]*simStats{}
	get := func(n string) *simStats {
		if stats[n] == nil {
			stats[n] = &simStats{keys: map[string]bool{}}
		}
		return stats[n]
	}
	refuse := func(n, key string, t int64) {
		s := get(n)
		s.refused++
		s.keys[key] = true
		if s.first == 0 {
			s.first = t
		}
		s.last = t
	}
	counts := map[string]int64{}
	banUntil := map[string]int64{}
	refused := make([]bool, len(reqs))
	for i, r := range reqs {
		if path(r) == "/health" {
			get("health").counted++
			continue
		}
		// what the log cannot tell: login/email's key (the email is in the
		// body), api/key's key when the query has none
		if signIn(r) {
			get("login/email").notEval++
		}
		if _, ok := query(r, "api_key"); !ok && strings.HasPrefix(path(r), "/api/") {
			get("api/key").notEval++
		}
		if banUntil[r.ip] > r.t {
			refuse("login-failures", r.ip, r.t)
			refused[i] = true
			continue
		}
		stopped := false
		for _, th := range throttles {
			if !th.match(r) {
				continue
			}
			k, ok := th.key(r)
			if !ok {
				continue
			}
			ck := fmt.Sprintf("%s|%s|%d", th.name, k, r.t/th.period)
			counts[ck]++
			get(th.name).counted++
			if counts[ck] > th.limit {
				refuse(th.name, k, r.t)
				if !th.dry {
					stopped = true
					break
				}
			}
		}
		if stopped {
			refused[i] = true
			continue
		}
		if signIn(r) && r.status == 401 {
			fk := fmt.Sprintf("fail|%s|%d", r.ip, r.t/600)
			counts[fk]++
			get("login-failures").counted++
			if counts[fk] >= 8 {
				if banUntil[r.ip] <= r.t {
					get("login-failures").bans++
				}
				banUntil[r.ip] = r.t + 3600
			}
		}
	}
	return stats, refused
}

// Log writers: the same traffic in each format replay reads.

func writeCombined(reqs []tReq, viaProxy bool) []byte {
	var b bytes.Buffer
	for _, r := range reqs {
		ts := time.Unix(r.t, 0).UTC().Format("02/Jan/2006:15:04:05 -0700")
		if viaProxy { // nginx behind a local proxy: peer 127.0.0.1, client in X-Forwarded-For, $request_time last
			fmt.Fprintf(&b, "127.0.0.1 - - [%s] \"%s %s HTTP/1.1\" %d 512 \"-\" \"Mozilla/5.0 (X11)\" \"%s\" 0.004\n", ts, r.method, r.uri, r.status, r.ip)
		} else {
			fmt.Fprintf(&b, "%s - - [%s] \"%s %s HTTP/1.1\" %d 512 \"https://chat.example.com/app\" \"Mozilla/5.0 (X11)\"\n", r.ip, ts, r.method, r.uri, r.status)
		}
	}
	return b.Bytes()
}

// writeWootguardJSON writes CONTRACTS.md §5's json access log: the
// resolved client in client_ip.
func writeWootguardJSON(reqs []tReq) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range reqs {
		enc.Encode(map[string]any{"ts": time.Unix(r.t, 0).UTC().Format("2006-01-02T15:04:05.000Z"), "client_ip": r.ip,
			"peer": "127.0.0.1:40000", "method": r.method, "uri": r.uri, "proto": "HTTP/1.1", "host": "chat.example.com",
			"status": r.status, "bytes": 512, "duration_ms": 3.5, "decision": "pass", "rule": "", "user_agent": "Mozilla/5.0", "referer": ""})
	}
	return b.Bytes()
}

func gz(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func loadConfig(t testing.TB, yaml string) Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "wootguard.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := config.Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return Config{Name: "wootguard.yaml", Gateway: g}
}

func writeLog(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func ruleByName(t *testing.T, c ConfigReport, name string) RuleReport {
	t.Helper()
	for _, r := range c.Rules {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no rule %q in the report", name)
	return RuleReport{}
}

// The replay of generated traffic gives, per rule, exactly what the
// independent model expects, whichever log format carries it.
func TestReplayKnownTraffic(t *testing.T) {
	reqs := traffic(30)
	want, _ := simulate(reqs, 5, 120)
	// the scenario is what it claims to be
	for rule, min := range map[string]int64{"req/ip": 100, "login/ip": 40, "login-failures": 100, "conversations/ip": 50} {
		if want[rule] == nil || want[rule].refused < min {
			t.Fatalf("scenario: %s refuses %v, want ≥ %d", rule, want[rule], min)
		}
	}
	if want["login-failures"].bans != 1 || !want["login/ip"].keys["198.51.100.10"] || want["api/key"].refused != 0 {
		t.Fatalf("scenario: want one ban, the office hit by login/ip, the API client never refused")
	}
	cfg := loadConfig(t, trafficConfig)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"access.log", writeCombined(reqs, false)},
		{"access-xff.log", writeCombined(reqs, true)},
		{"access.log.gz", gz(writeCombined(reqs, false))},
		{"wootguard.json.gz", gz(writeWootguardJSON(reqs))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Run(context.Background(), []Config{cfg}, []Source{{Name: writeLog(t, tc.name, tc.data)}}, Options{Unmask: true})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Requests != int64(len(reqs)) || rep.BadLines != 0 {
				t.Fatalf("requests %d, bad %d (%v); want %d, 0", rep.Requests, rep.BadLines, rep.BadExamples, len(reqs))
			}
			c := rep.Configs[0]
			var refusedTotal int64
			for name, w := range want {
				got := ruleByName(t, c, name)
				if got.Counted != w.counted || got.Refused != w.refused || got.BansStarted != w.bans ||
					int64(got.KeysAffected) != int64(len(w.keys)) || got.NotEvaluated != w.notEval {
					t.Errorf("%s: counted %d refused %d bans %d keys %d not-evaluated %d; want %d %d %d %d %d", name,
						got.Counted, got.Refused, got.BansStarted, got.KeysAffected, got.NotEvaluated,
						w.counted, w.refused, w.bans, len(w.keys), w.notEval)
				}
				if w.refused > 0 {
					if got.FirstRefusal.Unix() != w.first || got.LastRefusal.Unix() != w.last {
						t.Errorf("%s: refusals %v → %v, want %v → %v", name, got.FirstRefusal, got.LastRefusal, time.Unix(w.first, 0), time.Unix(w.last, 0))
					}
					var sum int64
					for _, n := range got.Timeline {
						sum += n
					}
					if sum != w.refused {
						t.Errorf("%s: timeline sums to %d, want %d", name, sum, w.refused)
					}
				}
				if name != "conversations/ip" {
					refusedTotal += w.refused
				}
			}
			if got := ruleByName(t, c, "conversations/ip"); !got.DryRun || got.Mode != "dry-run" {
				t.Errorf("conversations/ip not marked dry-run: %+v", got)
			}
			if c.Refused != refusedTotal {
				t.Errorf("config refused %d, want %d", c.Refused, refusedTotal)
			}
			if why := ruleByName(t, c, "login/email").NotEvaluatedWhy; len(why) != 1 || !strings.Contains(why[0].Reason, "param:email") {
				t.Errorf("login/email: reasons %v, want one naming param:email", why)
			}
		})
	}
}
