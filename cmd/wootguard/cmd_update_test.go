package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runUpdateCLI(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }}
	code := run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

// updateConfig writes a config with one docker-compose target whose
// instances do not answer (nothing listens on port 1).
func updateConfig(t *testing.T) (path, composeDir, stateDir string) {
	t.Helper()
	dir := t.TempDir()
	composeDir = filepath.Join(dir, "chatwoot")
	stateDir = filepath.Join(dir, "state")
	// An installation has its compose files (checked at preflight).
	for _, d := range []string{composeDir, composeDir + "-staging"} {
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "docker-compose.yaml"), []byte("services: {}\n"), 0o644)
	}
	cfg := `updates:
  chatwoot_url: http://127.0.0.1:1
  state_dir: ` + stateDir + `
  soak: 15m
  smoke:
    interval: 50ms
    deadline: 300ms
    checks: [{name: widget, path: /widget, expect_body: chatwoot}]
  targets:
    - name: main
      kind: docker-compose
      staging:
        url: http://127.0.0.1:1
        database_url: postgres://postgres:s3cret@127.0.0.1:5433/chatwoot
        backup: {dir: ` + filepath.Join(dir, "backups-staging") + `}
        compose: {dir: ` + composeDir + `-staging, project: cwstaging, command: [docker, compose]}
      production:
        url: http://127.0.0.1:1
        database_url: postgres://postgres:s3cret@127.0.0.1:5432/chatwoot
        backup: {dir: ` + filepath.Join(dir, "backups") + `, env_file: ` + composeDir + `/.env}
        compose: {dir: ` + composeDir + `, edition: ce, command: [docker, compose]}
`
	path = filepath.Join(dir, "wootguard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, composeDir, stateDir
}

func TestUpdatePlanShowsExactCommandsAndChangesNothing(t *testing.T) {
	cfg, composeDir, stateDir := updateConfig(t)
	code, out, errOut := runUpdateCLI(t, nil, "update", "plan", "--to", "v4.18.0", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	dc := "docker compose --project-directory " + composeDir + " -f " + composeDir + "/docker-compose.yaml"
	dco := dc + " -f " + composeDir + "/docker-compose.wootguard.yaml"
	// In this order, production's part (staging's differs only by paths).
	wants := []string{
		`Update plan: target "main" (docker-compose) to v4.18.0`,
		"staging.backup",
		"staging.soak", "wait 15m0s, then run the smoke tests again",
		"production.backup", "pg_dump -Fc of postgres://postgres:xxxxx@127.0.0.1:5432/chatwoot run inside: " + dc + " exec -T postgres",
		"production.verify",
		"production.deploy",
		"$ write " + composeDir + "/docker-compose.wootguard.yaml",
		"| services:", "|     image: chatwoot/chatwoot:v4.18.0-ce",
		"$ " + dco + " pull rails sidekiq\n",
		"$ " + dco + " up -d\n",
		"production.migrate",
		"$ " + dco + " exec -T -e POSTGRES_STATEMENT_TIMEOUT=600s rails bundle exec rails db:chatwoot_prepare\n",
		"$ " + dco + " restart rails sidekiq\n",
		"production.smoke", "GET http://127.0.0.1:1/widget = 200 containing \"chatwoot\"",
		"production rollback to vPREVIOUS:",
		"$ " + dc + " stop rails sidekiq\n",
		"drop and recreate postgres://postgres:xxxxx@127.0.0.1:5432/chatwoot",
		"compare every table's checksum",
		"$ write " + composeDir + "/docker-compose.wootguard.yaml",
		"$ " + dco + " up -d\n",
	}
	pos := 0
	for _, w := range wants {
		i := strings.Index(out[pos:], w)
		if i < 0 {
			t.Errorf("plan lacks %q after offset %d", w, pos)
			continue
		}
		pos += i + len(w)
	}
	if strings.Contains(out, "s3cret") {
		t.Error("plan shows the database password")
	}
	if t.Failed() {
		t.Log(out)
	}
	for _, p := range []string{filepath.Join(composeDir, "docker-compose.wootguard.yaml"), stateDir} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("plan created %s; it must change nothing", p)
		}
	}
}

func TestUpdateCommandErrors(t *testing.T) {
	cfg, _, stateDir := updateConfig(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("updates:\n  targets:\n    - name: x\n      knd: exec\n"), 0o600)
	tests := []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"plan needs --to", nil, []string{"update", "plan", "--config", cfg}, 2, "--to vX.Y.Z (or --to latest) is required"},
		{"bad version", nil, []string{"update", "apply", "--to", "banana", "--config", cfg}, 2, `"banana" is not a Chatwoot version`},
		{"no config", nil, []string{"update", "apply", "--to", "v4.18.0"}, 2, "give --config FILE"},
		{"config from env", map[string]string{"WOOTGUARD_CONFIG": cfg}, []string{"update", "plan", "--to", "v4.18.0", "--target", "nope"}, 2, `no target named "nope"`},
		{"config error has file and line", nil, []string{"update", "plan", "--to", "4.18.0", "--config", bad}, 2, bad + ":4: unknown key \"knd\""},
		{"apply without --yes off a terminal", nil, []string{"update", "apply", "--to", "v4.18.0", "--config", cfg}, 2, "pass --yes"},
		{"resume with nothing to resume", nil, []string{"update", "resume", "--config", cfg}, 0, "nothing to resume"},
		{"status with no journal", nil, []string{"update", "status", "--state-dir", t.TempDir()}, 0, "no update recorded"},
		{"stray argument", nil, []string{"update", "resume", "now", "--config", cfg}, 2, `unexpected argument "now"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runUpdateCLI(t, tc.vars, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, want %d; output does not contain %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(stateDir, "state.json")); err == nil {
		t.Error("a refused apply wrote a state file")
	}
}

func TestUpdateApplyConfirmation(t *testing.T) {
	cfg, _, stateDir := updateConfig(t)
	old := updateStdin
	t.Cleanup(func() { updateStdin = old })
	updateStdin = func() (io.Reader, bool) { return strings.NewReader("no\n"), true }
	code, _, errOut := runUpdateCLI(t, nil, "update", "apply", "--to", "v4.18.0", "--config", cfg)
	if code != 2 || !strings.Contains(errOut, "Type yes:") || !strings.Contains(errOut, "not confirmed") {
		t.Errorf("answer no: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(stateDir, "state.json")); err == nil {
		t.Error("an unconfirmed apply wrote a state file")
	}
	// Confirmed, it starts and stops at preflight: nothing answers there.
	updateStdin = func() (io.Reader, bool) { return strings.NewReader("yes\n"), true }
	code, out, errOut := runUpdateCLI(t, nil, "update", "apply", "--to", "v4.18.0", "--config", cfg, "--json")
	if code != 1 || !strings.Contains(errOut, "not healthy before the update") || !strings.Contains(out, `"status":"failed"`) {
		t.Errorf("confirmed apply against a dead instance: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, out, _ = runUpdateCLI(t, nil, "update", "status", "--config", cfg)
	if code != 0 || !strings.Contains(out, "preflight  failed") || !strings.Contains(out, "nothing was changed") {
		t.Errorf("status after failed preflight: exit %d\n%s", code, out)
	}
}
