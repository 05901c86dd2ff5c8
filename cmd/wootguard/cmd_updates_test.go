package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/notify"
)

const advisoriesFixture = "testdata/exposure/chatwoot-security-advisories.json"

// releasesJSON writes a GitHub releases list with the given tags.
func releasesJSON(t *testing.T, tags ...string) string {
	t.Helper()
	var items []string
	for _, tag := range tags {
		items = append(items, fmt.Sprintf(`{"tag_name":%q,"draft":false,"prerelease":false,"html_url":"https://github.com/chatwoot/chatwoot/releases/tag/%s"}`, tag, tag))
	}
	p := filepath.Join(t.TempDir(), "releases.json")
	if err := os.WriteFile(p, []byte("["+strings.Join(items, ",")+"]"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCLI(ctx context.Context, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	env := &cliEnv{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }}
	code = run(ctx, env, args)
	return code, out.String(), errb.String()
}

// fakeChatwoot answers /api with version, and serves the feeds with an
// ETag; down switches the feeds to HTTP 503.
type fakeChatwoot struct {
	version    string
	releases   []byte
	advisories []byte
	down       atomic.Bool
}

func (f *fakeChatwoot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	switch r.URL.Path {
	case "/api":
		fmt.Fprintf(w, `{"version":%q,"timestamp":"2026-06-20 10:00:00","queue_services":"ok","data_services":"ok"}`, f.version)
		return
	case "/releases":
		body = f.releases
	case "/advisories":
		body = f.advisories
	default:
		http.NotFound(w, r)
		return
	}
	if f.down.Load() {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	etag := fmt.Sprintf(`"%x"`, len(body))
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Write(body)
}

func TestUpdatesStatusExitCodes(t *testing.T) {
	latest := releasesJSON(t, "v4.18.0", "v4.17.1", "v4.17.0", "v4.16.0", "v4.15.1", "v4.13.0", "v4.11.2")
	missing := filepath.Join(t.TempDir(), "missing.json")
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"current", []string{"--version", "4.18.0"}, 0, []string{"Status:    CURRENT", "Action:    up to date"}},
		{"behind", []string{"--version", "v4.15.1"}, 10, []string{"Behind:    4 releases (v4.16.0, v4.17.0, v4.17.1, v4.18.0)",
			"NOT supported", "Action:    4 releases behind: schedule an update to v4.18.0 in the next maintenance window"}},
		{"exposed high", []string{"--version", "4.10.0"}, 20, []string{"HIGH     GHSA-9pgm-75gg-6948 (CVE-2026-44706) CVSS 8.5, fixed in 4.11.2",
			"Action:    high advisory GHSA-9pgm-75gg-6948 (and 1 more) fixed in 4.11.2: emergency update now to v4.18.0"}},
		{"exposed medium", []string{"--version", "4.12.0"}, 20, []string{"update in the next maintenance window to v4.18.0"}},
		{"releases unavailable", []string{"--version", "4.18.0", "--releases", missing}, 3, []string{"releases   UNAVAILABLE: feed file", "Status:    UNKNOWN"}},
		{"advisories unavailable", []string{"--version", "4.18.0", "--advisories", missing}, 3, []string{"advisories UNAVAILABLE", "Status:    UNKNOWN"}},
		{"OSV adds a GIT-range record", []string{"--version", "4.16.1", "--osv", "testdata/exposure/osv-list.json"}, 20,
			[]string{"UNKNOWN  CVE-2026-115725, no fix released yet", "emergency update now"}},
		{"OSV source missing", []string{"--version", "4.18.0", "--osv", missing}, 3, []string{"osv        UNAVAILABLE"}},
		{"atom feed", []string{"--version", "4.13.0", "--releases", "testdata/exposure/chatwoot-releases.atom"}, 0, []string{"Latest:    v4.13.0"}},
		{"unreadable dir", []string{"--dir", t.TempDir()}, 3, []string{"the running version is not known", "neither VERSION_CW"}},
		{"no source", nil, 2, []string{"--chatwoot URL, --version X or --dir DIR"}},
		{"two sources", []string{"--version", "4.1.0", "--dir", "."}, 2, []string{"only one of"}},
		{"bad version", []string{"--version", "latest"}, 2, []string{`version "latest"`}},
		{"bad format", []string{"--version", "4.1.0", "--format", "xml"}, 2, []string{"--format must be text or json"}},
		{"stray argument", []string{"--version", "4.1.0", "extra"}, 2, []string{`unexpected argument "extra"`}},
		{"bad flag", []string{"--versoin", "4.1.0"}, 2, []string{"flag provided but not defined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"updates", "status", "--releases", latest, "--advisories", advisoriesFixture}, tt.args...)
			code, out, errs := runCLI(context.Background(), nil, args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errs, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errs)
				}
			}
		})
	}
}

