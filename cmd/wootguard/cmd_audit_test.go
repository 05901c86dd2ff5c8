package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The advisory subset and Chatwoot lockfiles live in internal/advisory's testdata.
var (
	auditDB   = filepath.Join("..", "..", "internal", "advisory", "testdata", "ruby-advisory-db")
	auditLock = filepath.Join("..", "..", "internal", "advisory", "testdata", "v4.15.1.Gemfile.lock")
)

func auditCLI(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }}
	code = run(context.Background(), env, append([]string{"audit"}, args...))
	return code, out.String(), errb.String()
}

// lockWith writes a one-section Gemfile.lock with the given spec lines
// into a fresh project dir and returns its path.
func lockWith(t *testing.T, specs ...string) string {
	t.Helper()
	dir := t.TempDir()
	body := "GEM\n  remote: https://rubygems.org/\n  specs:\n"
	for _, s := range specs {
		body += "    " + s + "\n"
	}
	p := filepath.Join(dir, "Gemfile.lock")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAuditMinimalJSON(t *testing.T) {
	code, out, errb := auditCLI(t, nil, "--db", auditDB, "--format", "json", auditLock)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (findings); stderr %s", code, errb)
	}
	var doc struct {
		Version string `json:"version"`
		Results []struct {
			Type string `json:"type"`
			Gem  struct{ Name, Version string }
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if len(doc.Results) != 49 || doc.Version == "" {
		t.Errorf("%d results, version %q; want 49", len(doc.Results), doc.Version)
	}
	// The subset is months old: warned on stderr, JSON stays clean.
	if !strings.Contains(errb, "advisory database is") || strings.Contains(out, "warning:") {
		t.Errorf("stale warning: stderr %q", errb)
	}
}

func TestAuditExitCodes(t *testing.T) {
	clean := lockWith(t, "rack (3.2.6)")
	lowOnly := lockWith(t, "json (2.19.8)")              // CVE-2026-54696, low
	unknownOnly := lockWith(t, "active-support (5.2.0)") // malicious gem, no CVSS
	insecure := lockWith(t, "rack (3.2.6)")
	os.WriteFile(insecure, []byte("GEM\n  remote: http://rubygems.org/\n  specs:\n    rack (3.2.6)\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"clean", []string{clean}, 0, ""},
		{"low, any", []string{lowOnly}, 1, ""},
		{"low, fail-on low", []string{"--fail-on", "low", lowOnly}, 1, ""},
		{"low, fail-on medium", []string{"--fail-on", "medium", lowOnly}, 0, ""},
		{"unknown, any", []string{unknownOnly}, 1, ""},
		{"unknown, fail-on low", []string{"--fail-on", "low", unknownOnly}, 0, ""},
		{"fail-on none", []string{"--fail-on", "none", auditLock}, 0, ""},
		{"critical present", []string{"--fail-on", "critical", auditLock}, 1, ""},
		{"insecure source", []string{"--fail-on", "critical", insecure}, 1, ""},
		{"ignored", []string{"--ignore", "CVE-2026-54696", lowOnly}, 0, ""},
		{"bad format", []string{"--format", "xml", clean}, 2, "unknown --format"},
		{"bad fail-on", []string{"--fail-on", "severe", clean}, 2, "unknown --fail-on"},
		{"bad age", []string{"--max-db-age", "soon", clean}, 2, "--max-db-age"},
		{"two lockfiles", []string{clean, lowOnly}, 2, "one lockfile at a time"},
		{"unknown flag", []string{"--dbx", auditDB, clean}, 2, "flag provided but not defined"},
		{"missing lockfile", []string{filepath.Join(t.TempDir(), "Gemfile.lock")}, 3, "not found"},
		{"malformed lockfile", []string{"cmd_audit_test.go"}, 3, "cmd_audit_test.go:1: unexpected unindented line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errb := auditCLI(t, nil, append([]string{"--db", auditDB}, tt.args...)...)
			if code != tt.code || !strings.Contains(errb, tt.err) {
				t.Errorf("exit %d, want %d; stderr %q (want %q)", code, tt.code, errb, tt.err)
			}
		})
	}
	code, _, errb := auditCLI(t, nil, "--db", filepath.Join(t.TempDir(), "none"), clean)
	if code != 3 || !strings.Contains(errb, "--update") {
		t.Errorf("missing db: exit %d, stderr %q", code, errb)
	}
}

func TestAuditDefaultsAndConfig(t *testing.T) {
	lock := lockWith(t, "json (2.19.8)")
	dir := filepath.Dir(lock)
	// Default lockfile ./Gemfile.lock and DB from $WOOTGUARD_ADVISORY_DB.
	absDB, _ := filepath.Abs(auditDB)
	t.Chdir(dir)
	code, out, errb := auditCLI(t, map[string]string{"WOOTGUARD_ADVISORY_DB": absDB})
	if code != 1 || !strings.Contains(out, "Name:        json") {
		t.Fatalf("defaults: exit %d\n%s\n%s", code, out, errb)
	}
	// $XDG_DATA_HOME/wootguard/ruby-advisory-db.
	xdg := t.TempDir()
	os.MkdirAll(filepath.Join(xdg, "wootguard"), 0o755)
	os.Symlink(absDB, filepath.Join(xdg, "wootguard", "ruby-advisory-db"))
	if code, _, errb := auditCLI(t, map[string]string{"XDG_DATA_HOME": xdg}); code != 1 {
		t.Errorf("XDG: exit %d %s", code, errb)
	}
	// .bundler-audit.yml next to the lockfile is honoured and --ignore
	// merges with it (bundler-audit would replace it).
	os.WriteFile(filepath.Join(dir, ".bundler-audit.yml"), []byte("ignore:\n  - CVE-2026-54696\n"), 0o644)
	code, out, _ = auditCLI(t, map[string]string{"WOOTGUARD_ADVISORY_DB": absDB}, "--ignore", "CVE-0000-0000")
	if code != 0 || !strings.Contains(out, "Ignored: json 2.19.8 CVE-2026-54696") {
		t.Errorf("ignore merge: exit %d\n%s", code, out)
	}
	os.Remove(filepath.Join(dir, ".bundler-audit.yml"))
	// .wootguard-ignore.yml next to the lockfile is read by default.
	os.WriteFile(filepath.Join(dir, ".wootguard-ignore.yml"), []byte("ignore:\n  - id: CVE-2026-54696\n    reason: test\n"), 0o644)
	if code, _, _ := auditCLI(t, map[string]string{"WOOTGUARD_ADVISORY_DB": absDB}); code != 0 {
		t.Errorf("default .wootguard-ignore.yml not read: exit %d", code)
	}
	os.Remove(filepath.Join(dir, ".wootguard-ignore.yml"))
	// Config: audit.db relative to the config file, fail_on; flags win.
	cfg := filepath.Join(dir, "wootguard.yaml")
	rel, _ := filepath.Rel(dir, absDB)
	os.WriteFile(cfg, []byte("audit:\n  db: "+rel+"\n  fail_on: medium\n  max_db_age: 0\n"), 0o644)
	code, _, errb = auditCLI(t, nil, "--config", cfg)
	if code != 0 || strings.Contains(errb, "advisory database is") {
		t.Errorf("config fail_on medium: exit %d, stderr %q", code, errb)
	}
	if code, _, _ := auditCLI(t, nil, "--config", cfg, "--fail-on", "low"); code != 1 {
		t.Errorf("--fail-on should override the config: exit %d", code)
	}
	os.WriteFile(cfg, []byte("audit:\n  db: x\n  fail-on: high\n"), 0o644)
	if code, _, errb := auditCLI(t, nil, "--config", cfg); code != 2 || !strings.Contains(errb, "wootguard.yaml:3") {
		t.Errorf("unknown config key: exit %d, stderr %q", code, errb)
	}
	// wootguard ignore file with an expired entry: reported, not applied.
	ign := filepath.Join(dir, "ignore.yml")
	os.WriteFile(ign, []byte("ignore:\n  - id: GHSA-xxxx-json\n    reason: old\n    expires: 2001-01-01\n  - id: CVE-2026-54696\n    reason: parser not exposed\n"), 0o644)
	code, out, _ = auditCLI(t, nil, "--db", absDB, "--ignore-file", ign)
	if code != 0 || !strings.Contains(out, "Expired ignore: GHSA-xxxx-json expired on 2001-01-01") || !strings.Contains(out, "parser not exposed") {
		t.Errorf("ignore file: exit %d\n%s", code, out)
	}
	if code, _, errb := auditCLI(t, nil, "--db", absDB, "--ignore-file", filepath.Join(dir, "missing.yml")); code != 3 || !strings.Contains(errb, "missing.yml") {
		t.Errorf("missing --ignore-file: exit %d %q", code, errb)
	}
}

func TestAuditOutputFileAndSARIF(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "audit.sarif")
	code, out, errb := auditCLI(t, nil, "--db", auditDB, "--format", "sarif", "--output", dst, auditLock)
	if code != 1 || out != "" || !strings.Contains(errb, "report in "+dst) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errb)
	}
	data, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string
		Runs    []struct{ Results []json.RawMessage }
	}
	if err := json.Unmarshal(data, &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 49 {
		t.Errorf("sarif: %v version=%s", err, log.Version)
	}
}

