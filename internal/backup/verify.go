package backup

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// VerifyError is returned when a backup fails verification; the same
// problems are recorded in its manifest.
type VerifyError struct {
	ID       string
	Problems []string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("backup %s failed verification: %s", e.ID, strings.Join(e.Problems, "; "))
}

// Verify proves that backup id restores to the data it recorded: it checks
// the sha256 of every file, reads the dump's table of contents, restores
// it into a scratch database <db>_wgverify_<random> on the server of
// o.DatabaseURL (the source database is not touched), compares row counts,
// table checksums and the max schema migration, and drops the scratch
// database again, also on failure. The verdict is recorded in the
// manifest. A backup that fails returns the manifest and a *VerifyError;
// other errors (server unreachable, no right to create databases) record
// nothing.
func Verify(ctx context.Context, o Options, id string) (*Manifest, error) {
	m, err := Load(o.Dir, id)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(o.Dir, id)
	v := &Verification{}
	v.Problems = checkFiles(dir, m)
	if len(v.Problems) == 0 {
		o.logf("backup %s: sha256 of every file matches", id)
		problems, err := verifyRestore(ctx, &o, m, dir, v)
		if err != nil {
			return m, err
		}
		v.Problems = problems
	}
	v.At, v.OK = o.now(), len(v.Problems) == 0
	m.Verified = v
	if err := writeManifest(dir, m); err != nil {
		return m, fmt.Errorf("record verification: %w", err)
	}
	if !v.OK {
		return m, &VerifyError{ID: id, Problems: v.Problems}
	}
	o.logf("backup %s: verified (%d tables match)", id, len(m.TableChecksums))
	return m, nil
}

// verifyRestore restores the dump into a scratch database and returns what
// differs from the manifest.
func verifyRestore(ctx context.Context, o *Options, m *Manifest, dir string, v *Verification) ([]string, error) {
	dump := filepath.Join(dir, m.DumpFile)
	n, err := listDump(ctx, o, dump)
	if err != nil {
		return []string{fmt.Sprintf("%s is not a readable pg_dump archive: %v", m.DumpFile, err)}, nil
	}
	o.logf("backup %s: archive readable, %d table data entries", m.ID, n)
	admin, err := adminConnect(ctx, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close(context.Background())
	v.ScratchDB = scratchName(m.Database, "wgverify")
	if err := createDatabase(ctx, admin, v.ScratchDB, m); err != nil {
		return nil, err
	}
	defer func() {
		if err := dropDatabase(ctx, admin, v.ScratchDB); err != nil {
			o.logf("backup %s: warning: %v", m.ID, err)
		}
	}()
	scratch, err := withDatabase(o.DatabaseURL, v.ScratchDB)
	if err != nil {
		return nil, err
	}
	o.logf("backup %s: restoring into scratch database %s", m.ID, v.ScratchDB)
	if err := restoreDump(ctx, o, dump, scratch); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return []string{fmt.Sprintf("restore into scratch database failed: %v", err)}, nil
	}
	s, err := statsOf(ctx, o.DatabaseURL, v.ScratchDB)
	if err != nil {
		return nil, err
	}
	return compareStats(m, s), nil
}
