package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wootguard/wootguard/internal/backup"
	"github.com/wootguard/wootguard/internal/config"
)

func init() {
	register(&command{Name: "backup create", Summary: "back up the Chatwoot database, storage/ and .env", Run: runBackupCreate})
	register(&command{Name: "backup list", Summary: "list the backups in a backup directory", Run: runBackupList})
	register(&command{Name: "backup verify", Summary: "prove a backup restores: restore into a scratch DB and compare", Run: runBackupVerify})
	register(&command{Name: "backup restore", Summary: "replace the database (and storage/, .env) with a backup", Run: runBackupRestore})
	register(&command{Name: "backup prune", Summary: "delete old backups, always keeping the newest verified one", Run: runBackupPrune})
}

// backupStdin is where restore reads its confirmation; tests replace it.
var backupStdin = func() (in io.Reader, terminal bool) { return os.Stdin, isTerminal(os.Stdin) }

const backupConfigHelp = `

Settings come from the flags, else from the updates.backup section of
--config FILE (keys dir, database_url, storage_dir, env_file, tool_prefix,
retention.keep_last, retention.keep_days, retention.keep_verified_min),
else from the environment: DATABASE_URL, or Chatwoot's POSTGRES_HOST,
POSTGRES_PORT, POSTGRES_USERNAME, POSTGRES_PASSWORD, POSTGRES_DATABASE.
verify and restore fall back to the database the backup came from (host,
port, database and user are in its manifest; never the password, which
then comes from PGPASSWORD or ~/.pgpass) and say so. create checks
--storage, --env-file, the free space of --dir and the database connection
before it dumps anything.`

// backupFlags are the flags most backup subcommands share.
type backupFlags struct {
	config, dir, databaseURL, storage, envFile, toolPrefix *string
}

func addBackupFlags(fs *flag.FlagSet, withFiles bool) *backupFlags {
	f := &backupFlags{
		config:      fs.String("config", "", "wootguard config `FILE` (section updates.backup)"),
		dir:         fs.String("dir", "", "backup repository `DIR` (one subdirectory per backup)"),
		databaseURL: fs.String("database-url", "", "Chatwoot database `URL`, e.g. postgres://postgres:PASS@127.0.0.1:5432/chatwoot_production (default $DATABASE_URL or POSTGRES_*)"),
		toolPrefix:  fs.String("tool-prefix", "", "run pg_dump/pg_restore through this `COMMAND`, e.g. \"docker compose exec -T postgres\" (default: run them locally)"),
	}
	if withFiles {
		f.storage = fs.String("storage", "", "Chatwoot storage/ `DIR` (default: not included)")
		f.envFile = fs.String("env-file", "", "Chatwoot .env `FILE`, kept with mode 0600 (default: not included)")
	}
	return f
}

// options merges flags, config file and environment (in that order of
// precedence). A non-nil error is a usage error.
func (f *backupFlags) options(env *cliEnv, needDB bool) (backup.Options, backup.Config, error) {
	var cfg backup.Config
	if *f.config != "" {
		if _, err := config.LoadSection(*f.config, "updates.backup", &cfg); err != nil {
			return backup.Options{}, cfg, err
		}
	}
	pick := func(flagValue *string, fromConfig string) string {
		if flagValue != nil && *flagValue != "" {
			return *flagValue
		}
		return fromConfig
	}
	o := backup.Options{
		Dir:         pick(f.dir, cfg.Dir),
		DatabaseURL: pick(f.databaseURL, cfg.DatabaseURL),
		StorageDir:  pick(f.storage, cfg.StorageDir),
		EnvFile:     pick(f.envFile, cfg.EnvFile),
		ToolPrefix:  cfg.ToolPrefix,
		Log:         env.Stderr,
	}
	if *f.toolPrefix != "" {
		o.ToolPrefix = strings.Fields(*f.toolPrefix)
	}
	if o.DatabaseURL == "" {
		o.DatabaseURL = backup.DatabaseURLFromEnv(env.Getenv)
	}
	if o.Dir == "" {
		return o, cfg, errors.New("no backup directory: pass --dir DIR (or set updates.backup.dir in --config)")
	}
	if needDB && o.DatabaseURL == "" {
		return o, cfg, errors.New(noDatabase)
	}
	return o, cfg, nil
}