func TestUpdatesStatusJSONShape(t *testing.T) {
	latest := releasesJSON(t, "v4.13.0", "v4.11.2")
	code, out, _ := runCLI(context.Background(), nil, "updates", "status", "--version", "4.11.2", "--format", "json",
		"--releases", latest, "--advisories", advisoriesFixture)
	if code != 20 {
		t.Fatalf("exit %d", code)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"action", "advisories", "checked_at", "exit_code", "feeds", "latest", "newer_releases", "releases_behind",
		"running", "running_source", "state", "supported"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	adv := got["advisories"].([]any)[0].(map[string]any)
	if got["state"] != "exposed" || got["exit_code"] != 20.0 || got["releases_behind"] != 1.0 || adv["id"] != "GHSA-8qxm-4p4p-cfhm" ||
		adv["fixed_in"] != "4.13.0" || adv["severity"] != "medium" || adv["cvss"] != 6.8 {
		t.Errorf("JSON: %s", out)
	}
}

func TestUpdatesStatusProbeAndCache(t *testing.T) {
	rel, _ := os.ReadFile("testdata/exposure/chatwoot-releases.atom")
	adv, _ := os.ReadFile(advisoriesFixture)
	cw := &fakeChatwoot{version: "4.11.2", releases: rel, advisories: adv}
	srv := httptest.NewServer(cw)
	defer srv.Close()
	cache := t.TempDir()
	args := []string{"updates", "status", "--chatwoot", srv.URL, "--releases", srv.URL + "/releases",
		"--advisories", srv.URL + "/advisories", "--cache-dir", cache, "--retries", "0"}

	code, out, errs := runCLI(context.Background(), nil, args...)
	if code != 20 || !strings.Contains(out, "Running:   Chatwoot 4.11.2 (from api)") || strings.Contains(out, "cached copy") {
		t.Fatalf("fresh: exit %d\n%s%s", code, out, errs)
	}
	// Feeds down: the cached copies answer, and say so.
	cw.down.Store(true)
	code, out, errs = runCLI(context.Background(), nil, args...)
	if code != 20 || strings.Count(out, "WARNING: feed unreachable, using the cached copy from") != 2 || !strings.Contains(out, "HTTP 503") {
		t.Fatalf("down: exit %d\n%s%s", code, out, errs)
	}
	// Without the cache: unknown, never up to date.
	cw.version = "4.13.0"
	code, out, _ = runCLI(context.Background(), nil, append(args, "--cache-dir", t.TempDir())...)
	if code != 3 || !strings.Contains(out, "Status:    UNKNOWN") {
		t.Fatalf("no cache: exit %d\n%s", code, out)
	}
	// Chatwoot itself unreachable.
	code, out, _ = runCLI(context.Background(), nil, "updates", "status", "--chatwoot", "http://127.0.0.1:1",
		"--releases", "testdata/exposure/chatwoot-releases.atom", "--advisories", advisoriesFixture)
	if code != 3 || !strings.Contains(out, "cannot connect") {
		t.Fatalf("probe failure: exit %d\n%s", code, out)
	}
}

func TestUpdatesStatusConfig(t *testing.T) {
	rel, _ := os.ReadFile("testdata/exposure/chatwoot-releases.atom")
	cw := &fakeChatwoot{version: "4.13.0", releases: rel}
	srv := httptest.NewServer(cw)
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "wootguard.yml")
	write := func(s string) {
		if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	abs, _ := filepath.Abs(advisoriesFixture)
	write(fmt.Sprintf(`
updates:
  chatwoot_url: %s
  schedule: {window: "Tue 02:00"}   # another command's key: must not bother us
  feeds:
    releases: testdata/exposure/chatwoot-releases.atom
    advisories: %s
    cache_dir: %s
    timeout: 5s
`, srv.URL, abs, filepath.Join(dir, "cache")))
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 0, "Chatwoot 4.13.0 (from api)"},                                         // everything from the file
		{[]string{"--version", "4.11.2"}, 20, "Chatwoot 4.11.2 (from flag)"},           // a flag wins over chatwoot_url
		{[]string{"--releases", releasesJSON(t, "v4.18.0")}, 10, "Latest:    v4.18.0"}, // and over feeds.releases
	}
	for _, tt := range tests {
		code, out, errs := runCLI(context.Background(), nil, append([]string{"updates", "status", "--config", cfg}, tt.args...)...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%v: exit %d, want %d and %q\n%s%s", tt.args, code, tt.code, tt.want, out, errs)
		}
	}
	write("updates:\n  feeds:\n    releses: x\n")
	code, _, errs := runCLI(context.Background(), nil, "updates", "status", "--config", cfg, "--version", "4.1.0")
	if code != 2 || !strings.Contains(errs, "wootguard.yml:3: unknown key \"releses\"") {
		t.Errorf("typo in config: exit %d, %s", code, errs)
	}
	code, _, errs = runCLI(context.Background(), nil, "updates", "status", "--config", filepath.Join(dir, "none.yml"), "--version", "4.1.0")
	if code != 2 || !strings.Contains(errs, "none.yml") {
		t.Errorf("missing config: exit %d, %s", code, errs)
	}
}

