package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/wootguard/wootguard/internal/pgtest"
)

// seededDB returns the URL of a fresh database holding testdata/chatwoot_seed.sql.
func seededDB(t testing.TB) string {
	t.Helper()
	url := pgtest.NewDB(t)
	seed, err := os.ReadFile("testdata/chatwoot_seed.sql")
	if err != nil {
		t.Fatal(err)
	}
	execSQL(t, url, string(seed))
	return url
}

func execSQL(t testing.TB, url, sql string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	// No arguments: pgx uses the simple protocol, which allows several statements.
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("exec %.60q: %v", sql, err)
	}
}

func queryStrings(t testing.TB, url, sql string, args ...any) []string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// leftoverDatabases lists scratch databases Verify/Restore should have dropped.
func leftoverDatabases(t testing.TB, url string) []string {
	db, err := DatabaseName(url)
	if err != nil {
		t.Fatal(err)
	}
	return queryStrings(t, url, `SELECT datname FROM pg_database WHERE datname LIKE $1 || '\_wg%'`, db)
}

// makeStorage builds a storage/ tree like Active Storage's, with modes and
// symlinks that must survive a round trip.
func makeStorage(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "storage")
	files := []struct {
		path string
		mode fs.FileMode
		data string
	}{
		{"ab/cd/abcd1234", 0o640, "PNG\x00\x01 not really an image"},
		{"ab/cd/abcd5678", 0o600, strings.Repeat("attachment ", 1000)},
		{"ef/01/ef01", 0o644, ""},
		{"tools/convert.sh", 0o755, "#!/bin/sh\necho hi\n"},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, f.mode)
	}
	must(t, os.Mkdir(filepath.Join(dir, "empty"), 0o750))
	must(t, os.Chmod(filepath.Join(dir, "empty"), 0o750))
	must(t, os.Chmod(filepath.Join(dir, "ef"), 0o710))
	must(t, os.Symlink("ab/cd/abcd1234", filepath.Join(dir, "latest")))
	must(t, os.Symlink("/etc/hostname", filepath.Join(dir, "outside")))
	must(t, os.Symlink("missing-target", filepath.Join(dir, "dangling")))
	return dir
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// tree describes every entry below dir: type, permission bits, and the
// content's sha256 or the link target.
func tree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		desc := info.Mode().String()
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			desc += " " + hex.EncodeToString(sum[:])
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeEnv(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), ".env")
	must(t, os.WriteFile(p, []byte(content), 0o644))
	must(t, os.Chmod(p, 0o644))
	return p
}

const envContent = "SECRET_KEY_BASE=5f1c0ffee\nACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY=pk-secret\nPOSTGRES_PASSWORD=hunter2\n"