const noDatabase = "no database: pass --database-url URL, or --config FILE with updates.backup.database_url, or set DATABASE_URL or POSTGRES_HOST/POSTGRES_DATABASE"

// databaseFromManifest fills in the database a backup came from when none
// was given, and says so; a backup that does not record it is a usage
// error naming every way to give one.
func databaseFromManifest(env *cliEnv, name string, o *backup.Options, id string) (code int, err error) {
	if o.DatabaseURL != "" {
		return 0, nil
	}
	m, err := backup.Load(o.Dir, id)
	if err != nil {
		return 1, err
	}
	if m.Source == nil {
		return 2, fmt.Errorf("%s (backup %s does not record where it came from: it predates that)", noDatabase, id)
	}
	o.DatabaseURL = m.Source.URL()
	fmt.Fprintf(env.Stderr, "wootguard %s: no database given: using the one backup %s came from (its manifest): %s; the password comes from PGPASSWORD or ~/.pgpass (or pass --database-url)\n",
		name, id, m.Source)
	return 0, nil
}

func backupUsageError(env *cliEnv, name string, err error) int {
	fmt.Fprintf(env.Stderr, "wootguard %s: %v\n", name, err)
	return 2
}

func backupFailure(env *cliEnv, name string, err error) int {
	fmt.Fprintf(env.Stderr, "wootguard %s: %v\n", name, err)
	return 1
}

// backupID takes the one positional argument: an ID or "latest".
func backupID(dir string, args []string) (string, error) {
	if len(args) != 1 {
		return "", errors.New("give exactly one backup ID (or \"latest\"); see 'wootguard backup list'")
	}
	if args[0] != "latest" {
		return args[0], backup.CheckID(args[0])
	}
	ms, err := backup.List(dir)
	if err != nil {
		return "", err
	}
	if len(ms) == 0 {
		return "", fmt.Errorf("no backups in %s", dir)
	}
	return ms[0].ID, nil
}

func runBackupCreate(ctx context.Context, env *cliEnv, args []string) int {
	const name = "backup create"
	fs := newFlagSet(env, name, "--dir DIR [--database-url URL] [--storage DIR] [--env-file FILE] [--label TEXT] [--verify]", `
Back up a Chatwoot deployment into a new directory DIR/<ID>: a pg_dump
(custom format) of the database, storage/ as a tar.gz (modes and symlinks
kept) and a copy of .env (mode 0600: it holds SECRET_KEY_BASE and the
encryption keys). manifest.json records the sha256 of every file, the
pg_dump and server versions, the row count and a checksum of every table,
and the newest schema migration, all from the same snapshot as the dump.

A backup appears only when complete: it is written to DIR/.tmp-<ID> and
renamed at the end. Progress goes to stderr; the backup ID is the last
line of stdout, so scripts can do  id=$(wootguard backup create ...).
With --verify the backup is restored into a scratch database and compared
before the command succeeds (see 'wootguard backup verify --help').

Example (docker compose; pg_dump runs inside the postgres container):
  wootguard backup create --dir /var/backups/chatwoot \
    --database-url postgres://postgres:PASS@127.0.0.1:5432/chatwoot_production \
    --tool-prefix "docker compose exec -T postgres" \
    --storage /var/lib/docker/volumes/chatwoot_storage_data/_data \
    --env-file /opt/chatwoot/.env --label "before v4.18.0" --verify

Exit codes: 0 backup made (and verified with --verify), 1 failure,
2 usage error.`+backupConfigHelp)
	f := addBackupFlags(fs, true)
	label := fs.String("label", "", "free `TEXT` stored with the backup, e.g. \"pre-update v4.15.1 -> v4.18.0\"")
	verify := fs.Bool("verify", false, "verify the new backup by restoring it into a scratch database")
	pos, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return backupUsageError(env, name, fmt.Errorf("unexpected argument %q", pos[0]))
	}
	o, _, err := f.options(env, true)
	if err != nil {
		return backupUsageError(env, name, err)
	}
	o.Label = *label
	if err := backup.Precheck(ctx, o); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard %s: nothing was dumped; fix first:\n", name)
		// One bullet per problem; a driver's multi-line text stays under its own.
		probs := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			probs = j.Unwrap()
		}
		for _, p := range probs {
			first, rest, _ := strings.Cut(p.Error(), "\n")
			fmt.Fprintf(env.Stderr, "  - %s\n", first)
			for _, line := range strings.Split(rest, "\n") {
				if strings.TrimSpace(line) != "" {
					fmt.Fprintf(env.Stderr, "    %s\n", strings.TrimSpace(line))
				}
			}
		}
		return 1
	}
	m, err := backup.Create(ctx, o)
	if err != nil {
		return backupFailure(env, name, err)
	}
	if *verify {
		if _, err := backup.Verify(ctx, o, m.ID); err != nil {
			fmt.Fprintln(env.Stdout, m.ID)
			return backupFailure(env, name, err)
		}
	}
	fmt.Fprintln(env.Stdout, m.ID)
	return 0
}

