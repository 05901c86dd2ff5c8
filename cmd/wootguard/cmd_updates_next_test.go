package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const berlinSchedule = `updates:
  schedule:
    timezone: Europe/Berlin
    windows:
      - {name: monthly, every: month, week: 2, weekday: tuesday, start: "02:00", duration: 2h}
      - {name: weekly, every: week, weekday: sunday, start: "03:00", duration: 1h}
    freeze:
      - {from: 2026-12-20, to: 2027-01-03, reason: holidays}
    min_release_age: 72h
    emergency: {min_severity: high, action: ACTION}
`

func scheduleFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wootguard.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUpdatesNext(t *testing.T) {
	openWindow := scheduleFile(t, strings.Replace(berlinSchedule, "ACTION", "open_window", 1))
	paging := scheduleFile(t, strings.Replace(berlinSchedule, "ACTION", "page", 1))
	badWeekday := scheduleFile(t, strings.Replace(strings.Replace(berlinSchedule, "ACTION", "page", 1), "weekday: sunday", "weekday: sundy", 1))
	noSection := scheduleFile(t, "listen: 127.0.0.1:8080\n")
	tests := []struct {
		name   string
		args   []string
		envCfg string // $WOOTGUARD_CONFIG
		code   int
		stdout []string
		stderr string
	}{
		{"default schedule says so", []string{"--now", "2026-11-23T12:00:00Z", "--count", "2"}, "", 0,
			[]string{"Schedule: the default (no --config", "second Tuesday", "72h soak", "2026-12-08 02:00–04:00", "2027-01-12 02:00–04:00"}, ""},
		{"file without the section: default", []string{"--config", noSection, "--now", "2026-11-23T12:00:00Z"}, "", 0,
			[]string{"has no updates.schedule section", "2026-12-08 02:00–04:00"}, ""},
		{"local and UTC times, freeze skips", []string{"--config", openWindow, "--now", "2026-12-15T12:00:00Z", "--count", "1"}, "", 0,
			[]string{"Sun 2026-12-20 03:00–04:00 CET", "Sun 2026-12-20 02:00–03:00 UTC weekly  SKIPPED: intersects freeze 2026-12-20 – 2027-01-03 (holidays)",
				"Sun 2027-01-10 03:00–04:00 CET"}, ""},
		{"$WOOTGUARD_CONFIG is read", []string{"--now", "2026-12-15T12:00:00Z"}, openWindow, 0,
			[]string{"Schedule: " + openWindow + " (updates.schedule)"}, ""},
		{"open now", []string{"--config", openWindow, "--now", "2026-12-08T01:30:00Z", "--count", "1"}, "", 0,
			[]string{"monthly  (open now)"}, ""},
		{"a release waits for soak", []string{"--config", openWindow, "--now", "2026-12-07T12:00:00Z", "--release", "v4.13.0", "--published", "2026-12-06T10:00:00Z"}, "", 0,
			[]string{"wait-for-soak until Sun 2026-12-13 03:00 CET (2026-12-13 02:00 UTC): v4.13.0 was published"}, ""},
		{"emergency during a freeze", []string{"--config", openWindow, "--now", "2026-12-22T12:00:00Z", "--release", "v4.13.0", "--published", "2026-12-22T10:00:00Z", "--advisory", "GHSA-9pgm-75gg-6948", "--severity", "high"}, "", 0,
			[]string{"fixes GHSA-9pgm-75gg-6948 (high):", "update-now: v4.13.0 fixes GHSA-9pgm-75gg-6948 (high)"}, ""},
		{"emergency page", []string{"--config", paging, "--now", "2026-12-22T12:00:00Z", "--release", "v4.13.0", "--published", "2026-12-22T10:00:00Z", "--severity", "critical"}, "", 0,
			[]string{"page until Sun 2027-01-10 03:00 CET", "page the operator", "advisories of severity high or above page the operator"}, ""},
		{"invalid config: file:line", []string{"--config", badWeekday}, "", 1, nil, badWeekday + `:6: windows[1].weekday: unknown weekday "sundy"`},
		{"missing config file", []string{"--config", filepath.Join(t.TempDir(), "nope.yaml")}, "", 1, nil, "no such file"},
		{"published without release", []string{"--published", "2026-12-22T10:00:00Z"}, "", 2, nil, "give --release too"},
		{"release without published", []string{"--release", "v4.13.0"}, "", 2, nil, "--release needs --published"},
		{"bad published", []string{"--release", "v4.13.0", "--published", "yesterday"}, "", 2, nil, `bad --published "yesterday"`},
		{"bad now", []string{"--now", "2026-12-22"}, "", 2, nil, `bad --now "2026-12-22"`},
		{"bad severity", []string{"--release", "v1", "--published", "2026-12-22T10:00:00Z", "--severity", "severe"}, "", 2, nil, `unknown --severity "severe"`},
		{"advisories and severities unpaired", []string{"--release", "v1", "--published", "2026-12-22T10:00:00Z", "--advisory", "A", "--advisory", "B", "--severity", "high"}, "", 2, nil, "2 --advisory but 1 --severity"},
		{"count out of range", []string{"--count", "0"}, "", 2, nil, "--count must be between 1 and 100"},
		{"bad format", []string{"--format", "yaml"}, "", 2, nil, `--format must be text or json, not "yaml"`},
		{"stray argument", []string{"soon"}, "", 2, nil, `unexpected argument "soon"`},
		{"unknown flag", []string{"--when", "now"}, "", 2, nil, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			env := &cliEnv{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
				if k == "WOOTGUARD_CONFIG" {
					return tt.envCfg
				}
				return ""
			}}
			code := run(context.Background(), env, append([]string{"updates", "next"}, tt.args...))
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errb.String())
			}
			for _, want := range tt.stdout {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, out.String())
				}
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errb.String())
			}
		})
	}
}