func TestVersionProbeCLI(t *testing.T) {
	srv := httptest.NewServer(&fakeChatwoot{version: "4.15.1"})
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "VERSION_CW"), []byte("4.14.2\n"), 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--chatwoot", srv.URL}, 0, "version: 4.15.1\nsource:  api\nqueue_services: ok"},
		{[]string{"--chatwoot", srv.URL, "--format", "json"}, 0, `"version": "4.15.1"`},
		{[]string{"--dir", dir}, 0, "version: 4.14.2\nsource:  dir"},
		{[]string{"--chatwoot", "http://127.0.0.1:1"}, 1, "cannot connect"},
		{[]string{"--dir", filepath.Join(dir, "nope")}, 1, "Chatwoot directory"},
		{nil, 2, "exactly one of"},
		{[]string{"--chatwoot", srv.URL, "--dir", dir}, 2, "exactly one of"},
		{[]string{"--dir", dir, "--format", "yaml"}, 2, "--format must be"},
	}
	for _, tt := range tests {
		code, out, errs := runCLI(context.Background(), nil, append([]string{"version-probe"}, tt.args...)...)
		if code != tt.code || !strings.Contains(out+errs, tt.want) {
			t.Errorf("%v: exit %d, want %d and %q\n%s%s", tt.args, code, tt.code, tt.want, out, errs)
		}
	}
}

// receiver is a test webhook counting deliveries per event key.
type receiver struct {
	mu   sync.Mutex
	keys map[string]int
	fail bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.fail {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	var e struct{ Kind, Key string }
	body, _ := io.ReadAll(r.Body)
	json.Unmarshal(body, &e)
	rc.keys[e.Key]++
}

func (rc *receiver) snapshot() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for k, v := range rc.keys {
		out[k] = v
	}
	return out
}

func TestUpdatesWatchDeliversOnce(t *testing.T) {
	rc := &receiver{keys: map[string]int{}, fail: true}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "wootguard.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("updates:\n  notify:\n    webhooks:\n      - url: %s/hook\n    state_file: %s\n",
		srv.URL, filepath.Join(dir, "state.json"))), 0o644)
	latest := releasesJSON(t, "v4.18.0", "v4.13.0", "v4.11.2")
	args := []string{"updates", "watch", "--once", "--config", cfg, "--version", "4.10.0",
		"--releases", latest, "--advisories", advisoriesFixture}
	want := map[string]int{"advisory.new:GHSA-9pgm-75gg-6948": 1, "advisory.new:GHSA-8qxm-4p4p-cfhm": 1, "release.new:v4.18.0": 1}

	// Round 1: the receiver is down: exit 1, nothing recorded as sent.
	code, out, errs := runCLI(context.Background(), nil, args...)
	if code != 1 || !strings.Contains(errs, "will retry next round") || len(rc.snapshot()) != 0 {
		t.Fatalf("receiver down: exit %d\n%s%s", code, out, errs)
	}
	// The log (stdout) is a channel of its own: it shows each event once.
	if !strings.Contains(out, "advisory.new [critical] high advisory GHSA-9pgm-75gg-6948 affects your Chatwoot 4.10.0") {
		t.Errorf("events not printed:\n%s", out)
	}
	// Round 2 (each run is a new process: state from file): delivered.
	rc.mu.Lock()
	rc.fail = false
	rc.mu.Unlock()
	code, out, errs = runCLI(context.Background(), nil, args...)
	if code != 0 || !reflect.DeepEqual(rc.snapshot(), want) {
		t.Fatalf("round 2: exit %d, got %v\n%s%s", code, rc.snapshot(), out, errs)
	}
	// Rounds 3 and 4: nothing new, nothing resent, nothing reprinted.
	for i := 0; i < 2; i++ {
		code, out, errs = runCLI(context.Background(), nil, args...)
		if code != 0 || !reflect.DeepEqual(rc.snapshot(), want) || strings.Contains(out, "advisory.new") {
			t.Fatalf("repeat round: exit %d, got %v\n%s%s", code, rc.snapshot(), out, errs)
		}
	}
	// A newer release is announced, once.
	args[len(args)-3] = releasesJSON(t, "v4.19.0", "v4.18.0", "v4.13.0", "v4.11.2")
	for i := 0; i < 2; i++ {
		if code, out, errs = runCLI(context.Background(), nil, args...); code != 0 {
			t.Fatalf("new release: exit %d\n%s%s", code, out, errs)
		}
	}
	want["release.new:v4.19.0"] = 1
	if !reflect.DeepEqual(rc.snapshot(), want) {
		t.Errorf("got %v, want %v", rc.snapshot(), want)
	}
}