func TestAuditUpdate(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	lock := lockWith(t, "rack (3.2.6)")
	// Unreachable repository (as offline): clear message, exit 3, nothing created.
	dst := filepath.Join(t.TempDir(), "db")
	vars := map[string]string{"WOOTGUARD_ADVISORY_DB_URL": "file:///nonexistent/ruby-advisory-db"}
	code, _, errb := auditCLI(t, vars, "--update", "--db", dst, lock)
	if code != 3 || !strings.Contains(errb, "--update: git clone failed") {
		t.Errorf("offline update: exit %d, stderr %q", code, errb)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Error("failed update left a directory behind")
	}
	// A reachable repository (a local mirror) is cloned, then audited.
	up := t.TempDir()
	adv, err := os.ReadFile(filepath.Join(auditDB, "gems", "json", "CVE-2026-54696.yml"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(up, "gems", "json"), 0o755)
	os.WriteFile(filepath.Join(up, "gems", "json", "CVE-2026-54696.yml"), adv, 0o644)
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "x"}} {
		cmd := exec.Command("git", append([]string{"-C", up, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	vulnerable := lockWith(t, "json (2.19.8)")
	mirror := map[string]string{"WOOTGUARD_ADVISORY_DB_URL": "file://" + up}
	code, out, errb := auditCLI(t, mirror, "--update", "--db", dst, vulnerable)
	if code != 1 || !strings.Contains(out, "CVE-2026-54696") || !strings.Contains(errb, "downloading file://"+up) {
		t.Errorf("update from mirror: exit %d\n%s\n%s", code, out, errb)
	}
	if code, _, errb := auditCLI(t, mirror, "--update", "--db", dst, vulnerable); code != 1 || !strings.Contains(errb, "git pull --ff-only") {
		t.Errorf("second update (pull): exit %d %s", code, errb)
	}
	// An existing DB that is not a git checkout is never touched.
	code, _, errb = auditCLI(t, vars, "--update", "--db", auditDB, lock)
	if code != 3 || !strings.Contains(errb, "not a git checkout") {
		t.Errorf("plain db: exit %d, stderr %q", code, errb)
	}
}

func TestCheckConfigChecksAuditSection(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "wootguard.yaml")
	os.WriteFile(cfg, []byte("audit:\n  db: /var/lib/db\n  fail_on: high\n  maxdbage: 7d\n"), 0o644)
	var out, errb bytes.Buffer
	env := &cliEnv{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	if code := run(context.Background(), env, []string{"check-config", cfg}); code == 0 || !strings.Contains(errb.String(), "wootguard.yaml:4") {
		t.Errorf("check-config: exit %d, stderr %q", code, errb.String())
	}
}

func TestAuditHelp(t *testing.T) {
	code, out, _ := auditCLI(t, nil, "--help")
	for _, want := range []string{"Usage: wootguard audit", "--fail-on", "Exit codes", ".wootguard-ignore.yml"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("help: exit %d, lacks %q", code, want)
		}
	}
}
