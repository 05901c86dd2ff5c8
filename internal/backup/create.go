package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
)

// Create makes a backup in o.Dir and returns its manifest. The dump, the
// row counts and the table checksums come from one database snapshot
// (pg_dump --snapshot), so they agree even while Chatwoot keeps writing.
// Everything is written under Dir/.tmp-<ID> and renamed to Dir/<ID> only
// when complete.
func Create(ctx context.Context, o Options) (*Manifest, error) {
	if o.Dir == "" {
		return nil, errors.New("no backup directory given")
	}
	dbName, err := DatabaseName(o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	now := o.now()
	m := &Manifest{ID: newID(now), Created: now, Label: o.Label, Database: dbName}
	if src, err := SourceOf(o.DatabaseURL); err == nil {
		m.Source = src
	}
	tmp := filepath.Join(o.Dir, tmpPrefix+m.ID)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()

	if m.PgDumpVersion, err = o.toolVersion(ctx, "pg_dump"); err != nil {
		return nil, fmt.Errorf("pg_dump not usable (install the PostgreSQL client of the server's major version, or set a tool prefix to run it in the database container): %w", err)
	}
	o.logf("backup %s: dumping database %s with %s", m.ID, dbName, m.PgDumpVersion)
	if err := dumpDatabase(ctx, &o, m, filepath.Join(tmp, dumpName)); err != nil {
		return nil, err
	}
	o.logf("backup %s: database dump %d bytes, %d tables, schema migration %s", m.ID, m.DumpSize, len(m.RowCounts), orNone(m.MaxSchemaMigration))
	if err := saveStorage(&o, m, tmp); err != nil {
		return nil, err
	}
	if err := saveEnv(&o, m, tmp); err != nil {
		return nil, err
	}
	if err := writeManifest(tmp, m); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(o.Dir, m.ID)); err != nil {
		return nil, err
	}
	done = true
	if err := syncDir(o.Dir); err != nil {
		return nil, err
	}
	o.logf("backup %s: complete in %s", m.ID, filepath.Join(o.Dir, m.ID))
	return m, nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// dumpDatabase runs pg_dump into path and fills the database part of m.
func dumpDatabase(ctx context.Context, o *Options, m *Manifest, path string) error {
	conn, err := connect(ctx, o.DatabaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	err = conn.QueryRow(ctx, `SELECT current_setting('server_version'), pg_get_userbyid(d.datdba),
			pg_encoding_to_char(d.encoding), d.datcollate, d.datctype
		FROM pg_database d WHERE d.datname = current_database()`).
		Scan(&m.ServerVersion, &m.DatabaseOwner, &m.Encoding, &m.Collate, &m.Ctype)
	if err != nil {
		return fmt.Errorf("read database properties: %w", err)
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	var snapshot string
	if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
		return fmt.Errorf("export snapshot: %w", err)
	}

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	out := newHashingWriter(f)
	dumpCtx, cancelDump := context.WithCancel(ctx)
	defer cancelDump()
	dumpDone := make(chan error, 1)
	go func() {
		cmd := o.tool(dumpCtx, o.DatabaseURL, "pg_dump", "--format=custom", "--snapshot="+snapshot)
		dumpDone <- runTool(cmd, nil, out, o.DatabaseURL)
	}()
	// Counting and checksumming inside the exporting transaction sees
	// exactly the data pg_dump is writing; it also keeps the snapshot
	// alive until pg_dump has imported it.
	stats, statsErr := collectStats(ctx, tx)
	if statsErr != nil {
		cancelDump()
	}
	dumpErr := <-dumpDone
	if statsErr != nil {
		return statsErr
	}
	if dumpErr != nil {
		return dumpErr
	}
	if err := f.Sync(); err != nil {
		return err
	}
	m.DumpFile, m.DumpSize, m.DumpSHA256 = dumpName, out.n, out.sum()
	m.RowCounts, m.TableChecksums, m.MaxSchemaMigration = stats.counts, stats.sums, stats.maxMigration
	m.SchemaChecksum = stats.schema
	return f.Close()
}

// saveStorage archives o.StorageDir into dir, unless unset or empty.
func saveStorage(o *Options, m *Manifest, dir string) error {
	if o.StorageDir == "" {
		return nil
	}
	st, err := os.Stat(o.StorageDir)
	if err != nil {
		return fmt.Errorf("storage directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("storage directory %s is not a directory", o.StorageDir)
	}
	if empty, err := dirIsEmpty(o.StorageDir); err != nil {
		return err
	} else if empty {
		o.logf("backup %s: storage directory %s is empty, not archived", m.ID, o.StorageDir)
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dir, storageName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	out := newHashingWriter(f)
	entries, skipped, err := archiveDir(o.StorageDir, out)
	if err != nil {
		return fmt.Errorf("archive storage directory: %w", err)
	}
	for _, s := range skipped {
		o.logf("backup %s: skipped %s (not a file, directory or symlink)", m.ID, s)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	m.StorageFile, m.StorageSize, m.StorageSHA256 = storageName, out.n, out.sum()
	o.logf("backup %s: storage %d entries, %d bytes", m.ID, entries, out.n)
	return f.Close()
}

// saveEnv copies o.EnvFile with mode 0600: it holds SECRET_KEY_BASE and
// the Active Record encryption keys, without which a restored database
// cannot decrypt its MFA secrets.
func saveEnv(o *Options, m *Manifest, dir string) error {
	if o.EnvFile == "" {
		return nil
	}
	data, err := os.ReadFile(o.EnvFile)
	if err != nil {
		return fmt.Errorf("env file: %w", err)
	}
	path := filepath.Join(dir, envName)
	if err := writeFileSync(path, data, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(path, 0o600); err != nil { // whatever the umask
		return err
	}
	sum := sha256.Sum256(data)
	m.EnvFile, m.EnvSHA256 = envName, hex.EncodeToString(sum[:])
	o.logf("backup %s: .env copied (%d bytes, mode 0600)", m.ID, len(data))
	return nil
}

// hashingWriter counts and sha256-hashes what passes through it.
type hashingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func newHashingWriter(w io.Writer) *hashingWriter { return &hashingWriter{w: w, h: sha256.New()} }

func (hw *hashingWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

func (hw *hashingWriter) sum() string { return hex.EncodeToString(hw.h.Sum(nil)) }

// fileSHA256 returns the sha256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
