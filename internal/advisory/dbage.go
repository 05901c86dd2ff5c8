package advisory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/units"
)

// DefaultDBURL is the upstream ruby-advisory-db repository.
const DefaultDBURL = "https://github.com/rubysec/ruby-advisory-db"

// UpdatedAt is when the database was last refreshed: the HEAD commit
// time of a git checkout, else the newest advisory date. how says which.
func UpdatedAt(ctx context.Context, db *DB) (t time.Time, how string) {
	if db.Dir != "" && isGitCheckout(db.Dir) {
		out, err := exec.CommandContext(ctx, "git", "-C", db.Dir, "log", "-1", "--format=%ct").Output()
		if err == nil {
			if sec, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil {
				return time.Unix(sec, 0).UTC(), "last git commit"
			}
		}
	}
	return db.Newest(), "newest advisory date"
}

func isGitCheckout(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".git"))
	return err == nil
}

// ParseAge reads an age in wootguard's one duration syntax
// (internal/units: 7d, 36h, 2w...); "0" disables.
func ParseAge(s string) (time.Duration, error) { return units.ParseDuration(s) }

// UpdateDB clones repo into dir, or fast-forwards an existing checkout.
// It refuses to touch a directory that is not a git checkout; a failed
// clone leaves nothing behind.
func UpdateDB(ctx context.Context, dir, repo string, log io.Writer) error {
	if isGitCheckout(dir) {
		fmt.Fprintf(log, "updating %s (git pull --ff-only)\n", dir)
		return runGit(ctx, log, "pull", "-C", dir, "pull", "--ff-only", "--quiet")
	}
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		return fmt.Errorf("%s exists but is not a git checkout: not touching it (remove it or pass another --db)", dir)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(log, "downloading %s into %s\n", repo, dir)
	if err := runGit(ctx, log, "clone", "clone", "--quiet", "--depth", "1", repo, dir); err != nil {
		os.RemoveAll(dir)
		return err
	}
	return nil
}

func runGit(ctx context.Context, log io.Writer, what string, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", args...)
	// Never prompt for credentials: an unattended audit must fail, not hang.
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	var stderr strings.Builder
	cmd.Stdout = log
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("git %s failed (offline, or the repository is unreachable?): %s", what, msg)
	}
	return nil
}