func runBackupList(ctx context.Context, env *cliEnv, args []string) int {
	const name = "backup list"
	fs := newFlagSet(env, name, "--dir DIR [--format text|json]", `
List the backups in DIR, newest first, with their size, contents and
verification state. Directories that look like backups but are not usable
(an interrupted create, a missing or truncated file, an unreadable
manifest) are not listed; a warning on stderr names each of them.

Example:
  wootguard backup list --dir /var/backups/chatwoot
  wootguard backup list --dir /var/backups/chatwoot --format json | jq '.[0].id'

Exit codes: 0 listed (also when empty or with warnings), 1 the directory
cannot be read, 2 usage error.`)
	configFile := fs.String("config", "", "wootguard config `FILE` (section updates.backup)")
	dir := fs.String("dir", "", "backup repository `DIR`")
	format := fs.String("format", "text", "output `FORMAT`: text or json (the manifests)")
	pos, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return backupUsageError(env, name, fmt.Errorf("unexpected argument %q", pos[0]))
	}
	if *format != "text" && *format != "json" {
		return backupUsageError(env, name, fmt.Errorf("--format must be text or json, not %q", *format))
	}
	empty := ""
	f := &backupFlags{config: configFile, dir: dir, databaseURL: &empty, toolPrefix: &empty}
	o, _, err := f.options(env, false)
	if err != nil {
		return backupUsageError(env, name, err)
	}
	ms, warnings, err := backup.ListWithWarnings(o.Dir)
	if err != nil {
		return backupFailure(env, name, err)
	}
	for _, w := range warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	if *format == "json" {
		if ms == nil {
			ms = []*backup.Manifest{}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ms); err != nil {
			return backupFailure(env, name, err)
		}
		return 0
	}
	if len(ms) == 0 {
		fmt.Fprintf(env.Stdout, "no backups in %s\n", o.Dir)
		return 0
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tDATABASE\tDUMP\tCONTENTS\tVERIFIED\tLABEL")
	for _, m := range ms {
		contents := []string{"db"}
		if m.StorageFile != "" {
			contents = append(contents, "storage")
		}
		if m.EnvFile != "" {
			contents = append(contents, ".env")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Created.Local().Format("2006-01-02 15:04"),
			m.Database, backupHumanBytes(m.DumpSize), strings.Join(contents, "+"), backupVerifiedState(m.Verified), m.Label)
	}
	tw.Flush()
	return 0
}

func backupVerifiedState(v *backup.Verification) string {
	switch {
	case v == nil:
		return "no"
	case v.OK:
		return "ok " + v.At.Local().Format("2006-01-02 15:04")
	default:
		return "FAILED " + v.At.Local().Format("2006-01-02 15:04")
	}
}

func backupHumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func runBackupVerify(ctx context.Context, env *cliEnv, args []string) int {
	const name = "backup verify"
	fs := newFlagSet(env, name, "--dir DIR [--database-url URL] ID|latest", `
Prove that a backup restores to the data it recorded:
  1. the sha256 of every file matches the manifest;
  2. pg_restore --list can read the dump;
  3. the dump is restored into a scratch database <db>_wgverify_<random>
     on the server of --database-url (the Chatwoot database itself is not
     touched; the user needs the CREATEDB right);
  4. row counts, table checksums, the schema and the newest schema
     migration are compared with the manifest;
  5. the scratch database is dropped, also when something failed.
The result is recorded in the backup's manifest ('backup list' shows it;
'backup prune' never deletes the newest verified backup, 'backup restore'
refuses a backup that failed).

Example:
  wootguard backup verify --dir /var/backups/chatwoot latest

Exit codes: 0 verified, 1 verification failed or could not run,
2 usage error.`+backupConfigHelp)
	f := addBackupFlags(fs, false)
	pos, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	o, _, err := f.options(env, false)
	if err != nil {
		return backupUsageError(env, name, err)
	}
	id, err := backupID(o.Dir, pos)
	if err != nil {
		return backupUsageError(env, name, err)
	}
	if code, err := databaseFromManifest(env, name, &o, id); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard %s: %v\n", name, err)
		return code
	}
	m, err := backup.Verify(ctx, o, id)
	if err != nil {
		return backupFailure(env, name, err)
	}
	fmt.Fprintf(env.Stdout, "backup %s verified: %d tables, newest migration %s\n", m.ID, len(m.TableChecksums), m.MaxSchemaMigration)
	return 0
}

func runBackupRestore(ctx context.Context, env *cliEnv, args []string) int {
	const name = "backup restore"
	fs := newFlagSet(env, name, "--dir DIR [--database-url URL] [--storage DIR] [--env-file FILE] [--yes] ID|latest", `
Replace the Chatwoot database with a backup (the rollback after a failed
update). Stop Chatwoot (web and Sidekiq) first: sessions still connected to
the database are terminated.

The backup is restored into a new database <db>_wgrestore_<random> and
compared with its manifest there. Only when everything matches is the
current database renamed away and dropped and the new one renamed to
<db>. Unlike pg_restore --clean, nothing of the current database survives
(tables a failed migration created are gone), and a failed restore leaves
the current database as it was.

With --storage and --env-file, storage/ and .env are put back as well;
what is there now is moved to <path>.wgold-<time>, not deleted. Without
them only the database is restored.

Confirmation: without --yes the command asks on the terminal, and you
type the database name. When stdin is not a terminal (cron, CI, scripts)
it refuses with exit code 2 unless --yes is given.

Example:
  docker compose stop rails sidekiq
  wootguard backup restore --dir /var/backups/chatwoot \
    --storage /var/lib/docker/volumes/chatwoot_storage_data/_data \
    --env-file /opt/chatwoot/.env 20261123T020000Z-4f2a
  docker compose start rails sidekiq

Exit codes: 0 restored, 1 failure (see the message for what was left
unchanged), 2 usage error or not confirmed.`+backupConfigHelp)
	f := addBackupFlags(fs, true)
	yes := fs.Bool("yes", false, "do not ask for confirmation (needed when not on a terminal)")
	pos, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	o, _, err := f.options(env, false)
	if err != nil {
		return backupUsageError(env, name, err)
	}
	id, err := backupID(o.Dir, pos)
	if err != nil {
		return backupUsageError(env, name, err)
	}
	if code, err := databaseFromManifest(env, name, &o, id); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard %s: %v\n", name, err)
		return code
	}
	m, err := backup.Load(o.Dir, id)
	if err != nil {
		return backupFailure(env, name, err)
	}
	if !*yes {
		if code, ok := backupConfirmRestore(env, o, m); !ok {
			return code
		}
	}
	if err := backup.Restore(ctx, o, id); err != nil {
		return backupFailure(env, name, err)
	}
	fmt.Fprintf(env.Stdout, "restored backup %s (%s)\n", id, m.Created.Local().Format("2006-01-02 15:04"))
	return 0
}

