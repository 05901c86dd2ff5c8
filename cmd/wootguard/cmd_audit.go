package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/advisory"
	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gemlock"
)

func init() {
	register(&command{Name: "audit", Summary: "check a Gemfile.lock for vulnerable gems (bundler-audit compatible)", Run: runAudit})
	config.RegisterSection("audit", func() any { return &advisory.Config{} })
}

// Exit codes of "wootguard audit".
const (
	auditClean    = 0
	auditFindings = 1
	auditUsage    = 2
	auditError    = 3
)

func runAudit(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "audit", "[flags] [Gemfile.lock|DIR]", `
Check the gems locked in a Gemfile.lock (default ./Gemfile.lock; a
directory means its Gemfile.lock or gems.locked) against ruby-advisory-db,
the database bundler-audit uses, and optionally an OSV RubyGems export.

Each vulnerable gem is reported once per advisory, with the platforms it
is locked for, the CVE/GHSA ids, criticality, and the version to update
to. GIT remotes over git:// or http:// and GEM remotes over http:// are
reported as insecure sources.

First run (downloads the database with git):
  wootguard audit --update
Then, offline:
  wootguard audit /home/chatwoot/chatwoot/Gemfile.lock
  wootguard audit --format json --output audit.json Gemfile.lock
  wootguard audit --fail-on high --format sarif --output audit.sarif

Ignore lists: .bundler-audit.yml (ignore: [ids]) and .wootguard-ignore.yml
next to the lockfile are both read, and --ignore adds to them. An entry of
.wootguard-ignore.yml looks like
  ignore:
    - id: CVE-2026-1234
      reason: only reachable through the XML importer, which we disabled
      expires: 2026-12-31
and stops ignoring after its expiry date. Ignoring an id also ignores its
aliases (a GHSA id ignores the same advisory filed under its CVE).

Database location: --db, else the config file's audit.db, else
$WOOTGUARD_ADVISORY_DB, else $XDG_DATA_HOME/wootguard/ruby-advisory-db
(~/.local/share/wootguard/ruby-advisory-db). --update clones or pulls
$WOOTGUARD_ADVISORY_DB_URL (default `+advisory.DefaultDBURL+`).

Exit codes: 0 nothing at or above --fail-on, 1 findings (or insecure
sources) at or above --fail-on, 2 usage error, 3 error (unreadable
lockfile, missing or invalid database, failed --update).`)
	dbFlag := fs.String("db", "", "ruby-advisory-db `DIR`")
	osvFlag := fs.String("osv", "", "also use this OSV RubyGems export (`FILE.zip`, e.g. osv.dev's RubyGems/all.zip)")
	format := fs.String("format", "text", "output `format`: text, json (bundler-audit compatible) or sarif")
	output := fs.String("output", "", "write the report to `FILE` instead of stdout")
	failOn := fs.String("fail-on", "", "lowest criticality that exits 1: low, medium, high, critical, any or none (default any)")
	var ignores stringList
	fs.Var(&ignores, "ignore", "ignore an advisory `ID` (CVE-..., GHSA-...); repeatable, adds to the ignore files")
	ignoreFile := fs.String("ignore-file", "", "wootguard ignore `FILE` (default .wootguard-ignore.yml next to the lockfile, if present)")
	maxAge := fs.String("max-db-age", "", "warn when the database is older than this (`AGE`: 7d, 36h, 2w; 0 disables) (default 7d)")
	update := fs.Bool("update", false, "clone or fast-forward the database with git before auditing")
	cfgPath := fs.String("config", "", "wootguard config `FILE`; its audit: section sets defaults for these flags")
	positional, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "wootguard audit: "+format+"\n", a...)
		return auditUsage
	}
	if len(positional) > 1 {
		return usageErr("one lockfile at a time, got %d: %s", len(positional), strings.Join(positional, " "))
	}
	if !slices.Contains([]string{"text", "json", "sarif"}, *format) {
		return usageErr("unknown --format %q (want text, json or sarif)", *format)
	}

	var cfg advisory.Config
	if *cfgPath != "" {
		if _, err := config.LoadSection(*cfgPath, "audit", &cfg); err != nil {
			fmt.Fprintf(env.Stderr, "wootguard audit: %v\n", err)
			return auditUsage
		}
		base := filepath.Dir(*cfgPath)
		for _, p := range []*string{&cfg.DB, &cfg.OSV, &cfg.IgnoreFile} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(base, *p)
			}
		}
	}
	pick := func(flagValue, cfgValue, def string) string {
		if flagValue != "" {
			return flagValue
		}
		if cfgValue != "" {
			return cfgValue
		}
		return def
	}
	fail := pick(*failOn, cfg.FailOn, "any")
	if !slices.Contains(advisory.ValidFailOn, fail) {
		return usageErr("unknown --fail-on %q (want %s)", fail, strings.Join(advisory.ValidFailOn, ", "))
	}
	age, err := advisory.ParseAge(pick(*maxAge, cfg.MaxDBAge, "7d"))
	if err != nil {
		return usageErr("--max-db-age: %v", err)
	}
	dbDir := pick(*dbFlag, cfg.DB, defaultAdvisoryDB(env))
	if dbDir == "" {
		return usageErr("no database location: pass --db DIR or set WOOTGUARD_ADVISORY_DB (HOME is not set)")
	}
	osvZip := pick(*osvFlag, cfg.OSV, "")

	failErr := func(err error) int {
		fmt.Fprintf(env.Stderr, "wootguard audit: %v\n", err)
		return auditError
	}
	if *update {
		repo := env.Getenv("WOOTGUARD_ADVISORY_DB_URL")
		if repo == "" {
			repo = advisory.DefaultDBURL
		}
		if err := advisory.UpdateDB(ctx, dbDir, repo, env.Stderr); err != nil {
			return failErr(fmt.Errorf("--update: %w", err))
		}
	}

	lockPath := "Gemfile.lock"
	if len(positional) == 1 {
		lockPath = positional[0]
	} else if _, err := os.Stat(lockPath); err != nil {
		if p, err := gemlock.Find("."); err == nil {
			lockPath = p
		}
	}
	lf, err := gemlock.ParseFile(lockPath)
	if err != nil {
		return failErr(err)
	}
	db, err := advisory.LoadDir(dbDir)
	if err != nil {
		return failErr(err)
	}
	if osvZip != "" {
		if err := db.AddOSVZip(osvZip); err != nil {
			return failErr(err)
		}
	}

	projectDir := filepath.Dir(lf.Path)
	var ignore advisory.IgnoreList
	if err := ignore.LoadBundlerAuditConfig(filepath.Join(projectDir, ".bundler-audit.yml")); err != nil {
		return failErr(err)
	}
	ignorePath := pick(*ignoreFile, cfg.IgnoreFile, "")
	if ignorePath != "" {
		err = ignore.LoadIgnoreFile(ignorePath, true)
	} else {
		err = ignore.LoadIgnoreFile(filepath.Join(projectDir, ".wootguard-ignore.yml"), false)
	}
	if err != nil {
		return failErr(err)
	}
	ignore.Add("--ignore", ignores...)

	now := time.Now()
	rep := advisory.Audit(lf, db, advisory.Options{Ignore: &ignore, Today: now})
	if updated, how := advisory.UpdatedAt(ctx, db); age > 0 && now.Sub(updated) > age {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the advisory database is %d days old (%s %s, limit %s): run 'wootguard audit --update'",
			int(now.Sub(updated).Hours()/24), how, updated.Format("2006-01-02"), pick(*maxAge, cfg.MaxDBAge, "7d")))
	}

	if err := writeAuditReport(env, rep, *format, *output, now); err != nil {
		return failErr(err)
	}
	if *format != "text" || *output != "" {
		// Machine output stays clean; people still see what matters.
		for _, w := range rep.Warnings {
			fmt.Fprintf(env.Stderr, "warning: %s\n", w)
		}
		for _, r := range rep.ExpiredIgnores {
			fmt.Fprintf(env.Stderr, "warning: ignore rule %s expired on %s (%s)\n", r.ID, r.Expires.Format("2006-01-02"), r.Origin)
		}
	}
	failing, failed := rep.Failing(fail)
	if *output != "" {
		fmt.Fprintf(env.Stderr, "wootguard audit: %d findings (%d at or above --fail-on %s), %d insecure sources, %d ignored; report in %s\n",
			len(rep.Findings), len(failing), fail, len(rep.InsecureSources), len(rep.Ignored), *output)
	}
	if failed {
		return auditFindings
	}
	return auditClean
}

func writeAuditReport(env *cliEnv, rep *advisory.Report, format, output string, now time.Time) error {
	write := func(w io.Writer) error {
		switch format {
		case "json":
			return advisory.WriteJSON(w, rep, wootguardVersion(), now)
		case "sarif":
			return advisory.WriteSARIF(w, rep, wootguardVersion())
		}
		return advisory.WriteText(w, rep)
	}
	if output == "" {
		return write(env.Stdout)
	}
	return writeFileWith(output, write)
}

// defaultAdvisoryDB is $WOOTGUARD_ADVISORY_DB, else the XDG data dir.
func defaultAdvisoryDB(env *cliEnv) string {
	if d := env.Getenv("WOOTGUARD_ADVISORY_DB"); d != "" {
		return d
	}
	if d := env.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "wootguard", "ruby-advisory-db")
	}
	if h := env.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "wootguard", "ruby-advisory-db")
	}
	return ""
}

// wootguardVersion is the module version stamped by the Go toolchain.
func wootguardVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