func TestCreateVerifyMutateRestore(t *testing.T) {
	ctx := context.Background()
	url := seededDB(t)
	storage := makeStorage(t)
	envFile := writeEnv(t, envContent)
	var log strings.Builder
	o := Options{DatabaseURL: url, Dir: filepath.Join(t.TempDir(), "backups"), StorageDir: storage,
		EnvFile: envFile, Label: "pre-update v4.15.1 -> v4.18.0", Log: &log}
	originalTree := tree(t, storage)

	m, err := Create(ctx, o)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !idPattern.MatchString(m.ID) {
		t.Errorf("ID %q does not have the sortable form", m.ID)
	}
	// The manifest's numbers must agree with what PostgreSQL itself says.
	counts, err := RowCounts(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(m.RowCounts, counts) {
		t.Errorf("manifest row counts %v, count(*) says %v", m.RowCounts, counts)
	}
	for _, table := range []string{"public.accounts", "public.users", "public.conversations", "public.messages",
		"public.schema_migrations", "public.ar_internal_metadata", `reporting.Daily Events`} {
		if _, ok := m.TableChecksums[table]; !ok {
			t.Errorf("no checksum for %s (have %v)", table, sortedKeys(m.TableChecksums))
		}
		schema, name, _ := strings.Cut(table, ".")
		want := queryStrings(t, url, `SELECT coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text COLLATE "C")), md5(''))
			FROM `+ident(schema, name)+` t`)[0]
		if m.TableChecksums[table] != want {
			t.Errorf("%s: checksum %s, SQL md5(string_agg(...)) gives %s", table, m.TableChecksums[table], want)
		}
	}
	wantMigration := queryStrings(t, url, `SELECT max(version) FROM schema_migrations`)[0]
	if m.MaxSchemaMigration != wantMigration {
		t.Errorf("max schema migration %q, want %q", m.MaxSchemaMigration, wantMigration)
	}
	if m.EnvFile == "" || m.StorageFile == "" {
		t.Errorf("manifest does not record env (%q) and storage (%q)", m.EnvFile, m.StorageFile)
	}
	dir := filepath.Join(o.Dir, m.ID)
	if st, err := os.Stat(filepath.Join(dir, m.EnvFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf(".env copy: %v, mode %v, want 0600", err, st.Mode().Perm())
	}
	if strings.Contains(log.String(), "hunter2") || strings.Contains(log.String(), "5f1c0ffee") {
		t.Errorf("log shows a secret:\n%s", log.String())
	}
	if ms, err := List(o.Dir); err != nil || len(ms) != 1 || ms[0].ID != m.ID {
		t.Errorf("List = %v, %v; want just %s", ms, err, m.ID)
	}

	vm, err := Verify(ctx, o, m.ID)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if vm.Verified == nil || !vm.Verified.OK || vm.Verified.ScratchDB == "" {
		t.Errorf("verification not recorded as OK: %+v", vm.Verified)
	}
	if loaded, err := Load(o.Dir, m.ID); err != nil || loaded.Verified == nil || !loaded.Verified.OK {
		t.Errorf("manifest on disk after Verify: %+v, %v", loaded, err)
	}
	if left := leftoverDatabases(t, url); len(left) > 0 {
		t.Errorf("scratch databases left behind: %v", left)
	}

	// What a failed update leaves: changed rows, a dropped table, a new
	// table and migration, new files - and Chatwoot still connected.
	execSQL(t, url, `UPDATE messages SET content = 'edited' WHERE id % 7 = 0;
		DELETE FROM conversations WHERE id > 50 AND NOT EXISTS (SELECT 1 FROM messages WHERE conversation_id = conversations.id);
		DROP TABLE users;
		CREATE TABLE captain_assistant_responses (id bigserial PRIMARY KEY, answer text);
		INSERT INTO captain_assistant_responses (answer) VALUES ('from the new version');
		INSERT INTO schema_migrations VALUES ('20991231000000');
		ALTER TABLE accounts ADD COLUMN new_flag boolean DEFAULT true;`)
	must(t, os.WriteFile(filepath.Join(storage, "ab/cd/abcd1234"), []byte("overwritten"), 0o640))
	must(t, os.WriteFile(filepath.Join(storage, "new-upload"), []byte("new"), 0o644))
	must(t, os.WriteFile(envFile, []byte("SECRET_KEY_BASE=changed\n"), 0o644))
	app, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)

	if err := Restore(ctx, o, m.ID); err != nil {
		t.Fatalf("Restore: %v\nlog:\n%s", err, log.String())
	}
	got, err := TableChecksums(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, m.TableChecksums) {
		t.Errorf("after restore checksums differ:\n got %v\nwant %v", got, m.TableChecksums)
	}
	if _, ok := got["public.captain_assistant_responses"]; ok {
		t.Error("table created after the backup survived the restore")
	}
	if cols := queryStrings(t, url, `SELECT column_name::text FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'new_flag'`); len(cols) > 0 {
		t.Error("column added after the backup survived the restore")
	}
	if app.Ping(ctx) == nil {
		t.Error("the session connected to the old database still works; it should have been terminated")
	}
	if left := leftoverDatabases(t, url); len(left) > 0 {
		t.Errorf("databases left behind: %v", left)
	}
	if after := tree(t, storage); !maps.Equal(after, originalTree) {
		t.Errorf("storage after restore:\n got %v\nwant %v", after, originalTree)
	}
	if data, err := os.ReadFile(envFile); err != nil || string(data) != envContent {
		t.Errorf(".env after restore: %q, %v", data, err)
	}
	if st, err := os.Stat(envFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf(".env mode after restore: %v %v, want 0600", st.Mode().Perm(), err)
	}
	for _, p := range []string{storage, envFile} {
		aside, _ := filepath.Glob(p + ".wgold-*")
		if len(aside) != 1 {
			t.Errorf("previous %s not moved aside: %v", p, aside)
		}
	}
	if strings.Contains(log.String(), "hunter2") {
		t.Errorf("log shows a secret:\n%s", log.String())
	}
}

// damage changes a backup after it was made, the way disks, people and
// bugs do.
type damage func(t *testing.T, dir string, m *Manifest)

// flipByte inverts the byte at fraction at of the file.
func flipByte(t *testing.T, path string, at float64) {
	data, err := os.ReadFile(path)
	must(t, err)
	data[int(float64(len(data))*at)] ^= 0xff
	must(t, os.WriteFile(path, data, 0o600))
}

// rehashDump makes the manifest agree with a dump damaged before it was
// hashed (pg_dump or the disk wrote garbage): only a restore can tell.
func rehashDump(t *testing.T, dir string, m *Manifest) {
	path := filepath.Join(dir, m.DumpFile)
	sum, err := fileSHA256(path)
	must(t, err)
	st, err := os.Stat(path)
	must(t, err)
	rewriteManifest(t, dir, func(m *Manifest) { m.DumpSHA256, m.DumpSize = sum, st.Size() })
}

func rewriteManifest(t *testing.T, dir string, edit func(m *Manifest)) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	must(t, err)
	must(t, json.Unmarshal(data, &m))
	edit(&m)
	must(t, writeManifest(dir, &m))
}

