package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wootguard/wootguard/internal/backup"
	"github.com/wootguard/wootguard/internal/rollout"
	"github.com/wootguard/wootguard/internal/testsvc"
)

// Versions of the stand-in Chatwoot images (see
// internal/rollout/testdata/fakechatwoot): 4.2.0 adds a column and a
// table; 4.3.0's migration fails halfway, after creating a table.
const (
	dockerOld  = "4.1.0"
	dockerNew  = "4.2.0"
	dockerBad  = "4.3.0"
	pgPassword = "s3cret"
	pgImage    = "wootguard-test/postgres:15"
)

// dockerImages are the images the test builds (and removes).
var dockerImages = []string{"chatwoot/chatwoot:latest", "chatwoot/chatwoot:v" + dockerOld, "chatwoot/chatwoot:v" + dockerNew, "chatwoot/chatwoot:v" + dockerBad, pgImage}

// dockerEngine returns the engine ./scripts/test started
// (scripts/services/docker.sh) and points docker and compose at it for
// this test. Where dockerd could not start, the test skips with the
// reason the service script gave; Docker is the one service allowed to.
func dockerEngine(t *testing.T) {
	t.Helper()
	if os.Getenv("WOOTGUARD_TEST_DOCKER_HOST") == "" {
		if why := os.Getenv("WOOTGUARD_TEST_DOCKER_SKIP"); why != "" {
			t.Skipf("SKIP: no Docker engine, so the docker-compose target was NOT tested on a real engine: %s", why)
		}
	}
	host := testsvc.Env(t, "WOOTGUARD_TEST_DOCKER_HOST", "a Docker engine (dockerd)")
	bin := testsvc.Env(t, "WOOTGUARD_TEST_DOCKER_BIN", "a Docker engine (dockerd)")
	t.Setenv("DOCKER_HOST", host)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, k := range []string{"DOCKER_CONTEXT", "DOCKER_CONFIG", "COMPOSE_FILE", "COMPOSE_PROJECT_NAME"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// docker runs the Docker CLI and returns its trimmed output.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestUpdateApplyRealDockerCompose updates a compose-deployed stand-in
// Chatwoot on a real Docker engine with `wootguard update apply`: a
// version whose image is not loaded is refused at preflight, then
// v4.1.0 -> v4.2.0 (backup through `compose exec -T postgres pg_dump`,
// image pinned by the override, migration, smoke tests, promotion), then
// v4.2.0 -> v4.3.0, whose migration fails: automatic rollback to v4.2.0
// with every table equal to the backup. No registry is reachable: every
// image is built locally and compose.pull is never / if-missing.
func TestUpdateApplyRealDockerCompose(t *testing.T) {
	dockerEngine(t)
	start := time.Now()
	compose := rollout.DetectComposeCommand()
	composeVersion, _ := exec.Command(compose[0], append(compose[1:], "version")...).CombinedOutput()
	t.Logf("compose command (detected): %s — %s", strings.Join(compose, " "), firstLine(string(composeVersion)))

	imagesBefore := strings.Fields(docker(t, "images", "-aq"))
	t.Cleanup(func() { removeImages(t, dockerImages, imagesBefore) }) // runs last
	buildDockerImages(t)
	t.Logf("images built in %s: %s", time.Since(start).Round(time.Millisecond), strings.Join(dockerImages, ", "))

	dir := t.TempDir()
	app := filepath.Join(dir, "chatwoot")
	os.MkdirAll(app, 0o755)
	project := "wgtest" + randHex(4)
	pgPort, railsPort := freeTCPPort(t), freeTCPPort(t)
	operatorFile := chatwootComposeFile(pgPort, railsPort)
	os.WriteFile(filepath.Join(app, "docker-compose.yaml"), []byte(operatorFile), 0o644)
	os.WriteFile(filepath.Join(app, ".env"), []byte(fmt.Sprintf(
		"POSTGRES_HOST=127.0.0.1\nPOSTGRES_PORT=%d\nPOSTGRES_USERNAME=postgres\nPOSTGRES_PASSWORD=%s\nPOSTGRES_DATABASE=chatwoot\n", pgPort, pgPassword)), 0o600)
	// dc runs compose on the project as the operator would (with
	// wootguard's override once it exists).
	dcErr := func(args ...string) (string, error) {
		argv := append(slices.Clone(compose), "--project-directory", app, "-f", filepath.Join(app, "docker-compose.yaml"))
		if _, err := os.Stat(filepath.Join(app, rollout.ComposeOverrideName)); err == nil {
			argv = append(argv, "-f", filepath.Join(app, rollout.ComposeOverrideName))
		}
		out, err := exec.Command(argv[0], append(append(argv[1:], "-p", project), args...)...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%s %s: %v\n%s", strings.Join(compose, " "), strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	dc := func(args ...string) string {
		t.Helper()
		out, err := dcErr(args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Cleanup(func() { cleanupProject(t, dcErr, project) })

	// The installation as an operator has it: Chatwoot's compose file with
	// :latest (= v4.1.0 here), migrated, with some data.
	dc("up", "-d")
	dbURL := fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/chatwoot?sslmode=disable", pgPassword, pgPort)
	waitPostgres(t, strings.Replace(dbURL, "/chatwoot?", "/postgres?", 1))
	pgExec(t, strings.Replace(dbURL, "/chatwoot?", "/postgres?", 1), `CREATE DATABASE chatwoot`)
	dc("exec", "-T", "rails", "bundle", "exec", "rails", "db:chatwoot_prepare")
	pgExec(t, dbURL,
		`INSERT INTO accounts (name) SELECT 'account ' || g FROM generate_series(1, 3) g`,
		`INSERT INTO conversations (account_id, body) SELECT 1 + g % 3, 'hello ' || g FROM generate_series(1, 25) g`)
	url := fmt.Sprintf("http://127.0.0.1:%d", railsPort)
	waitVersion(t, url, dockerOld)
	t.Logf("installation up in %s", time.Since(start).Round(time.Millisecond))

	stateDir := filepath.Join(dir, "state")
	backups := filepath.Join(dir, "backups")
	writeConfig := func(pull string) string {
		cfg := fmt.Sprintf(`updates:
  state_dir: %s
  smoke: {interval: 100ms, deadline: 20s, request_timeout: 2s}
  targets:
    - name: main
      kind: docker-compose
      production:
        url: %s
        database_url: %s
        backup: {dir: %s}
        compose: {dir: %s, project: %s, pull: %s}
`, stateDir, url, dbURL, backups, app, project, pull)
		p := filepath.Join(dir, "wootguard-"+pull+".yaml")
		os.WriteFile(p, []byte(cfg), 0o600)
		return p
	}
	apply := func(cfg, to string) (int, map[string]any, string) {
		t.Helper()
		code, out, errOut := runUpdateCLI(t, nil, "update", "apply", "--to", to, "--config", cfg, "--yes", "--json")
		t.Logf("wootguard update apply --to %s (exit %d):\n%s", to, code, errOut)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var sum map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
			t.Fatalf("apply --json summary: %v\n%s\n%s", err, out, errOut)
		}
		return code, sum, errOut
	}

	// 0. Air-gapped (compose.pull never) and the image was never loaded:
	// refused at preflight, nothing changed, no registry contacted.
	code, sum, errOut := apply(writeConfig(rollout.PullNever), "v4.9.9")
	if code != 1 || sum["status"] != rollout.StatusFailed || !strings.Contains(errOut, "No such image: chatwoot/chatwoot:v4.9.9") {
		t.Fatalf("apply of a version whose image is not loaded: exit %d, status %v, want 1, failed and the image named\n%s", code, sum["status"], errOut)
	}
	if _, err := os.Stat(filepath.Join(app, rollout.ComposeOverrideName)); err == nil {
		t.Errorf("the refused update wrote the override file")
	}
	if got := apiVersion(t, url); got != dockerOld {
		t.Errorf("serves %q after the refused update, want %s", got, dockerOld)
	}

	// 1. A good update, air-gapped: compose.pull never.
	t0 := time.Now()
	code, sum, errOut = apply(writeConfig(rollout.PullNever), "v"+dockerNew)
	if code != 0 || sum["status"] != rollout.StatusDone {
		t.Fatalf("apply v%s: exit %d, status %v\n%s", dockerNew, code, sum["status"], errOut)
	}
	t.Logf("good update applied in %s", time.Since(t0).Round(time.Millisecond))
	if got := apiVersion(t, url); got != dockerNew {
		t.Errorf("serves %q after the update, want %s", got, dockerNew)
	}
	checkPinned(t, dc, app, dockerNew)
	if m := queryStrings(t, dbURL, `SELECT version FROM schema_migrations ORDER BY version`); !slices.Contains(m, "20250201000000") {
		t.Errorf("migrations after the update = %v, want 20250201000000 applied", m)
	}
	checkBackupViaContainer(t, dc, t0, backups, sum)
	if got, _ := os.ReadFile(filepath.Join(app, "docker-compose.yaml")); string(got) != operatorFile {
		t.Errorf("the operator's compose file was changed")
	}

	// 2. A failing migration (compose.pull if-missing): rolled back.
	t0 = time.Now()
	code, sum, errOut = apply(writeConfig(rollout.PullIfMissing), "v"+dockerBad)
	if code != 1 || sum["status"] != rollout.StatusRolledBack {
		t.Fatalf("apply v%s: exit %d, status %v, want 1 and rolled_back\n%s", dockerBad, code, sum["status"], errOut)
	}
	t.Logf("failing update rolled back in %s", time.Since(t0).Round(time.Millisecond))
	if got := apiVersion(t, url); got != dockerNew {
		t.Errorf("serves %q after the rollback, want %s", got, dockerNew)
	}
	checkPinned(t, dc, app, dockerNew)
	id := sum["backups"].(map[string]any)[rollout.Production].(string)
	m, err := backup.Load(backups, id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := backup.TableChecksums(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if !equalMaps(got, m.TableChecksums) {
		t.Errorf("tables after the rollback %v differ from backup %s: %v", got, id, m.TableChecksums)
	}
	if n := queryStrings(t, dbURL, `SELECT coalesce(to_regclass('public.captain_scratch')::text, '')`); n[0] != "" {
		t.Errorf("the failed migration's table survived the rollback")
	}
	if data, _ := os.ReadFile(filepath.Join(app, "docker-compose.yaml")); string(data) != operatorFile {
		t.Errorf("the operator's compose file was changed")
	}
	t.Logf("whole real-engine test: %s", time.Since(start).Round(time.Millisecond))
}

// chatwootComposeFile is shaped like Chatwoot's
// docker-compose.production.yaml (rails, sidekiq, postgres; no redis: the
// stand-in needs none), with host networking on loopback ports instead of
// published ones: the engine runs without a bridge here.
func chatwootComposeFile(pgPort, railsPort int) string {
	return fmt.Sprintf(`version: '3'

x-base: &base
  image: chatwoot/chatwoot:latest
  env_file: .env
  network_mode: host
  volumes:
    - storage_data:/app/storage

services:
  rails:
    <<: *base
    depends_on:
      - postgres
    environment:
      - NODE_ENV=production
      - RAILS_ENV=production
      - INSTALLATION_ENV=docker
    command: ['bundle', 'exec', 'rails', 's', '-p', '%[2]d', '-b', '127.0.0.1']
    restart: always

  sidekiq:
    <<: *base
    depends_on:
      - postgres
    environment:
      - NODE_ENV=production
      - RAILS_ENV=production
      - INSTALLATION_ENV=docker
    command: ['bundle', 'exec', 'sidekiq', '-C', 'config/sidekiq.yml']
    restart: always

  postgres:
    image: %[3]s
    restart: always
    network_mode: host
    volumes:
      - postgres_data:/var/lib/postgresql/data
    command: ['postgres', '-D', '/var/lib/postgresql/data', '-p', '%[1]d', '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off']

volumes:
  storage_data:
  postgres_data:
`, pgPort, railsPort, pgImage)
}

// checkPinned checks the override pins version for rails and sidekiq and
// that their containers really run that image.
func checkPinned(t *testing.T, dc func(...string) string, app, version string) {
	t.Helper()
	want := "chatwoot/chatwoot:v" + version
	data, err := os.ReadFile(filepath.Join(app, rollout.ComposeOverrideName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(data), "image: "+want+"\n") != 2 {
		t.Errorf("override file:\n%s\nwant %s for rails and sidekiq", data, want)
	}
	for _, svc := range []string{"rails", "sidekiq"} {
		id := dc("ps", "-q", svc)
		if got := docker(t, "inspect", "--format", "{{.Config.Image}} {{.State.Running}}", id); got != want+" true" {
			t.Errorf("%s container runs %q, want %q running", svc, got, want)
		}
	}
}

// checkBackupViaContainer checks that the pre-update backup verified and
// that pg_dump (backup) and pg_restore (verify) ran inside the postgres
// container: the engine's events since the update began show them.
func checkBackupViaContainer(t *testing.T, dc func(...string) string, since time.Time, backups string, sum map[string]any) {
	t.Helper()
	id, _ := sum["backups"].(map[string]any)[rollout.Production].(string)
	m, err := backup.Load(backups, id)
	if err != nil {
		t.Fatalf("backup of the update: %v", err)
	}
	if m.Verified == nil || !m.Verified.OK {
		t.Errorf("backup %s is not verified: %+v", id, m.Verified)
	}
	now := time.Now()
	events := docker(t, "events", "--filter", "container="+dc("ps", "-q", "postgres"), "--filter", "event=exec_start", "--format", "{{.Action}}",
		"--since", fmt.Sprintf("%d", since.Unix()-1), "--until", fmt.Sprintf("%d.%09d", now.Unix(), now.Nanosecond()))
	for _, tool := range []string{"pg_dump --format=custom", "pg_restore --exit-on-error"} {
		if !strings.Contains(events, "exec_start: "+tool) {
			t.Errorf("the engine saw no %q run in the postgres container; exec sessions there:\n%s", tool, events)
		}
	}
}

// cleanupProject removes the test's containers, volumes and networks,
// then checks nothing of them is left.
func cleanupProject(t *testing.T, dc func(...string) (string, error), project string) {
	if _, err := dc("down", "-v", "--remove-orphans", "--timeout", "2"); err != nil {
		t.Error(err)
	}
	label := "label=com.docker.compose.project=" + project
	for what, args := range map[string][]string{
		"containers": {"ps", "-aq", "--filter", label},
		"volumes":    {"volume", "ls", "-q", "--filter", label},
		"networks":   {"network", "ls", "-q", "--filter", label},
	} {
		if out := docker(t, args...); out != "" {
			t.Errorf("%s of project %s left behind: %s", what, project, out)
		}
	}
}

// removeImages removes the images the test built and checks that no
// layer of them is left.
func removeImages(t *testing.T, images, imagesBefore []string) {
	exec.Command("docker", append([]string{"rmi", "-f"}, images...)...).Run()
	for _, img := range images {
		if exec.Command("docker", "image", "inspect", img).Run() == nil {
			t.Errorf("image %s left behind", img)
		}
	}
	for _, id := range strings.Fields(docker(t, "images", "-aq")) {
		if !slices.Contains(imagesBefore, id) {
			t.Errorf("image layer %s (built by the test) left behind", id)
		}
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

func waitPostgres(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, url)
		cancel()
		if err == nil {
			c.Close(context.Background())
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres container did not accept connections: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func pgExec(t *testing.T, url string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, s := range stmts {
		if _, err := c.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func queryStrings(t *testing.T, url, q string) []string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, _ := c.Query(ctx, q)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// apiVersion reads the version the running Chatwoot reports on /api.
func apiVersion(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/api")
	if err != nil {
		return "down: " + err.Error()
	}
	defer resp.Body.Close()
	var body struct {
		Version string `json:"version"`
	}
	data, _ := io.ReadAll(resp.Body)
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&body); err != nil {
		return "bad /api: " + string(data)
	}
	return body.Version
}

func waitVersion(t *testing.T, url, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := apiVersion(t, url)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s serves %q, want %s", url, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
