package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Restore puts backup id back: the database named by o.DatabaseURL, and
// the storage directory and .env when the backup has them and o names
// where they go. Chatwoot (web and Sidekiq) must be stopped: sessions
// still connected to the database are terminated.
//
// The database is restored into a new database <db>_wgrestore_<random>
// first and compared with the manifest's checksums there; only then is the
// current database renamed to <db>_wgold_<time>, the new one renamed to
// <db>, and the old one dropped. Nothing left over from the current
// database survives (unlike pg_restore --clean, which keeps tables the
// dump does not know, e.g. from a failed migration), and a failed restore
// leaves the current database as it was.
//
// Files are put in place the same way: the previous content is moved
// aside to <path>.wgold-<time>, never deleted.
func Restore(ctx context.Context, o Options, id string) error {
	m, err := Load(o.Dir, id)
	if err != nil {
		return err
	}
	if m.Verified != nil && !m.Verified.OK {
		return fmt.Errorf("backup %s failed verification at %s (%s); refusing to restore it",
			id, m.Verified.At.Format(time.RFC3339), strings.Join(m.Verified.Problems, "; "))
	}
	dir := filepath.Join(o.Dir, id)
	if problems := checkFiles(dir, m); len(problems) > 0 {
		return fmt.Errorf("backup %s is damaged, nothing restored: %s", id, strings.Join(problems, "; "))
	}
	target, err := DatabaseName(o.DatabaseURL)
	if err != nil {
		return err
	}
	stamp := o.now().Format(idLayout)
	if err := restoreDatabase(ctx, &o, m, dir, target, stamp); err != nil {
		return err
	}
	if m.StorageFile != "" {
		if o.StorageDir == "" {
			o.logf("backup %s: storage not restored (no storage directory given)", id)
		} else if err := restoreStorage(&o, filepath.Join(dir, m.StorageFile), o.StorageDir, stamp); err != nil {
			return fmt.Errorf("database restored, but storage was not: %w", err)
		}
	}
	if m.EnvFile != "" {
		if o.EnvFile == "" {
			o.logf("backup %s: .env not restored (no env file given)", id)
		} else if err := restoreEnv(&o, filepath.Join(dir, m.EnvFile), o.EnvFile, stamp); err != nil {
			return fmt.Errorf("database restored, but .env was not: %w", err)
		}
	}
	o.logf("backup %s: restore complete", id)
	return nil
}

func restoreDatabase(ctx context.Context, o *Options, m *Manifest, dir, target, stamp string) error {
	admin, err := adminConnect(ctx, o.DatabaseURL)
	if err != nil {
		return err
	}
	defer admin.Close(context.Background())
	fresh := scratchName(target, "wgrestore")
	if err := createDatabase(ctx, admin, fresh, m); err != nil {
		return err
	}
	swapped := false
	defer func() {
		if !swapped {
			if err := dropDatabase(ctx, admin, fresh); err != nil {
				o.logf("backup %s: warning: %v", m.ID, err)
			}
		}
	}()
	freshConn, err := withDatabase(o.DatabaseURL, fresh)
	if err != nil {
		return err
	}
	o.logf("backup %s: restoring into new database %s", m.ID, fresh)
	if err := restoreDump(ctx, o, filepath.Join(dir, m.DumpFile), freshConn); err != nil {
		return fmt.Errorf("restore failed, database %s left untouched: %w", target, err)
	}
	s, err := statsOf(ctx, o.DatabaseURL, fresh)
	if err != nil {
		return err
	}
	if problems := compareStats(m, s); len(problems) > 0 {
		return fmt.Errorf("restored data differs from the backup, database %s left untouched: %s", target, strings.Join(problems, "; "))
	}
	o.logf("backup %s: %d tables match the backup; swapping databases", m.ID, len(s.sums))
	old := scratchName(target, "wgold_"+strings.ToLower(stamp))
	hadOld, err := swapDatabases(ctx, admin, target, fresh, old, &swapped)
	if err != nil {
		return err
	}
	swapped = true
	if hadOld {
		if err := dropDatabase(ctx, admin, old); err != nil {
			o.logf("backup %s: warning: previous database kept as %s: %v", m.ID, old, err)
		}
	}
	return nil
}