func TestVerifyDetectsDamage(t *testing.T) {
	ctx := context.Background()
	url := seededDB(t)
	tests := []struct {
		name   string
		damage damage
		want   string // regexp every failure must match
	}{
		{"dump byte flipped", func(t *testing.T, dir string, m *Manifest) {
			flipByte(t, filepath.Join(dir, m.DumpFile), 0.5)
		}, `database\.pgdump: sha256 mismatch`},
		{"dump data corrupt when written", func(t *testing.T, dir string, m *Manifest) {
			// Table data sits in the last part of the archive, zlib-compressed.
			flipByte(t, filepath.Join(dir, m.DumpFile), 0.75)
			rehashDump(t, dir, m)
		}, `restore into scratch database failed: pg_restore: .*uncompress`},
		{"dump truncated when written", func(t *testing.T, dir string, m *Manifest) {
			path := filepath.Join(dir, m.DumpFile)
			must(t, os.Truncate(path, m.DumpSize*2/3))
			rehashDump(t, dir, m)
		}, `restore into scratch database failed: pg_restore: `},
		{"dump is not an archive", func(t *testing.T, dir string, m *Manifest) {
			must(t, os.WriteFile(filepath.Join(dir, m.DumpFile), []byte("-- plain SQL, not pg_dump -Fc\n"), 0o600))
			rehashDump(t, dir, m)
		}, `database\.pgdump is not a readable pg_dump archive: pg_restore: .*input file`},
		{"storage byte flipped", func(t *testing.T, dir string, m *Manifest) {
			flipByte(t, filepath.Join(dir, m.StorageFile), 0.5)
		}, `storage\.tar\.gz: sha256 mismatch`},
		{"env edited", func(t *testing.T, dir string, m *Manifest) {
			must(t, os.WriteFile(filepath.Join(dir, m.EnvFile), []byte("SECRET_KEY_BASE=other\n"), 0o600))
		}, `env: (sha256 mismatch|.*truncated or replaced)`},
		{"checksum in manifest wrong", func(t *testing.T, dir string, m *Manifest) {
			rewriteManifest(t, dir, func(m *Manifest) { m.TableChecksums["public.messages"] = strings.Repeat("0", 32) })
		}, `table public\.messages: checksum [0-9a-f]{32} after restore`},
		{"table missing from manifest", func(t *testing.T, dir string, m *Manifest) {
			rewriteManifest(t, dir, func(m *Manifest) { delete(m.TableChecksums, "public.users") })
		}, `table public\.users exists after restore but not in the backup`},
		{"migration in manifest wrong", func(t *testing.T, dir string, m *Manifest) {
			rewriteManifest(t, dir, func(m *Manifest) { m.MaxSchemaMigration = "20991231000000" })
		}, `max schema migration \d+ after restore, 20991231000000 in the backup`},
	}
	// One backup, copied afresh for every case.
	pristine := Options{DatabaseURL: url, Dir: t.TempDir(), StorageDir: makeStorage(t), EnvFile: writeEnv(t, envContent)}
	m, err := Create(ctx, pristine)
	must(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := pristine
			o.Dir = t.TempDir()
			dir := filepath.Join(o.Dir, m.ID)
			must(t, os.CopyFS(dir, os.DirFS(filepath.Join(pristine.Dir, m.ID))))
			tt.damage(t, dir, m)
			before := queryStrings(t, url, `SELECT count(*)::text FROM messages`)

			_, err = Verify(ctx, o, m.ID)
			var ve *VerifyError
			if err == nil || !regexp.MustCompile(tt.want).MatchString(err.Error()) {
				t.Fatalf("Verify error = %v, want one matching %q", err, tt.want)
			}
			if errors.As(err, &ve) {
				loaded, err := Load(o.Dir, m.ID)
				if err != nil || loaded.Verified == nil || loaded.Verified.OK || len(loaded.Verified.Problems) == 0 {
					t.Errorf("failed verification not recorded: %+v %v", loaded, err)
				}
			}
			if err := Restore(ctx, o, m.ID); err == nil {
				t.Error("Restore of a damaged backup succeeded")
			}
			if left := leftoverDatabases(t, url); len(left) > 0 {
				t.Errorf("scratch databases left behind: %v", left)
			}
			if after := queryStrings(t, url, `SELECT count(*)::text FROM messages`); after[0] != before[0] {
				t.Errorf("source database changed by a failed verify/restore: %s -> %s messages", before[0], after[0])
			}
		})
	}
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	ctx := context.Background()
	url := seededDB(t)
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"storage dir missing", Options{DatabaseURL: url, StorageDir: "/nonexistent/storage"}, "storage directory"},
		{"env file missing", Options{DatabaseURL: url, EnvFile: "/nonexistent/.env"}, "env file"},
		{"database missing", Options{DatabaseURL: strings.Replace(url, "wgtest_", "nosuchdb_", 1)}, "does not exist"},
		{"pg_dump missing", Options{DatabaseURL: url, ToolPrefix: []string{"/nonexistent/bin/env"}}, "pg_dump not usable"},
		{"no database url", Options{}, "no database URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Dir = t.TempDir()
			_, err := Create(ctx, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Create error = %v, want one containing %q", err, tt.want)
			}
			entries, _ := os.ReadDir(tt.o.Dir)
			if len(entries) != 0 {
				t.Errorf("failed Create left %v in the repository", entries)
			}
		})
	}
}

