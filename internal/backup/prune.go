package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Retention says which backups Prune keeps. A backup is kept when any
// rule keeps it. The newest successfully verified backup is always kept,
// whatever the numbers say: it is the one a rollback would use.
type Retention struct {
	KeepLast        int `yaml:"keep_last"`         // the N newest backups
	KeepDays        int `yaml:"keep_days"`         // backups younger than D days
	KeepVerifiedMin int `yaml:"keep_verified_min"` // the N newest verified backups (at least 1)
}

func (p Retention) check() error {
	if p.KeepLast < 0 || p.KeepDays < 0 || p.KeepVerifiedMin < 0 {
		return errors.New("retention numbers must not be negative")
	}
	if p.KeepLast == 0 && p.KeepDays == 0 {
		return errors.New("retention keeps nothing: set keep_last (--keep-last) or keep_days (--keep-days)")
	}
	return nil
}

// staleTmpAge is when an unfinished .tmp-<ID> directory is surely left by
// a crash rather than a backup still running.
const staleTmpAge = 24 * time.Hour

// PrunePlan returns what Prune would remove, changing nothing: IDs of
// backups, and names of .tmp- directories left by crashes over a day ago.
// Broken backup directories are never removed automatically.
func PrunePlan(dir string, p Retention, now time.Time) ([]string, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	ms, err := List(dir)
	if err != nil {
		return nil, err
	}
	keepVerified := max(p.KeepVerifiedMin, 1)
	var remove []string
	verifiedSeen := 0
	for i, m := range ms {
		keep := i < p.KeepLast || now.Sub(m.Created) < time.Duration(p.KeepDays)*24*time.Hour
		if m.Verified != nil && m.Verified.OK {
			verifiedSeen++
			if verifiedSeen <= keepVerified {
				keep = true
			}
		}
		if !keep {
			remove = append(remove, m.ID)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		id, ok := strings.CutPrefix(name, tmpPrefix)
		if !ok || len(id) < len(idLayout) {
			continue
		}
		created, err := time.Parse(idLayout, id[:len(idLayout)])
		if err == nil && now.Sub(created) > staleTmpAge {
			remove = append(remove, name)
		}
	}
	return remove, nil
}

// Prune removes the backups Retention does not keep and returns their IDs.
func Prune(dir string, p Retention, now time.Time) (removed []string, err error) {
	plan, err := PrunePlan(dir, p, now)
	if err != nil {
		return nil, err
	}
	for _, name := range plan {
		path := filepath.Join(dir, name)
		if !strings.HasPrefix(name, tmpPrefix) {
			// Renamed first, so a crash mid-removal leaves an
			// "incomplete" directory, not a backup with files missing.
			doomed := filepath.Join(dir, tmpPrefix+name+"-pruned")
			if err := os.Rename(path, doomed); err != nil {
				return removed, fmt.Errorf("prune %s: %w", name, err)
			}
			path = doomed
		}
		if err := os.RemoveAll(path); err != nil {
			return removed, fmt.Errorf("prune %s: %w", name, err)
		}
		removed = append(removed, name)
	}
	return removed, nil
}
