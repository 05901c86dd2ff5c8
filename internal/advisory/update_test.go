package advisory

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=master"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE=2026-11-01T10:00:00Z", "GIT_AUTHOR_DATE=2026-11-01T10:00:00Z")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// upstream makes a local git repository shaped like ruby-advisory-db.
func upstream(t *testing.T) string {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := writeDB(t, map[string]string{"gems/demo/CVE-2099-1234.yml": goodAdvisory})
	git(t, dir, "init", "-q")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", "first")
	return dir
}

func TestUpdateDB(t *testing.T) {
	ctx := context.Background()
	up := upstream(t)
	dst := filepath.Join(t.TempDir(), "share", "ruby-advisory-db")
	if err := UpdateDB(ctx, dst, "file://"+up, io.Discard); err != nil {
		t.Fatalf("clone: %v", err)
	}
	db, err := LoadDir(dst)
	if err != nil || db.Len() != 1 {
		t.Fatalf("cloned db: %v", err)
	}
	// Age comes from the commit, not from the advisory date (2099).
	at, how := UpdatedAt(ctx, db)
	if how != "last git commit" || !at.Equal(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("UpdatedAt = %v (%s)", at, how)
	}
	// A new upstream advisory arrives with a pull.
	os.WriteFile(filepath.Join(up, "gems/demo/CVE-2099-5678.yml"), []byte(strings.ReplaceAll(goodAdvisory, "2099-1234", "2099-5678")), 0o644)
	git(t, up, "add", ".")
	git(t, up, "commit", "-q", "-m", "second")
	if err := UpdateDB(ctx, dst, "file://"+up, io.Discard); err != nil {
		t.Fatalf("pull: %v", err)
	}
	if db, err := LoadDir(dst); err != nil || db.Len() != 2 {
		t.Fatalf("after pull: %v", err)
	}
}

func TestUpdateDBFailures(t *testing.T) {
	ctx := context.Background()
	upstream(t) // skips without git
	// Unreachable repository: clear error, nothing left behind.
	dst := filepath.Join(t.TempDir(), "db")
	err := UpdateDB(ctx, dst, "file:///nonexistent/ruby-advisory-db", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "git clone failed") {
		t.Errorf("err = %v", err)
	}
	if _, statErr := os.Stat(dst); !os.IsNotExist(statErr) {
		t.Errorf("failed clone left %s behind", dst)
	}
	// A directory that is not a git checkout is never touched.
	plain := writeDB(t, map[string]string{"gems/demo/CVE-2099-1234.yml": goodAdvisory})
	err = UpdateDB(ctx, plain, "file:///nonexistent", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not a git checkout") {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(plain, "gems/demo/CVE-2099-1234.yml")); err != nil {
		t.Errorf("plain dir was modified: %v", err)
	}
	// Without git metadata the age is the newest advisory date.
	db, _ := LoadDir(plain)
	if at, how := UpdatedAt(ctx, db); how != "newest advisory date" || at.Year() != 2099 {
		t.Errorf("UpdatedAt = %v (%s)", at, how)
	}
}

func TestParseAge(t *testing.T) {
	tests := map[string]time.Duration{"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "0": 0, "1.5d": 36 * time.Hour}
	for in, want := range tests {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "seven days", "-1d", "7x"} {
		if _, err := ParseAge(bad); err == nil {
			t.Errorf("ParseAge(%q) accepted", bad)
		}
	}
}