// Two rounds in one process, then a "restart" (a new sender from the same
// state file): each event reaches the webhook once.
func TestWatchRoundsInOneProcess(t *testing.T) {
	rc := &receiver{keys: map[string]int{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	dir := t.TempDir()
	env := &cliEnv{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	fs := newFlagSet(env, "updates watch", "", "")
	o := newExposureFlags(fs)
	o.format = "text"
	if _, _, ok := parseFlags(env, fs, []string{"--version", "4.12.0", "--cache-dir", dir,
		"--releases", releasesJSON(t, "v4.13.0"), "--advisories", advisoriesFixture}); !ok {
		t.Fatal("flags")
	}
	if err := o.resolve(env, true); err != nil {
		t.Fatal(err)
	}
	cfg := notify.Config{Webhooks: []notify.WebhookConfig{{URL: srv.URL}}, StateFile: filepath.Join(dir, "state.json")}
	for process := 0; process < 2; process++ {
		sender, err := notify.FromConfigEnv(cfg, env.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		for round := 0; round < 2; round++ {
			if code := watchRound(context.Background(), env, o, sender); code != 0 {
				t.Fatalf("process %d round %d: exit %d", process, round, code)
			}
		}
	}
	want := map[string]int{"advisory.new:GHSA-8qxm-4p4p-cfhm": 1, "release.new:v4.13.0": 1}
	if got := rc.snapshot(); !reflect.DeepEqual(got, want) {
		t.Errorf("deliveries %v, want %v", got, want)
	}
}

func TestUpdatesWatchLoopStopsOnSignal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as if SIGTERM arrived during the first round
	code, _, errs := runCLI(ctx, nil, "updates", "watch", "--version", "4.18.0", "--state-file", filepath.Join(t.TempDir(), "s.json"),
		"--releases", releasesJSON(t, "v4.18.0"), "--advisories", advisoriesFixture)
	if code != 0 || !strings.Contains(errs, "stopped") {
		t.Errorf("exit %d, %s", code, errs)
	}
}

func TestUpdatesWatchUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--version", "4.1.0", "--interval", "10s"}, "at least 1m"},
		{[]string{"--version", "4.1.0"}, "no state file"}, // no HOME, no cache dir
		{[]string{"--interval", "1h"}, "--chatwoot URL, --version X or --dir DIR"},
	}
	for _, tt := range tests {
		code, _, errs := runCLI(context.Background(), nil, append([]string{"updates", "watch", "--once"}, tt.args...)...)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, %s", tt.args, code, errs)
		}
	}
}

// eventReceiver is a test webhook keeping every event it gets.
type eventReceiver struct {
	mu     sync.Mutex
	events map[string]notify.Event // by key
	count  int
}

func (rc *eventReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var e notify.Event
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.events[e.Key] = e
	rc.count++
}

