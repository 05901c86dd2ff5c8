package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func load(t *testing.T, body string, env map[string]string) (*Gateway, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "wootguard.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(p, func(k string) string { return env[k] })
}

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"unknown top key", "listen: 127.0.0.1:8080\nupstrem: http://x\n", `wootguard.yaml:2: unknown key "upstrem" (did you mean "upstream"?)`},
		{"unknown rule key", "throttles:\n  - name: a\n    limit: 1\n    period: 1m\n    key: ip\n    limt: 3\n", `wootguard.yaml:6: unknown key "limt"`},
		{"unknown match key", "throttles:\n  - {name: a, limit: 1, period: 60, key: ip, match: {paht: /x}}\n", `wootguard.yaml:2: unknown key "paht"`},
		{"bad duration", "throttles:\n  - name: a\n    limit: 1\n    period: soon\n    key: ip\n", `wootguard.yaml:4: bad duration "soon"`},
		{"wrong type", "throttles:\n  - name: a\n    limit: lots\n    period: 60\n    key: ip\n", "wootguard.yaml:3: wrong type"},
		{"bad regex", "throttles:\n  - name: a\n    limit: 1\n    period: 60\n    key: ip\n    match:\n      path_regex: '(unclosed'\n", "wootguard.yaml:7: bad regular expression"},
		{"bad CIDR in list", "safelists:\n  - name: office\n    ip:\n      - 10.0.0.0/8\n      - 10.0.0.300\n", `wootguard.yaml:5: bad IP address "10.0.0.300"`},
		{"missing key", "throttles:\n  - name: a\n    limit: 1\n    period: 60\n", "wootguard.yaml:2: key is required"},
		{"bad key source", "throttles:\n  - {name: a, limit: 1, period: 60, key: cookie:x}\n", `bad key "cookie:x"`},
		{"capture without group", "throttles:\n  - {name: a, limit: 1, period: 60, key: capture:1, match: {path_regex: /x}}\n", "has 0 capture groups"},
		{"duplicate name", "throttles:\n  - {name: a, limit: 1, period: 60, key: ip}\n  - {name: a, limit: 1, period: 60, key: ip}\n", `wootguard.yaml:3: duplicate name "a"`},
		{"period not whole seconds", "throttles:\n  - {name: a, limit: 1, period: 1500ms, key: ip}\n", "period must be whole seconds"},
		{"fail2ban without maxretry", "fail2ban:\n  - {name: f, key: ip, findtime: 1m, bantime: 1h}\n", "wootguard.yaml:2: maxretry is required"},
		{"bad status", "fail2ban:\n  - {name: f, key: ip, maxretry: 3, findtime: 1m, bantime: 1h, failure: {status: [42]}}\n", "bad HTTP status 42"},
		{"bad mode", "throttles:\n  - {name: a, limit: 1, period: 60, key: ip, mode: maybe}\n", `unknown mode "maybe"`},
		{"list rule matching everything", "blocklists:\n  - name: all\n", `wootguard.yaml:2: blocklist "all" has neither ip nor match`},
		{"bad upstream", "upstream: ftp://x\n", "wootguard.yaml:1: bad upstream"},
		{"bad trusted proxy", "client_ip:\n  trusted_proxies: [10.0.0.0/33]\n", "wootguard.yaml:2: bad CIDR"},
		{"bad ipv6 prefix", "client_ip:\n  ipv6_prefix: 129\n", "wootguard.yaml:2: ipv6_prefix must be from 1 to 128"},
		{"bad key modifier", "throttles:\n  - {name: a, limit: 1, period: 60, key: upper(param:x)}\n", `unknown modifier "upper"`},
		{"bad ip prefix key", "throttles:\n  - {name: a, limit: 1, period: 60, key: ip/200}\n", "ip/N needs an IPv6 prefix length"},
		{"bad extensions", "throttles:\n  - {name: a, limit: 1, period: 60, key: ip, match: {path: /x, extensions: drop}}\n", `unknown extensions "drop"`},
		{"dotted path under the preset", "throttles:\n  - {name: a, limit: 1, period: 60, key: ip,\n     match: {path: /feed.xml}}\n", `wootguard.yaml:3: path "/feed.xml" can never match`},
		{"dotted prefix under the preset", "throttles:\n  - name: a\n    limit: 1\n    period: 60\n    key: ip\n    match:\n      path_prefix: [/api, /x.y]\n", `wootguard.yaml:7: path_prefix "/x.y" can never match`},
		{"dotted path stripped by the rule", "preset: none\nthrottles:\n  - {name: a, limit: 1, period: 60, key: ip, match: {path: /a.b, extensions: strip}}\n", `wootguard.yaml:3: path "/a.b" can never match`},
		{"redis without url", "store: {kind: redis, url: \"\"}\n", "store.url is required"},
		{"bad on_error", "store: {kind: redis, url: redis://127.0.0.1:6379, on_error: panic}\n", `unknown on_error "panic"`},
		{"bad preset", "preset: rails\n", `wootguard.yaml:1: unknown preset "rails"`},
		{"yaml syntax", "throttles: [\n", "wootguard.yaml:"},
		{"bad body limit", "body_limit: lots\n", "wootguard.yaml:1: bad size"},
		{"empty body limit", "listen: 127.0.0.1:8080\nbody_limit: \"\"\n", `wootguard.yaml:2: bad size ""`},
		{"empty limits size", "limits:\n  body_memory: ''\n", `wootguard.yaml:2: bad size ""`},
		{"size as a list", "body_limit: [1]\n", "wootguard.yaml:1: want a size like"},
		{"negative timeout", "server:\n  body_timeout: -1s\n", `wootguard.yaml:2: bad duration "-1s"`},
		{"empty duration", "throttles:\n  - {name: a, limit: 1, key: ip,\n     period: \"\"}\n", `wootguard.yaml:3: bad duration ""`},
		{"bad client ip header", "client_ip: {header: x-real-ip}\n", `wootguard.yaml:1: unknown header "x-real-ip"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.body, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant containing %q", err, tt.want)
			}
		})
	}
}

// One bad size or duration must not hide the file's other problems: each
// is reported once, at its line, in one pass.
func TestLoadReportsEveryProblemInOnePass(t *testing.T) {
	body := `listen: 127.0.0.1:8080
body_limit: 64 kilobytes
server: {body_timeout: soon, idle_timeout: 2m}
throttles:
  - {name: a, limit: 5, period: 20 minutes, key: ip}
  - {name: b, limit: 5, period: 1m, key: ip, match: {method: POSTT, path: /x}}
  - {name: c, limit: 5, period: 1m, key: ip, colour: red}
  - {name: d, limit: 5, period: 1w, key: ip, match: {path: nope}}
  - {name: e, limit: 5, period: "", key: ip}
`
	_, err := load(t, body, nil)
	es, ok := err.(Errors)
	if !ok {
		t.Fatalf("err = %v, want Errors", err)
	}
	want := []string{`:2: bad size "64 kilobytes"`, `:3: bad duration "soon"`, `:5: bad duration "20 minutes"`,
		`:6: unknown HTTP method "POSTT"`, `:7: unknown key "colour"`, `:8: path must start with /`, `:9: bad duration ""`}
	if len(es) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(es), len(want), err)
	}
	for i, w := range want {
		if !strings.Contains(es[i].Error(), w) {
			t.Errorf("error %d = %q, want containing %q", i, es[i], w)
		}
	}
}

func TestBanRuleErrorsNameItsOwnKeys(t *testing.T) {
	_, err := load(t, "fail2ban:\n  - {name: f, key: ip, bantime: 1h}\n", nil)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "maxretry is required") || !strings.Contains(msg, "findtime") ||
		strings.Contains(msg, "limit is required") || strings.Count(msg, "period") > 1 {
		t.Fatalf("errors:\n%s", msg)
	}
}

func TestLoadIssueExample(t *testing.T) {
	// The shape from the issue is the contract.
	g, err := load(t, `listen: 127.0.0.1:8080
upstream: http://127.0.0.1:3000
client_ip: {trusted_proxies: [10.0.0.0/8]}
store: {kind: memory}
preset: chatwoot            # or "none"; default chatwoot
responses: {retry_after: true, ratelimit_headers: true}
safelists:  [{name: office, ip: [203.0.113.0/24]}]
blocklists: [{name: scanners, ip: [198.51.100.7], match: {path_prefix: /wp-admin}}]
throttles:
  - name: login/ip
    limit: 5
    period: 20s
    key: ip                 # ip | param:NAME | header:NAME | capture:N | a list, joined with ":"
    match: {method: POST, path: /auth/sign_in}   # also path_prefix, path_regex, param_present, param_absent, header
fail2ban:
  - {name: login-failures, key: ip, match: {method: POST, path: /auth/sign_in},
     failure: {status: [401]}, maxretry: 5, findtime: 10m, bantime: 1h}
allow2ban: []
tracks: []
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	// login/ip overrides the preset's rule in place.
	var found bool
	for i, th := range g.Spec.Throttles {
		if th.Name == "login/ip" {
			found = true
			if i != 3 || *th.Limit != 5 || th.Period.String() != "20s" || !strings.HasPrefix(th.Source, "config (overrides chatwoot") {
				t.Fatalf("override at %d: %+v", i, th)
			}
		}
	}
	if !found || len(g.Spec.Safelists) != 3 || len(g.Spec.Fail2Ban) != 1 || g.TrustedProxies[0].String() != "10.0.0.0/8" {
		t.Fatalf("spec %+v", g.Spec)
	}
}

func TestChatwootEnvFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".env"), []byte("# Chatwoot\nRACK_ATTACK_LIMIT=77\nexport RATE_LIMIT_CONTACT_SEARCH='9'\nENABLE_RACK_ATTACK_WIDGET_API=false\n"), 0o600)
	p := filepath.Join(dir, "w.yaml")
	os.WriteFile(p, []byte("chatwoot_env_file: .env\n"), 0o644)
	g, err := Load(p, func(k string) string {
		if k == "RATE_LIMIT_CONTACT_SEARCH" {
			return "12" // the process environment wins over the file
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	limits := map[string]int64{}
	for _, th := range g.Spec.Throttles {
		limits[th.Name] = *th.Limit
	}
	if limits["req/ip"] != 77 || limits["/api/v1/accounts/:account_id/contacts/search"] != 12 {
		t.Fatalf("limits %v", limits)
	}
	if _, ok := limits["api/v1/widget/messages"]; ok {
		t.Fatal("widget rules present with ENABLE_RACK_ATTACK_WIDGET_API=false")
	}
}

func TestCheckSections(t *testing.T) {
	type sched struct {
		Timezone string `yaml:"timezone"`
	}
	RegisterSection("updates.schedule", func() any { return &sched{} })
	defer delete(sections, "updates.schedule")
	p := filepath.Join(t.TempDir(), "w.yaml")
	os.WriteFile(p, []byte("updates:\n  schedule:\n    timezone: UTC\n    tz: x\n  bogus: 1\n"), 0o644)
	err := CheckSections(p)
	if err == nil || !strings.Contains(err.Error(), `w.yaml:4: unknown key "tz"`) || !strings.Contains(err.Error(), `w.yaml:5: unknown key "bogus" under updates`) {
		t.Fatalf("err %v", err)
	}
}

func TestListenAddresses(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:8080": true, ":8080": true, "[::1]:8080": true,
		"0.0.0.0:0": true, "localhost": false, "127.0.0.1:http": false, "127.0.0.1:70000": false, "::1:8080": false} {
		if got := validListen(addr); got != ok {
			t.Errorf("validListen(%q) = %v, want %v", addr, got, ok)
		}
	}
}

func TestIPv6PrefixAndLookup(t *testing.T) {
	g, err := load(t, "", nil)
	if err != nil || g.IPv6Prefix != DefaultIPv6Prefix {
		t.Fatalf("default ipv6_prefix %d %v", g.IPv6Prefix, err)
	}
	if g, err = load(t, "client_ip: {ipv6_prefix: 128}\n", nil); err != nil || g.IPv6Prefix != 128 {
		t.Fatalf("ipv6_prefix 128: %v %v", g, err)
	}
	// An empty variable is set: Chatwoot casts ENABLE_RACK_ATTACK= to off.
	p := filepath.Join(t.TempDir(), "w.yaml")
	os.WriteFile(p, []byte("{}\n"), 0o644)
	g, err = LoadLookup(p, func(k string) (string, bool) { return "", k == "ENABLE_RACK_ATTACK" })
	if err != nil || len(g.Spec.Throttles) != 0 || !strings.Contains(strings.Join(g.Warnings, "\n"), "RULES OFF") {
		t.Fatalf("ENABLE_RACK_ATTACK=: %d throttles, warnings %v, %v", len(g.Spec.Throttles), g.Warnings, err)
	}
}

// A dotted path is fine where the rule sees the whole path.
func TestLoadAcceptsDottedPathWhereExtensionsAreKept(t *testing.T) {
	for name, body := range map[string]string{
		"preset none":     "preset: none\nthrottles:\n  - {name: a, limit: 1, period: 60, key: ip, match: {path: /feed.xml}}\n",
		"extensions keep": "throttles:\n  - {name: a, limit: 1, period: 60, key: ip, match: {path: /feed.xml, extensions: keep}}\n",
	} {
		if _, err := load(t, body, nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