func TestUpdatesNextJSON(t *testing.T) {
	path := scheduleFile(t, strings.Replace(berlinSchedule, "ACTION", "open_window", 1))
	var out, errb bytes.Buffer
	env := &cliEnv{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := run(context.Background(), env, []string{"updates", "next", "--config", path, "--format", "json", "--count", "1",
		"--now", "2026-12-18T12:00:00Z", "--release", "v4.13.0", "--published", "2026-12-01T10:00:00Z"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got struct {
		Schedule struct {
			Default  bool   `json:"default"`
			Timezone string `json:"timezone"`
		} `json:"schedule"`
		Windows []struct {
			Window   string `json:"window"`
			Start    string `json:"start"`
			StartUTC string `json:"start_utc"`
			Skipped  bool   `json:"skipped"`
			Freeze   string `json:"freeze"`
		} `json:"windows"`
		Decision struct {
			Action string `json:"action"`
			When   string `json:"when"`
			Window string `json:"window"`
		} `json:"decision"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if got.Schedule.Default || got.Schedule.Timezone != "Europe/Berlin" {
		t.Errorf("schedule %+v", got.Schedule)
	}
	// Sundays 12-20, 12-27, 01-03 are frozen; then the usable 01-10.
	if len(got.Windows) != 4 || !got.Windows[0].Skipped || got.Windows[0].Freeze == "" ||
		got.Windows[3].Skipped || got.Windows[3].Start != "2027-01-10T03:00:00+01:00" || got.Windows[3].StartUTC != "2027-01-10T02:00:00Z" {
		t.Errorf("windows %+v", got.Windows)
	}
	if got.Decision.Action != "frozen" || got.Decision.When != "2027-01-10T02:00:00Z" || got.Decision.Window != "weekly" {
		t.Errorf("decision %+v", got.Decision)
	}
}

// check-config reads updates.schedule through the section registry.
func TestCheckConfigChecksSchedule(t *testing.T) {
	path := scheduleFile(t, strings.Replace(berlinSchedule, "ACTION", "reboot", 1))
	var out, errb bytes.Buffer
	env := &cliEnv{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	if code := run(context.Background(), env, []string{"check-config", path}); code != 1 {
		t.Fatalf("exit %d, want 1; stdout %s", code, out.String())
	}
	if want := path + `:10: emergency.action: unknown action "reboot"`; !strings.Contains(errb.String(), want) {
		t.Errorf("stderr %q lacks %q", errb.String(), want)
	}
}

// releasesFeed is a GitHub releases list: tag, published_at pairs.
func releasesFeed(tagPublished ...string) []byte {
	var items []string
	for i := 0; i+1 < len(tagPublished); i += 2 {
		items = append(items, fmt.Sprintf(`{"tag_name":%q,"draft":false,"prerelease":false,"published_at":%q}`, tagPublished[i], tagPublished[i+1]))
	}
	return []byte("[" + strings.Join(items, ",") + "]")
}

// updates next learns the running version from a fake Chatwoot (/api)
// and the release and advisories from feeds it serves, and decides.
func TestUpdatesNextFromExposure(t *testing.T) {
	advisories, err := os.ReadFile(advisoriesFixture)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		running   string // what /api reports
		published string // v4.13.0's published_at in the feed
		action    string // emergency.action
		viaConfig bool   // chatwoot_url and feeds from the config, else flags
		args      []string
		code      int
		stdout    []string
		stderr    string
	}{
		{"critical advisory opens a window at once, even in a freeze", "3.15.0", "2026-12-22T10:00:00Z", "open_window", true,
			[]string{"--now", "2026-12-22T12:00:00Z"}, 0, []string{
				"Running: Chatwoot 3.15.0 (from api), latest v4.13.0 (published Tue 2026-12-22 11:00 CET), 2 releases behind, 4 advisories affect it",
				"Release v4.13.0, published Tue 2026-12-22 11:00 CET, fixes GHSA-g8f9-hh83-rcq9 (critical), GHSA-9pgm-75gg-6948 (high), GHSA-8qxm-4p4p-cfhm (medium)",
				`update-now: v4.13.0 fixes GHSA-g8f9-hh83-rcq9 (critical), GHSA-9pgm-75gg-6948 (high), at or above the emergency threshold "high": update now, ignoring windows, freezes and the soak.`}, ""},
		{"emergency action page", "3.15.0", "2026-12-22T10:00:00Z", "page", true,
			[]string{"--now", "2026-12-22T12:00:00Z"}, 0, []string{
				`page until Sun 2027-01-10 03:00 CET (2027-01-10 02:00 UTC): v4.13.0 fixes GHSA-g8f9-hh83-rcq9 (critical), GHSA-9pgm-75gg-6948 (high), at or above the emergency threshold "high": page the operator; the normal schedule still applies`}, ""},
		{"medium advisory below the threshold: first window after the soak", "4.12.0", "2026-05-30T12:00:00Z", "open_window", false,
			[]string{"--now", "2026-05-30T13:00:00Z"}, 0, []string{
				"Running: Chatwoot 4.12.0 (from api), latest v4.13.0 (published Sat 2026-05-30 14:00 CEST), 1 release behind, 1 advisory affects it",
				"fixes GHSA-8qxm-4p4p-cfhm (medium):",
				"wait-for-soak until Sun 2026-06-07 03:00 CEST (2026-06-07 01:00 UTC): v4.13.0 was published Sat 2026-05-30 14:00 CEST and the soak is 72h, which ends Tue 2026-06-02 14:00 CEST"}, ""},
		{"up to date", "4.13.0", "2026-05-30T12:00:00Z", "open_window", true,
			[]string{"--now", "2026-06-01T13:00:00Z"}, 0, []string{"Running: Chatwoot 4.13.0 (from api), latest v4.13.0", "up to date: nothing to schedule"}, ""},
		{"--advisory/--severity win over the feed", "4.12.0", "2026-05-30T12:00:00Z", "open_window", true,
			[]string{"--now", "2026-05-30T13:00:00Z", "--advisory", "GHSA-8qxm-4p4p-cfhm", "--severity", "critical"}, 0, []string{
				`update-now: v4.13.0 fixes GHSA-8qxm-4p4p-cfhm (critical), at or above the emergency threshold "high"`}, ""},
		{"--published wins over the feed", "4.12.0", "2026-05-30T12:00:00Z", "open_window", false,
			[]string{"--now", "2026-05-30T13:00:00Z", "--published", "2026-05-01T00:00:00Z"}, 0, []string{
				"Release v4.13.0, published Fri 2026-05-01 02:00 CEST", "wait-for-window until Sun 2026-05-31 03:00 CEST"}, ""},
		{"--release other than the latest needs --published", "4.12.0", "2026-05-30T12:00:00Z", "open_window", true,
			[]string{"--release", "v4.12.5"}, 2, nil, "--release v4.12.5 is not the latest release (v4.13.0): give --published too"},
		{"json", "3.15.0", "2026-12-22T10:00:00Z", "open_window", true,
			[]string{"--now", "2026-12-22T12:00:00Z", "--format", "json"}, 0, []string{
				`"action": "update-now"`, `"id": "GHSA-g8f9-hh83-rcq9",` + "\n" + `        "severity": "critical"`,
				`"running_source": "api"`, `"latest_published": "2026-12-22T10:00:00Z"`}, ""},
		{"advisory feed down, no cache: no decision", "4.12.0", "2026-05-30T12:00:00Z", "open_window", false,
			[]string{"--now", "2026-05-30T13:00:00Z", "--advisories", "MISSING"}, 3, []string{
				"cannot decide: the advisory feed could not be read"}, "advisories feed unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cw := &fakeChatwoot{version: tt.running, releases: releasesFeed("v4.13.0", tt.published, "v4.11.2", "2026-04-20T12:00:00Z"), advisories: advisories}
			srv := httptest.NewServer(cw)
			defer srv.Close()
			sources := fmt.Sprintf("  chatwoot_url: %s\n  feeds: {releases: %s/releases, advisories: %s/advisories, cache_dir: %q}\n",
				srv.URL, srv.URL, srv.URL, t.TempDir())
			args := []string{"updates", "next", "--count", "1", "--retries", "0"}
			if !tt.viaConfig {
				sources = ""
				args = append(args, "--chatwoot", srv.URL, "--releases", srv.URL+"/releases", "--advisories", srv.URL+"/advisories",
					"--cache-dir", t.TempDir())
			}
			cfg := scheduleFile(t, strings.Replace(berlinSchedule, "ACTION", tt.action, 1)+sources)
			for i, a := range tt.args {
				if a == "MISSING" {
					tt.args[i] = srv.URL + "/missing"
				}
			}
			code, out, errs := runCLI(context.Background(), nil, append(append(args, "--config", cfg), tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errs)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errs)
			}
		})
	}
}