// With updates.schedule configured, watch sends the schedule's decision:
// the emergency lane makes the advisory event critical and carries the
// decision sentence, a normal release event says when it will be installed.
func TestUpdatesWatchSchedule(t *testing.T) {
	rel := releasesFeed("v4.13.0", "2026-05-25T12:00:00Z", "v4.11.2", "2026-04-20T12:00:00Z")
	// A freeze from yesterday for a month keeps the normal lane away from
	// the real clock's windows: the decision is "frozen" whenever this runs.
	day := time.Now().UTC()
	freeze := fmt.Sprintf("{from: %s, to: %s, reason: test}", day.AddDate(0, 0, -1).Format("2006-01-02"), day.AddDate(0, 0, 30).Format("2006-01-02"))
	tests := []struct {
		name, running, action string
		severity, text        map[string]string // by event key
	}{
		{"critical advisory, emergency update", "3.15.0", "open_window",
			map[string]string{"advisory.new:GHSA-g8f9-hh83-rcq9": "critical", "advisory.new:GHSA-8qxm-4p4p-cfhm": "warning"},
			map[string]string{
				"advisory.new:GHSA-g8f9-hh83-rcq9": `Schedule: update-now: v4.13.0 fixes GHSA-g8f9-hh83-rcq9 (critical), GHSA-9pgm-75gg-6948 (high), at or above the emergency threshold "high": update now, ignoring windows, freezes and the soak.`,
				"release.new:v4.13.0":              "Schedule: update-now: v4.13.0 fixes GHSA-g8f9-hh83-rcq9 (critical)"}},
		{"critical advisory, page", "3.15.0", "page",
			map[string]string{"advisory.new:GHSA-g8f9-hh83-rcq9": "critical"},
			map[string]string{
				"advisory.new:GHSA-g8f9-hh83-rcq9": `page: v4.13.0 fixes GHSA-g8f9-hh83-rcq9 (critical), GHSA-9pgm-75gg-6948 (high), at or above the emergency threshold "high": page the operator`,
				"release.new:v4.13.0":              `Schedule: will be installed in the window "w" starting`}},
		{"medium advisory, normal lane", "4.12.0", "open_window",
			map[string]string{"advisory.new:GHSA-8qxm-4p4p-cfhm": "warning", "release.new:v4.13.0": "info"},
			map[string]string{
				"advisory.new:GHSA-8qxm-4p4p-cfhm": `Schedule: will be installed in the window "w" starting`,
				"release.new:v4.13.0":              `: frozen: freeze`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &eventReceiver{events: map[string]notify.Event{}}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			feeds := httptest.NewServer(&fakeChatwoot{releases: rel, advisories: mustRead(t, advisoriesFixture)})
			defer feeds.Close()
			dir := t.TempDir()
			cfg := filepath.Join(dir, "wootguard.yml")
			os.WriteFile(cfg, []byte(fmt.Sprintf(`updates:
  feeds: {releases: %s/releases, advisories: %s/advisories, cache_dir: %q}
  notify:
    webhooks: [{url: %s}]
    state_file: %q
  schedule:
    timezone: UTC
    windows: [{name: w, every: week, weekday: sunday, start: "03:00", duration: 1h}]
    freeze: [%s]
    emergency: {min_severity: high, action: %s}
`, feeds.URL, feeds.URL, dir, srv.URL, filepath.Join(dir, "state.json"), freeze, tt.action)), 0o644)
			args := []string{"updates", "watch", "--once", "--config", cfg, "--version", tt.running}
			for round := 0; round < 2; round++ { // the second round sends nothing again
				if code, out, errs := runCLI(context.Background(), nil, args...); code != 0 {
					t.Fatalf("round %d: exit %d\n%s%s", round, code, out, errs)
				}
			}
			rc.mu.Lock()
			defer rc.mu.Unlock()
			if rc.count != len(rc.events) {
				t.Errorf("%d deliveries of %d events: resent", rc.count, len(rc.events))
			}
			for key, sev := range tt.severity {
				if got := rc.events[key].Severity; got != sev {
					t.Errorf("%s: severity %q, want %q", key, got, sev)
				}
			}
			for key, want := range tt.text {
				if e := rc.events[key]; !strings.Contains(e.Text, want) {
					t.Errorf("%s: text lacks %q:\n%s", key, want, e.Text)
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A feed file last changed long ago never gives "up to date": exit 3 with
// its age, unless --max-feed-age allows it or an advisory affects the
// running version (exit 20).
func TestUpdatesStatusStaleFeedFile(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"chatwoot-releases.atom", "chatwoot-security-advisories.json"} {
		b, err := os.ReadFile(filepath.Join("testdata/exposure", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
		old := time.Now().Add(-30 * 24 * time.Hour)
		os.Chtimes(filepath.Join(dir, f), old, old)
	}
	rel, adv := filepath.Join(dir, "chatwoot-releases.atom"), filepath.Join(dir, "chatwoot-security-advisories.json")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--version", "4.13.0"}, 3, "feed's data is 30 days old"},
		{[]string{"--version", "4.13.0", "--max-feed-age", "5w"}, 0, "up to date"},
		{[]string{"--version", "4.10.0"}, 20, "emergency update now"},
		{[]string{"--version", "4.13.0", "--max-feed-age", "soon"}, 2, `bad duration "soon"`},
	} {
		env, out, errb := testEnv(map[string]string{"HOME": dir})
		code := run(context.Background(), env, append([]string{"updates", "status", "--releases", rel, "--advisories", adv, "--cache-dir", dir}, tc.args...))
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s%s", tc.args, code, tc.code, tc.want, out.String(), errb.String())
		}
	}
}