// confirmRestore asks for the database name on a terminal; it refuses
// (exit 2) when there is no terminal to ask on.
func backupConfirmRestore(env *cliEnv, o backup.Options, m *backup.Manifest) (code int, ok bool) {
	in, terminal := backupStdin()
	if !terminal {
		fmt.Fprintln(env.Stderr, "wootguard backup restore: refusing to replace the database without --yes when stdin is not a terminal")
		return 2, false
	}
	target := m.Database
	if u, err := backup.DatabaseName(o.DatabaseURL); err == nil {
		target = u
	}
	fmt.Fprintf(env.Stderr, "This REPLACES database %q with backup %s from %s (%s).\n",
		target, m.ID, m.Created.Local().Format("2006-01-02 15:04"), m.Label)
	if o.StorageDir != "" && m.StorageFile != "" {
		fmt.Fprintf(env.Stderr, "It also replaces %s (the current one is kept as %s.wgold-<time>).\n", o.StorageDir, o.StorageDir)
	}
	if o.EnvFile != "" && m.EnvFile != "" {
		fmt.Fprintf(env.Stderr, "It also replaces %s (the current one is kept as %s.wgold-<time>).\n", o.EnvFile, o.EnvFile)
	}
	fmt.Fprintf(env.Stderr, "Type the database name (%s) to continue: ", target)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil {
		fmt.Fprintln(env.Stderr)
	}
	if strings.TrimSpace(line) != target {
		fmt.Fprintln(env.Stderr, "not confirmed; nothing changed")
		return 2, false
	}
	return 0, true
}

func runBackupPrune(ctx context.Context, env *cliEnv, args []string) int {
	const name = "backup prune"
	fs := newFlagSet(env, name, "--dir DIR --keep-last N --keep-days D [--keep-verified N] [--dry-run]", `
Delete the backups no retention rule keeps. A backup is kept when it is
one of the N newest (--keep-last), younger than D days (--keep-days), or
one of the --keep-verified newest successfully verified backups. The
newest verified backup is ALWAYS kept, whatever the numbers: it is the one
a rollback needs. Give at least one of --keep-last and --keep-days.

Broken backup directories are never deleted automatically (they are
reported by 'backup list'); leftovers of interrupted creates (.tmp-*) are
deleted once they are a day old.

Example:
  wootguard backup prune --dir /var/backups/chatwoot --keep-last 7 --keep-days 14 --dry-run

Exit codes: 0 pruned (or nothing to do), 1 failure, 2 usage error.`+backupConfigHelp)
	configFile := fs.String("config", "", "wootguard config `FILE` (section updates.backup, keys retention.*)")
	dir := fs.String("dir", "", "backup repository `DIR`")
	keepLast := fs.Int("keep-last", 0, "keep the `N` newest backups (default: retention.keep_last of --config)")
	keepDays := fs.Int("keep-days", 0, "keep backups younger than `D` days (default: retention.keep_days)")
	keepVerified := fs.Int("keep-verified", 0, "keep the `N` newest verified backups; the newest is kept even with 0 (default: retention.keep_verified_min)")
	dryRun := fs.Bool("dry-run", false, "print what would be deleted, delete nothing")
	pos, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return backupUsageError(env, name, fmt.Errorf("unexpected argument %q", pos[0]))
	}
	empty := ""
	f := &backupFlags{config: configFile, dir: dir, databaseURL: &empty, toolPrefix: &empty}
	o, cfg, err := f.options(env, false)
	if err != nil {
		return backupUsageError(env, name, err)
	}
	r := cfg.Retention
	fs.Visit(func(fl *flag.Flag) { // flags given override the config file
		switch fl.Name {
		case "keep-last":
			r.KeepLast = *keepLast
		case "keep-days":
			r.KeepDays = *keepDays
		case "keep-verified":
			r.KeepVerifiedMin = *keepVerified
		}
	})
	if r.KeepLast < 0 || r.KeepDays < 0 || r.KeepVerifiedMin < 0 {
		return backupUsageError(env, name, errors.New("retention numbers must not be negative"))
	}
	if r.KeepLast == 0 && r.KeepDays == 0 {
		return backupUsageError(env, name, errors.New("give --keep-last N and/or --keep-days D (or retention in --config): refusing to delete every backup"))
	}
	now := time.Now()
	var names []string
	if *dryRun {
		names, err = backup.PrunePlan(o.Dir, r, now)
	} else {
		names, err = backup.Prune(o.Dir, r, now)
	}
	verb := "deleted"
	if *dryRun {
		verb = "would delete"
	}
	for _, n := range names {
		fmt.Fprintf(env.Stdout, "%s %s\n", verb, n)
	}
	if err != nil {
		return backupFailure(env, name, err)
	}
	if len(names) == 0 {
		fmt.Fprintln(env.Stdout, "nothing to delete")
	}
	return 0
}
