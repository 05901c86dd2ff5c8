package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/wootguard/wootguard/internal/backup"
	"github.com/wootguard/wootguard/internal/pgtest"
)

type backupCLIResult struct {
	code           int
	stdout, stderr string
}

func runBackupCLI(t *testing.T, environ map[string]string, args ...string) backupCLIResult {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return environ[k] }}
	code := run(context.Background(), env, args)
	return backupCLIResult{code, out.String(), errb.String()}
}

// withBackupStdin makes restore's confirmation read input, as from a terminal
// or not.
func withBackupStdin(t *testing.T, input string, terminal bool) {
	old := backupStdin
	backupStdin = func() (io.Reader, bool) { return strings.NewReader(input), terminal }
	t.Cleanup(func() { backupStdin = old })
}

func backupSQL(t *testing.T, url, sql string) {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

func backupTableExists(t *testing.T, url, table string) bool {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var ok bool
	if err := c.QueryRow(context.Background(), `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

const backupCLISeed = `
CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
INSERT INTO schema_migrations VALUES ('20250101000000'), ('20250915120000');
CREATE TABLE accounts (id bigserial PRIMARY KEY, name varchar NOT NULL);
INSERT INTO accounts (name) VALUES ('Acme'), ('Büro Müller');
CREATE TABLE messages (id bigserial PRIMARY KEY, account_id bigint REFERENCES accounts(id), content text);
INSERT INTO messages (account_id, content) SELECT 1 + n % 2, 'message ' || n FROM generate_series(1, 50) n;`

var backupIDLine = regexp.MustCompile(`^\d{8}T\d{6}Z-[0-9a-f]{4}$`)

func TestBackupCommands(t *testing.T) {
	url := pgtest.NewDB(t)
	backupSQL(t, url, backupCLISeed)
	dir := filepath.Join(t.TempDir(), "backups")
	storage := filepath.Join(t.TempDir(), "storage")
	backupMust(t, os.MkdirAll(filepath.Join(storage, "ab"), 0o755))
	backupMust(t, os.WriteFile(filepath.Join(storage, "ab", "blob"), []byte("attachment"), 0o640))
	envFile := filepath.Join(t.TempDir(), ".env")
	backupMust(t, os.WriteFile(envFile, []byte("SECRET_KEY_BASE=topsecretvalue\n"), 0o644))
	environ := map[string]string{"DATABASE_URL": url}

	// create: progress on stderr, the ID as the last (here: only) line of stdout.
	r := runBackupCLI(t, environ, "backup", "create", "--dir", dir, "--storage", storage, "--env-file", envFile,
		"--label", "pre-update v4.15.1 -> v4.18.0", "--verify")
	if r.code != 0 {
		t.Fatalf("create: exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	id := lines[len(lines)-1]
	if !backupIDLine.MatchString(id) {
		t.Fatalf("last stdout line %q is not a backup ID; stdout %q", id, r.stdout)
	}
	if !strings.Contains(r.stderr, "verified") || strings.Contains(r.stderr+r.stdout, "topsecretvalue") {
		t.Errorf("create stderr (progress, no secrets) = %q", r.stderr)
	}

	r = runBackupCLI(t, environ, "backup", "list", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "db+storage+.env") ||
		!strings.Contains(r.stdout, "ok ") || !strings.Contains(r.stdout, "pre-update v4.15.1 -> v4.18.0") {
		t.Errorf("list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runBackupCLI(t, environ, "backup", "list", "--dir", dir, "--format", "json")
	var ms []backup.Manifest
	if err := json.Unmarshal([]byte(r.stdout), &ms); err != nil || len(ms) != 1 || ms[0].ID != id ||
		ms[0].Verified == nil || !ms[0].Verified.OK || ms[0].RowCounts["public.messages"] != 50 {
		t.Errorf("list --format json: %v\n%s", err, r.stdout)
	}

	r = runBackupCLI(t, environ, "backup", "verify", "--dir", dir, "latest")
	if r.code != 0 || !strings.Contains(r.stdout, "backup "+id+" verified") {
		t.Errorf("verify latest: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Without a database URL, verify uses the one the manifest records
	// (never its password: that comes from PGPASSWORD) and says so.
	if raw, _ := os.ReadFile(filepath.Join(dir, id, "manifest.json")); !strings.Contains(string(raw), `"source"`) ||
		(password(url) != "" && strings.Contains(string(raw), password(url))) {
		t.Errorf("manifest source missing or holding the password:\n%s", raw)
	}
	t.Setenv("PGPASSWORD", password(url))
	r = runBackupCLI(t, nil, "backup", "verify", "--dir", dir, id)
	if r.code != 0 || !strings.Contains(r.stderr, "using the one backup "+id+" came from (its manifest)") {
		t.Errorf("verify without a database URL: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A failed update: extra table; restore backupMust ask before it removes it.
	backupSQL(t, url, `CREATE TABLE captain_assistant_responses (id int); DELETE FROM messages WHERE id > 10`)
	restore := []string{"backup", "restore", "--dir", dir, "--storage", storage, "--env-file", envFile, id}
	db, _ := backup.DatabaseName(url)
	tests := []struct {
		name     string
		input    string
		terminal bool
		extra    []string
		code     int
		restored bool
	}{
		{"no terminal, no --yes", "", false, nil, 2, false},
		{"terminal, wrong name", "chatwoot\n", true, nil, 2, false},
		{"terminal, typed name", db + "\n", true, nil, 0, true},
		{"no terminal, --yes", "", false, []string{"--yes"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backupSQL(t, url, `CREATE TABLE IF NOT EXISTS captain_assistant_responses (id int)`)
			withBackupStdin(t, tt.input, tt.terminal)
			r := runBackupCLI(t, environ, append(restore, tt.extra...)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if gone := !backupTableExists(t, url, "captain_assistant_responses"); gone != tt.restored {
				t.Errorf("restored = %v, want %v\n%s", gone, tt.restored, r.stderr)
			}
		})
	}
	if data, _ := os.ReadFile(envFile); string(data) != "SECRET_KEY_BASE=topsecretvalue\n" {
		t.Errorf(".env after restore: %q", data)
	}

	r = runBackupCLI(t, environ, "backup", "prune", "--dir", dir, "--keep-last", "1", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "nothing to delete") {
		t.Errorf("prune --dry-run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestBackupCommandErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "wootguard.yaml")
	backupMust(t, os.WriteFile(cfg, []byte("updates:\n  backup:\n    dir: "+dir+"\n    retention:\n      keep_last: 3\n"), 0o600))
	badCfg := filepath.Join(t.TempDir(), "bad.yaml")
	backupMust(t, os.WriteFile(badCfg, []byte("updates:\n  backup:\n    dri: /x\n"), 0o600))
	noDB := map[string]string{}
	db := map[string]string{"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "1"} // nothing listens there
	tests := []struct {
		args    []string
		environ map[string]string
		code    int
		stderr  string // substring of stderr ("" = don't care)
		stdout  string
	}{
		{[]string{"backup", "create", "--database-url", "postgres://x/y"}, noDB, 2, "--dir", ""},
		{[]string{"backup", "create", "--dir", dir}, noDB, 2, "--database-url", ""},
		{[]string{"backup", "create", "--dir", dir, "extra"}, db, 2, "unexpected argument", ""},
		{[]string{"backup", "create", "--dir", dir, "--tool-prefix", "/nonexistent/env"}, db, 1, "connection refused: nothing listens", ""},
		{[]string{"backup", "create", "--dir", dir, "--storage", filepath.Join(dir, "nostorage"), "--env-file", filepath.Join(dir, "no.env")}, db, 1,
			"nothing was dumped; fix first:\n  - storage directory (--storage, updates.backup.storage_dir): stat " + filepath.Join(dir, "nostorage") + ": no such file or directory\n  - .env file (--env-file, updates.backup.env_file)", ""},
		{[]string{"backup", "create", "--dir", dir, "--database-url", "mysql://x/y"}, noDB, 1, "wrong scheme: database_url must start with postgres://", ""},
		{[]string{"backup", "verify", "--dir", dir, "20261123T020000Z-4f2a"}, noDB, 1, "not found", ""},
		{[]string{"backup", "create", "--config", badCfg}, db, 2, "bad.yaml:3", ""},
		{[]string{"backup", "list", "--dir", filepath.Join(dir, "missing")}, noDB, 1, "does not exist", ""},
		{[]string{"backup", "list", "--dir", dir, "--format", "xml"}, noDB, 2, "--format", ""},
		{[]string{"backup", "list", "--config", cfg}, noDB, 0, "", "no backups in " + dir},
		{[]string{"backup", "list", "--config", cfg, "--format", "json"}, noDB, 0, "", "[]"},
		{[]string{"backup", "verify", "--dir", dir}, db, 2, "exactly one backup ID", ""},
		{[]string{"backup", "verify", "--dir", dir, "../../etc"}, db, 2, "not a backup ID", ""},
		{[]string{"backup", "verify", "--dir", dir, "latest"}, db, 2, "no backups", ""},
		{[]string{"backup", "verify", "--dir", dir, "20261123T020000Z-4f2a"}, db, 1, "not found", ""},
		{[]string{"backup", "restore", "--dir", dir, "--yes", "20261123T020000Z-4f2a"}, db, 1, "not found", ""},
		{[]string{"backup", "prune", "--dir", dir}, noDB, 2, "--keep-last", ""},
		{[]string{"backup", "prune", "--dir", dir, "--keep-days", "-3"}, noDB, 2, "negative", ""},
		{[]string{"backup", "prune", "--config", cfg, "--keep-last", "0"}, noDB, 2, "--keep-last", ""},
		{[]string{"backup", "prune", "--config", cfg}, noDB, 0, "", "nothing to delete"},
		{[]string{"backup", "prune", "--dir", dir, "--keep-last", "x"}, noDB, 2, "invalid value", ""},
	}
	for _, tt := range tests {
		r := runBackupCLI(t, tt.environ, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) || !strings.Contains(r.stdout, tt.stdout) {
			t.Errorf("%q: exit %d, want %d; stdout %q (want %q) stderr %q (want %q)",
				tt.args, r.code, tt.code, r.stdout, tt.stdout, r.stderr, tt.stderr)
		}
	}
}

func backupMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func password(conn string) string {
	u, err := neturl.Parse(conn)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// Each pre-dump problem is one bullet; the driver's multi-line text (one
// line per address tried) stays indented under its own problem instead of
// looking like more problems.
func TestBackupPrecheckOneBulletPerProblem(t *testing.T) {
	dir := t.TempDir()
	r := runBackupCLI(t, map[string]string{}, "backup", "create", "--dir", dir,
		"--database-url", "postgres://u@127.0.0.1:1/cw?connect_timeout=2", "--storage", filepath.Join(dir, "nostorage"))
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "\n  - "); n != 2 {
		t.Errorf("%d bullets, want 2 (storage, connection):\n%s", n, r.stderr)
	}
	if !strings.Contains(r.stderr, "\n  - connection refused: ") {
		t.Errorf("no connection bullet:\n%s", r.stderr)
	}
}
