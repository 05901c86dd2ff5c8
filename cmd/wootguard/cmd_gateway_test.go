package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testEnv(vars map[string]string) (*cliEnv, *lockedBuffer, *lockedBuffer) {
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	return &cliEnv{Stdout: out, Stderr: errb, Getenv: func(k string) string { return vars[k] }}, out, errb
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("throttles: [{name: x, limit: 1, period: 60, key: ip}]\n"), 0o644)
	os.WriteFile(bad, []byte("throttles:\n  - name: x\n    limit: 1\n    period: 60\n    key: ip\n    match: {path_regex: '['}\n"), 0o644)
	env, out, _ := testEnv(nil)
	if code := run(context.Background(), env, []string{"check-config", good}); code != 0 || !strings.Contains(out.String(), "good.yaml: ok") {
		t.Fatalf("good: %d %q", code, out.String())
	}
	env, _, errb := testEnv(nil)
	if code := run(context.Background(), env, []string{"check-config", "--config", bad}); code != 1 || !strings.Contains(errb.String(), "bad.yaml:6: bad regular expression") {
		t.Fatalf("bad: %d %q", code, errb.String())
	}
	env, _, _ = testEnv(nil)
	if code := run(context.Background(), env, []string{"check-config"}); code != 2 {
		t.Fatalf("no file: %d", code)
	}
}

func TestRulesCommandShowsEnvTunedPreset(t *testing.T) {
	env, out, _ := testEnv(map[string]string{"RACK_ATTACK_LIMIT": "42", "ENABLE_RACK_ATTACK_WIDGET_API": "false"})
	if code := run(context.Background(), env, []string{"rules", "--format", "json"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rows []struct {
		Type, Name, Summary, Source string
		Limit                       *int64
		Period                      *int64 `json:"period_seconds"`
	}
	if err := json.Unmarshal([]byte(out.String()), &rows); err != nil {
		t.Fatal(err)
	}
	var reqIP string
	for _, r := range rows {
		if r.Name == "req/ip" {
			reqIP = r.Summary
			if r.Limit == nil || *r.Limit != 42 || r.Period == nil || *r.Period != 60 {
				t.Errorf("req/ip limit %v period %v, want the numbers 42 and 60", r.Limit, r.Period)
			}
		}
		if strings.HasPrefix(r.Name, "api/v1/widget") {
			t.Fatalf("widget rule listed with the widget API off: %v", r)
		}
	}
	if reqIP != "42 / 1m" || len(rows) < 25 {
		t.Fatalf("req/ip %q, %d rows", reqIP, len(rows))
	}
	env, out, _ = testEnv(nil)
	run(context.Background(), env, []string{"rules"})
	if !strings.Contains(out.String(), "login/ip") || !strings.Contains(out.String(), "TYPE") {
		t.Fatalf("text table:\n%s", out.String())
	}
}

// TestServeReload runs the real serve command: a bad config on SIGHUP is
// refused and the running rules stay; a good one replaces them.
func TestServeReload(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	cfg := filepath.Join(t.TempDir(), "w.yaml")
	write := func(body string) {
		if err := os.WriteFile(cfg, []byte("upstream: "+up.URL+"\npreset: none\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("throttles: [{name: a, limit: 1, period: 1h, key: ip, match: {path: /a}}]\n")
	env, _, errb := testEnv(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, env, []string{"serve", "--config", cfg, "--listen", "127.0.0.1:0"}) }()
	addr := waitFor(t, errb, regexp.MustCompile(`listen=(127\.0\.0\.1:\d+)`))
	get := func(path string) int {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if get("/a") != 200 || get("/a") != 429 {
		t.Fatal("initial rule not applied")
	}
	write("throttles: [{name: b, limit: 1, period: 1h, key: ip, match: {path: /b}}]\nbogus: 1\n")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor(t, errb, regexp.MustCompile(`reload refused.*w\.yaml:4: unknown key \\"bogus\\"`))
	if get("/a") != 429 || get("/b") != 200 || get("/b") != 200 {
		t.Fatal("bad reload changed the rules")
	}
	write("throttles: [{name: b, limit: 1, period: 1h, key: ip, match: {path: /b}}]\n")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor(t, errb, regexp.MustCompile(`reloaded config`))
	if get("/c") != 200 || get("/b") != 200 || get("/b") != 429 {
		t.Fatal("good reload not applied")
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d: %s", code, errb.String())
	}
}

func waitFor(t *testing.T, b *lockedBuffer, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			if len(m) > 1 {
				return m[1]
			}
			return m[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("never saw %v in:\n%s", re, b.String())
	return ""
}

func TestCheckConfigChecksUpdateSections(t *testing.T) {
	p := filepath.Join(t.TempDir(), "w.yaml")
	os.WriteFile(p, []byte(`preset: none
updates:
  chatwoot_url: http://127.0.0.1:3000
  feeds: {releases: /srv/releases.json}
  notify:
    webhooks: [{url: http://127.0.0.1:9/hook}]
    slak: []
  backup: {dir: /var/backups/wootguard, retention: {keep_last: 5}}
`), 0o644)
	env, _, errb := testEnv(nil)
	if code := run(context.Background(), env, []string{"check-config", p}); code != 1 || !strings.Contains(errb.String(), `w.yaml:7: unknown key "slak" (did you mean "slack"?)`) {
		t.Fatalf("%d %q", code, errb.String())
	}
}