// swapDatabases renames target to old (if it exists) and fresh to target.
// If the second rename fails the first is undone; if that fails too,
// keepFresh is set, since fresh then holds the only good copy under a
// name the caller must not drop.
func swapDatabases(ctx context.Context, admin *pgx.Conn, target, fresh, old string, keepFresh *bool) (hadOld bool, err error) {
	ctx = context.WithoutCancel(ctx) // half a swap is worse than a late one
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, target).Scan(&hadOld); err != nil {
		return false, err
	}
	if hadOld {
		if err := renameAway(ctx, admin, target, old); err != nil {
			return false, err
		}
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident(fresh)+" RENAME TO "+ident(target)); err != nil {
		if hadOld {
			if _, undoErr := admin.Exec(ctx, "ALTER DATABASE "+ident(old)+" RENAME TO "+ident(target)); undoErr != nil {
				*keepFresh = true
				return false, fmt.Errorf("rename %s to %s: %v; putting the previous database back failed too (%v): it is named %s, the restored data is in %s", fresh, target, err, undoErr, old, fresh)
			}
			admin.Exec(ctx, "ALTER DATABASE "+ident(target)+" ALLOW_CONNECTIONS true")
		}
		return false, fmt.Errorf("rename %s to %s: %w (previous database left in place)", fresh, target, err)
	}
	return hadOld, nil
}

// renameAway closes database name to new connections, ends the sessions
// still in it and renames it. A session can slip in between, so it tries
// a few times.
func renameAway(ctx context.Context, admin *pgx.Conn, name, newName string) error {
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident(name)+" ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("close database %s to new connections: %w", name, err)
	}
	var err error
	for range 5 {
		_, err = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`, name)
		if err != nil {
			break
		}
		if _, err = admin.Exec(ctx, "ALTER DATABASE "+ident(name)+" RENAME TO "+ident(newName)); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond) // terminated backends take a moment to exit
	}
	admin.Exec(ctx, "ALTER DATABASE "+ident(name)+" ALLOW_CONNECTIONS true")
	return fmt.Errorf("move current database %s aside (is Chatwoot still running?): %w", name, err)
}

// restoreStorage unpacks archive next to dest, then swaps it in; the
// previous dest is kept as dest.wgold-<stamp>.
func restoreStorage(o *Options, archive, dest, stamp string) error {
	dest = filepath.Clean(dest)
	fresh := dest + ".wgnew-" + stamp + "-" + randomHex(3)
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := extractArchive(f, fresh); err != nil {
		os.RemoveAll(fresh)
		return err
	}
	if err := moveAside(dest, stamp); err != nil {
		os.RemoveAll(fresh)
		return err
	}
	if err := os.Rename(fresh, dest); err != nil {
		return err
	}
	o.logf("storage restored to %s", dest)
	return nil
}

// restoreEnv writes the saved .env to dest (mode 0600); the previous file
// is kept as dest.wgold-<stamp>.
func restoreEnv(o *Options, saved, dest, stamp string) error {
	data, err := os.ReadFile(saved)
	if err != nil {
		return err
	}
	fresh := dest + ".wgnew-" + stamp + "-" + randomHex(3)
	if err := writeFileSync(fresh, data, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(fresh, 0o600); err != nil {
		return err
	}
	if err := moveAside(dest, stamp); err != nil {
		os.Remove(fresh)
		return err
	}
	if err := os.Rename(fresh, dest); err != nil {
		return err
	}
	o.logf(".env restored to %s", dest)
	return nil
}

// moveAside renames path to path.wgold-<stamp> (or -2, -3, ... when two
// restores happen within a second), if path exists.
func moveAside(path, stamp string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	aside := path + ".wgold-" + stamp
	for i := 2; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s.wgold-%s-%d", path, stamp, i)
	}
	return os.Rename(path, aside)
}
