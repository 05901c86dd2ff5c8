package backup

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/config"
)

func TestDatabaseURLFromEnv(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, ""},
		{map[string]string{"DATABASE_URL": "postgres://u:p@db/x", "POSTGRES_HOST": "ignored"}, "postgres://u:p@db/x"},
		{map[string]string{"POSTGRES_HOST": "postgres", "POSTGRES_PASSWORD": "p@ss/w:rd"},
			"postgres://postgres:p%40ss%2Fw%3Ard@postgres:5432/chatwoot_production"},
		{map[string]string{"POSTGRES_DATABASE": "chatwoot", "POSTGRES_USERNAME": "cw", "POSTGRES_PORT": "6432"},
			"postgres://cw@localhost:6432/chatwoot"},
	}
	for _, tt := range tests {
		got := DatabaseURLFromEnv(func(k string) string { return tt.env[k] })
		if got != tt.want {
			t.Errorf("%v: got %q, want %q", tt.env, got, tt.want)
		}
		if got != "" {
			if _, err := DatabaseName(got); err != nil {
				t.Errorf("%q does not parse: %v", got, err)
			}
		}
	}
}

func TestConnectionStrings(t *testing.T) {
	tests := []struct {
		conn, db, other, redacted string
	}{
		{"postgres://cw:s3cret@127.0.0.1:5432/chatwoot_production?sslmode=disable", "chatwoot_production",
			"postgres://cw:s3cret@127.0.0.1:5432/other?sslmode=disable", "postgres://cw:xxxxx@127.0.0.1:5432/chatwoot_production?sslmode=disable"},
		{"host=db user=cw password='s3 cret' dbname=chatwoot", "chatwoot",
			"host=db user=cw password='s3 cret' dbname=chatwoot dbname='other'", "host=db user=cw password=xxxxx dbname=chatwoot"},
	}
	for _, tt := range tests {
		if db, err := DatabaseName(tt.conn); err != nil || db != tt.db {
			t.Errorf("DatabaseName(%q) = %q, %v", tt.conn, db, err)
		}
		other, err := withDatabase(tt.conn, "other")
		if err != nil || other != tt.other {
			t.Errorf("withDatabase = %q, %v; want %q", other, err, tt.other)
		}
		if db, _ := DatabaseName(other); db != "other" {
			t.Errorf("withDatabase result points at %q", db)
		}
		if got := redact(tt.conn); got != tt.redacted || strings.Contains(got, "s3") {
			t.Errorf("redact = %q, want %q", got, tt.redacted)
		}
	}
	if _, err := DatabaseName("postgres://[bad"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad URL: %v", err)
	}
}

func TestConfigSection(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wootguard.yaml")
	yaml := `updates:
  backup:
    dir: /var/backups/wootguard
    database_url: postgres://postgres@localhost/chatwoot
    storage_dir: /srv/chatwoot/storage
    env_file: /srv/chatwoot/.env
    tool_prefix: [docker, compose, exec, -T, postgres]
    retention:
      keep_last: 7
      keep_days: 14
`
	must(t, writeFileSync(path, []byte(yaml), 0o600))
	var c Config
	found, err := config.LoadSection(path, "updates.backup", &c)
	if err != nil || !found {
		t.Fatalf("LoadSection: %v %v", found, err)
	}
	if c.Dir != "/var/backups/wootguard" || len(c.ToolPrefix) != 5 || c.Retention.KeepLast != 7 || c.Retention.KeepDays != 14 {
		t.Errorf("decoded %+v", c)
	}
	must(t, writeFileSync(path, []byte("updates:\n  backup:\n    retention:\n      keep_lats: 3\n"), 0o600))
	if _, err := config.LoadSection(path, "updates.backup", &c); err == nil || !strings.Contains(err.Error(), ":4:") {
		t.Errorf("unknown key error = %v, want file:line", err)
	}
}