func TestRestoreIntoMissingDatabase(t *testing.T) {
	// A rollback onto a server where the database is gone must still work.
	ctx := context.Background()
	url := seededDB(t)
	o := Options{DatabaseURL: url, Dir: t.TempDir()}
	m, err := Create(ctx, o)
	must(t, err)
	db, _ := DatabaseName(url)
	execSQL(t, pgtest.ServerURL(t), "DROP DATABASE "+ident(db)+" WITH (FORCE)")
	must(t, Restore(ctx, o, m.ID))
	got, err := TableChecksums(ctx, url)
	must(t, err)
	if !maps.Equal(got, m.TableChecksums) {
		t.Errorf("checksums after restore differ: %v vs %v", got, m.TableChecksums)
	}
}

// A restore whose result does not match the manifest must leave the
// current database exactly as it was: never no database, never half one.
func TestRestoreMismatchLeavesDatabaseUntouched(t *testing.T) {
	ctx := context.Background()
	url := seededDB(t)
	o := Options{DatabaseURL: url, Dir: t.TempDir()}
	m, err := Create(ctx, o)
	must(t, err)
	rewriteManifest(t, filepath.Join(o.Dir, m.ID), func(m *Manifest) { m.RowCounts["public.accounts"] = 99 })
	execSQL(t, url, `CREATE TABLE after_backup (id int); INSERT INTO after_backup VALUES (1)`)
	before, err := TableChecksums(ctx, url)
	must(t, err)

	err = Restore(ctx, o, m.ID)
	if err == nil || !strings.Contains(err.Error(), "public.accounts: 3 rows after restore, 99 in the backup") ||
		!strings.Contains(err.Error(), "left untouched") {
		t.Fatalf("Restore error = %v, want a row count mismatch that leaves the database untouched", err)
	}
	after, err := TableChecksums(ctx, url)
	must(t, err)
	if !maps.Equal(before, after) {
		t.Errorf("database changed by a refused restore:\nbefore %v\nafter  %v", before, after)
	}
	if left := leftoverDatabases(t, url); len(left) > 0 {
		t.Errorf("databases left behind: %v", left)
	}
}

// With a tool prefix (docker compose exec -T postgres in production) the
// tools run through it and archives travel over stdin/stdout. A shell
// stands in for the container here and records what it was asked to run.
func TestToolPrefixRunsToolsThroughIt(t *testing.T) {
	ctx := context.Background()
	url := seededDB(t)
	calls := filepath.Join(t.TempDir(), "calls")
	o := Options{DatabaseURL: url, Dir: t.TempDir(),
		ToolPrefix: []string{"sh", "-c", `echo "$1" >> "$0"; exec "$@"`, calls}}
	m, err := Create(ctx, o)
	must(t, err)
	if _, err := Verify(ctx, o, m.ID); err != nil {
		t.Fatalf("Verify through the prefix: %v", err)
	}
	must(t, Restore(ctx, o, m.ID))
	data, err := os.ReadFile(calls)
	must(t, err)
	if got := strings.Fields(string(data)); !slices.Equal(got, []string{"pg_dump", "pg_dump", "pg_restore", "pg_restore", "pg_restore"}) {
		t.Errorf("tools run through the prefix: %q, want pg_dump --version, pg_dump, pg_restore --list and two restores", got)
	}
}
