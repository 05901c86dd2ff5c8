package backup

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
)

// checkFiles compares every file of a backup with its recorded sha256.
func checkFiles(dir string, m *Manifest) []string {
	var problems []string
	for _, f := range []struct{ name, sum string }{
		{m.DumpFile, m.DumpSHA256}, {m.StorageFile, m.StorageSHA256}, {m.EnvFile, m.EnvSHA256},
	} {
		if f.name == "" {
			continue
		}
		got, err := fileSHA256(filepath.Join(dir, f.name))
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", f.name, err))
		case got != f.sum:
			problems = append(problems, fmt.Sprintf("%s: sha256 mismatch (file changed or corrupted since the backup was made): manifest %s, file %s", f.name, f.sum, got))
		}
	}
	return problems
}

// listDump reads the archive's table of contents (pg_restore --list) and
// returns how many TABLE DATA entries it has.
func listDump(ctx context.Context, o *Options, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var out bytes.Buffer
	if err := runTool(o.tool(ctx, "", "pg_restore", "--list"), f, &out, ""); err != nil {
		return 0, err
	}
	n := 0
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if bytes.Contains(sc.Bytes(), []byte(" TABLE DATA ")) {
			n++
		}
	}
	return n, sc.Err()
}

// restoreDump runs pg_restore from the archive at path into the existing
// database conn points at, stopping at the first error.
func restoreDump(ctx context.Context, o *Options, path, conn string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return runTool(o.tool(ctx, conn, "pg_restore", "--exit-on-error"), f, nil, conn)
}

// scratchName returns "<db>_<kind>_<random>", cut to PostgreSQL's 63-byte
// identifier limit.
func scratchName(db, kind string) string {
	suffix := "_" + kind + "_" + randomHex(3)
	if len(db)+len(suffix) > 63 {
		db = db[:63-len(suffix)]
	}
	return db + suffix
}

// createDatabase creates an empty database like the one in the manifest
// (encoding, locale, owner when that role exists).
func createDatabase(ctx context.Context, admin *pgx.Conn, name string, m *Manifest) error {
	sql := "CREATE DATABASE " + ident(name) + " TEMPLATE template0"
	if m.Encoding != "" {
		sql += " ENCODING " + literal(m.Encoding)
	}
	if m.Collate != "" {
		sql += " LC_COLLATE " + literal(m.Collate)
	}
	if m.Ctype != "" {
		sql += " LC_CTYPE " + literal(m.Ctype)
	}
	if m.DatabaseOwner != "" {
		var exists bool
		if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, m.DatabaseOwner).Scan(&exists); err != nil {
			return err
		}
		if exists {
			sql += " OWNER " + ident(m.DatabaseOwner)
		}
	}
	if _, err := admin.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// dropDatabase drops name, disconnecting its sessions first. It runs even
// when ctx is already cancelled: scratch databases must not pile up.
func dropDatabase(ctx context.Context, admin *pgx.Conn, name string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// compareStats lists every difference between the manifest and the data
// found in a restored database.
func compareStats(m *Manifest, s *dbStats) []string {
	var problems []string
	for _, t := range sortedKeys(m.TableChecksums) {
		got, ok := s.sums[t]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("table %s is missing after restore", t))
		case s.counts[t] != m.RowCounts[t]:
			problems = append(problems, fmt.Sprintf("table %s: %d rows after restore, %d in the backup", t, s.counts[t], m.RowCounts[t]))
		case got != m.TableChecksums[t]:
			problems = append(problems, fmt.Sprintf("table %s: checksum %s after restore, %s in the backup", t, got, m.TableChecksums[t]))
		}
	}
	for _, t := range sortedKeys(s.sums) {
		if _, ok := m.TableChecksums[t]; !ok {
			problems = append(problems, fmt.Sprintf("table %s exists after restore but not in the backup", t))
		}
	}
	if s.maxMigration != m.MaxSchemaMigration {
		problems = append(problems, fmt.Sprintf("max schema migration %s after restore, %s in the backup", orNone(s.maxMigration), orNone(m.MaxSchemaMigration)))
	}
	if m.SchemaChecksum != "" && s.schema != m.SchemaChecksum {
		problems = append(problems, fmt.Sprintf("schema (columns, constraints, indexes, views, triggers or sequences) differs after restore: checksum %s, %s in the backup", s.schema, m.SchemaChecksum))
	}
	return problems
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// statsOf reads counts and checksums of database name on conn's server.
func statsOf(ctx context.Context, conn, name string) (*dbStats, error) {
	target, err := withDatabase(conn, name)
	if err != nil {
		return nil, err
	}
	var s *dbStats
	err = readOnlySnapshot(ctx, target, func(tx pgx.Tx) (err error) {
		s, err = collectStats(ctx, tx)
		return err
	})
	return s, err
}
