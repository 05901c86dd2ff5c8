package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// execTargetConfig is a config with one exec target whose production
// answers /api with version running.
func execTargetConfig(t *testing.T, running, extra string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"version":"`+running+`"}`)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`updates:
  state_dir: %s
  targets:
    - name: main
      kind: exec
      production:
        url: %s
        database_url: postgres://u@127.0.0.1:1/chatwoot
        backup: {dir: %s}
        exec: {deploy: "echo deploy {{version}}", migrate: "echo migrate", start: "true", stop: "true"}
%s`, filepath.Join(dir, "state"), srv.URL, filepath.Join(dir, "backups"), extra)
	p := filepath.Join(dir, "wootguard.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUpdateRefusesDowngrade(t *testing.T) {
	cfg := execTargetConfig(t, "4.18.0", "")
	for _, args := range [][]string{{"plan"}, {"apply", "--yes"}} {
		sub := args[0]
		code, out, errOut := runUpdateCLI(t, nil, append([]string{"update"}, append(args, "--to", "v4.15.1", "--config", cfg)...)...)
		if code != 1 || !strings.Contains(errOut, "refusing a downgrade: production runs 4.18.0, newer than v4.15.1") ||
			!strings.Contains(errOut, "restore a backup") {
			t.Errorf("%s: exit %d\n%s%s", sub, code, out, errOut)
		}
	}
	if code, out, errOut := runUpdateCLI(t, nil, "update", "plan", "--to", "v4.18.1", "--config", cfg); code != 0 {
		t.Errorf("upgrade plan: exit %d\n%s%s", code, out, errOut)
	}
}

// --to latest is the newest stable release the soak allows.
func TestUpdatePlanToLatest(t *testing.T) {
	day := func(n int) string {
		return time.Now().Add(time.Duration(n) * 24 * time.Hour).UTC().Format(time.RFC3339)
	}
	rel := filepath.Join(t.TempDir(), "releases.json")
	os.WriteFile(rel, []byte(`[
	 {"tag_name":"v4.19.0-rc1","prerelease":true,"published_at":"`+day(-30)+`"},
	 {"tag_name":"v4.18.0","published_at":"`+day(-1)+`"},
	 {"tag_name":"v4.17.1","published_at":"`+day(-10)+`"},
	 {"tag_name":"v4.17.0","published_at":"`+day(-40)+`"}]`), 0o644)
	cfg := execTargetConfig(t, "4.16.0", "  feeds: {releases: "+rel+"}\n  schedule: {min_release_age: 3d, windows: [{every: week, weekday: tuesday, start: '02:00', duration: 2h}]}\n")
	code, out, errOut := runUpdateCLI(t, nil, "update", "plan", "--to", "latest", "--config", cfg)
	if code != 0 || !strings.Contains(out, "latest = v4.17.1: the newest stable release published at least 3d ago") || !strings.Contains(out, "4.17.1") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	// With the soak off, the newest stable release (never the rc).
	cfg = execTargetConfig(t, "4.16.0", "  feeds: {releases: "+rel+"}\n  schedule: {min_release_age: 0s, windows: [{every: week, weekday: tuesday, start: '02:00', duration: 2h}]}\n")
	if code, out, errOut := runUpdateCLI(t, nil, "update", "plan", "--to", "latest", "--config", cfg); code != 0 || !strings.Contains(out, "latest = v4.18.0") {
		t.Errorf("soak off: exit %d\n%s%s", code, out, errOut)
	}
}
