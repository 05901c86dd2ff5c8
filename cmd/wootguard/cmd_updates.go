package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/probe"
	"github.com/wootguard/wootguard/internal/release"
)

func init() {
	register(&command{
		Name:    "updates status",
		Summary: "how exposed is this Chatwoot: releases behind, advisories, what to do",
		Run:     runUpdatesStatus,
	})
	register(&command{
		Name:    "updates watch",
		Summary: "watch for new Chatwoot releases and advisories and notify (loop or --once)",
		Run:     runUpdatesWatch,
	})
}

const exposureSources = `
Where the running version comes from (one of):
  --chatwoot URL   ask the instance (GET /api, fallback: the login page)
  --version X      say it (e.g. 4.15.1)
  --dir DIR        read VERSION_CW / config/app.yml of the installation

Feeds (URL, or a local file for air-gapped hosts; defaults: GitHub's API):
  --releases      GitHub releases JSON or releases.atom
  --advisories    GitHub repository security advisories JSON
  --osv           optional OSV JSON: a record, a list, or a directory of records
Fetched feeds are cached (--cache-dir); when a feed is down the cached copy
is used and its age is shown. With neither feed nor cache the answer is
"unknown", never "up to date". A GitHub token is read from $GITHUB_TOKEN
(--token-env) and only sent to api.github.com / github.com.`

// exposureFlags are the flags shared by `updates status` and `updates watch`.
type exposureFlags struct {
	fs                             *flag.FlagSet
	chatwoot, version, dir         string
	releases, advisories, osv      string
	cacheDir, tokenEnv, configFile string
	format                         string
	timeout                        time.Duration
	retries                        int
	includePre                     bool
	notify                         notify.Config // updates.notify, watch only
	fetcher                        *release.Fetcher
}

func newExposureFlags(fs *flag.FlagSet) *exposureFlags {
	o := &exposureFlags{fs: fs}
	fs.StringVar(&o.chatwoot, "chatwoot", "", "Chatwoot base `URL` to probe (config: updates.chatwoot_url)")
	fs.StringVar(&o.version, "version", "", "the running Chatwoot `version`, instead of probing")
	fs.StringVar(&o.dir, "dir", "", "Chatwoot installation `directory` to read the version from")
	fs.StringVar(&o.releases, "releases", release.ChatwootReleasesURL, "release feed: `URL or file` (REST JSON or Atom)")
	fs.StringVar(&o.advisories, "advisories", release.ChatwootAdvisoriesURL, "security advisory feed: `URL or file`")
	fs.StringVar(&o.osv, "osv", "", "optional OSV records: `URL, file or directory`")
	fs.StringVar(&o.cacheDir, "cache-dir", "", "feed cache `directory` (default $XDG_CACHE_HOME/wootguard or ~/.cache/wootguard)")
	fs.StringVar(&o.tokenEnv, "token-env", "GITHUB_TOKEN", "environment `variable` holding a GitHub token")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "timeout of one HTTP request")
	fs.IntVar(&o.retries, "retries", 2, "extra attempts when a feed answers 5xx or times out (backoff 1s, 2s, 4s, …)")
	fs.BoolVar(&o.includePre, "include-prereleases", false, "count pre-releases (rc) as releases")
	fs.StringVar(&o.configFile, "config", "", "YAML config `file` (updates.chatwoot_url, updates.feeds, updates.notify; default $WOOTGUARD_CONFIG); flags win")
	return o
}

// resolve merges the config file under the flags and checks the result.
// It returns a message for a usage error (exit 2) or a config error
// (exit 2 too: the command cannot run as asked).
func (o *exposureFlags) resolve(env *cliEnv, withNotify bool) error {
	set := map[string]bool{}
	o.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.configFile == "" {
		o.configFile = env.Getenv("WOOTGUARD_CONFIG")
	}
	if o.configFile != "" {
		var url string
		if _, err := config.LoadSection(o.configFile, "updates.chatwoot_url", &url); err != nil {
			return err
		}
		var feeds release.FeedsConfig
		if _, err := config.LoadSection(o.configFile, "updates.feeds", &feeds); err != nil {
			return err
		}
		if withNotify {
			if _, err := config.LoadSection(o.configFile, "updates.notify", &o.notify); err != nil {
				return err
			}
		}
		fill := func(flagName string, dst *string, val string) {
			if !set[flagName] && val != "" {
				*dst = val
			}
		}
		// The config's URL is only the default way to learn the version.
		if !set["version"] && !set["dir"] {
			fill("chatwoot", &o.chatwoot, url)
		}
		fill("releases", &o.releases, feeds.Releases)
		fill("advisories", &o.advisories, feeds.Advisories)
		fill("osv", &o.osv, feeds.OSV)
		fill("cache-dir", &o.cacheDir, feeds.CacheDir)
		fill("token-env", &o.tokenEnv, feeds.TokenEnv)
		if !set["timeout"] && feeds.Timeout != 0 {
			o.timeout = feeds.Timeout
		}
	}
	n := 0
	for _, s := range []string{o.chatwoot, o.version, o.dir} {
		if s != "" {
			n++
		}
	}
	switch {
	case n == 0:
		return fmt.Errorf("say which Chatwoot to check: --chatwoot URL, --version X or --dir DIR")
	case n > 1:
		return fmt.Errorf("give only one of --chatwoot, --version and --dir")
	case o.format != "text" && o.format != "json":
		return fmt.Errorf("--format must be text or json, not %q", o.format)
	case o.timeout <= 0:
		return fmt.Errorf("--timeout must be positive")
	case o.retries < 0 || o.retries > 10:
		return fmt.Errorf("--retries must be between 0 and 10")
	case o.releases == "" || o.advisories == "":
		return fmt.Errorf("--releases and --advisories must not be empty")
	}
	if o.version != "" {
		if _, err := release.ParseVersion(o.version); err != nil {
			return err
		}
	}
	if o.cacheDir == "" {
		o.cacheDir = release.DefaultCacheDir(env.Getenv)
	}
	o.fetcher = &release.Fetcher{Timeout: o.timeout, CacheDir: o.cacheDir, Retries: o.retries,
		Token: env.Getenv(o.tokenEnv), TokenEnv: o.tokenEnv}
	if o.retries == 0 {
		o.fetcher.Retries = -1 // Fetcher's zero value means "default"
	}
	return nil
}

// check runs one status computation: version, feeds, verdict.
func (o *exposureFlags) check(ctx context.Context) release.Report {
	opts := release.CheckOptions{Releases: o.releases, Advisories: o.advisories, OSV: o.osv,
		IncludePre: o.includePre, Fetcher: o.fetcher}
	var res *probe.Result
	var err error
	switch {
	case o.version != "":
		opts.Running, opts.RunningSource = release.MustParseVersion(o.version), "flag"
	case o.dir != "":
		res, err = probe.FromDir(o.dir)
	default:
		res, err = probeRunning(ctx, o.chatwoot, o.timeout)
	}
	if res != nil {
		opts.RunningSource = res.Source
		if opts.Running, err = release.ParseVersion(res.Version); err != nil {
			err = fmt.Errorf("the instance reports version %q, which is not a Chatwoot version", res.Version)
		}
	}
	if err != nil {
		opts.RunningProblem = "the running version is not known: " + err.Error()
	}
	return release.Check(ctx, opts)
}

func runUpdatesStatus(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "updates status", "(--chatwoot URL | --version X | --dir DIR) [--releases SRC] [--advisories SRC] [--osv SRC] [--format json] [--config FILE]", `
Compare the running Chatwoot with the latest stable release and with the
published security advisories, and recommend ONE action.

Chatwoot supports only its latest release and ships fixes only there, so
every release behind is unsupported; an advisory affecting the running
version calls for an update now (critical/high) or in the next window
(medium/low).
`+exposureSources+`

Example:
  wootguard updates status --chatwoot http://127.0.0.1:3000
  wootguard updates status --version 4.10.0 --releases releases.json --advisories advisories.json --format json

Exit codes: 0 up to date, 10 behind (no advisory affects you), 20 exposed
(an advisory affects the running version), 3 data unavailable/unknown,
2 usage or config error.`)
	o := newExposureFlags(fs)
	fs.StringVar(&o.format, "format", "text", "output format: text or json (stable shape, see docs/exposure.md)")
	pos, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(env.Stderr, "wootguard updates status: unexpected argument %q\n", pos[0])
		return 2
	}
	if err := o.resolve(env, false); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard updates status: %v\n", err)
		return 2
	}
	rep := o.check(ctx)
	if o.format == "json" {
		out, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintln(env.Stdout, string(out))
	} else {
		printReport(env.Stdout, rep)
	}
	return rep.ExitCode
}

func printReport(w io.Writer, rep release.Report) {
	st := rep.Status
	if st.Running != "" {
		fmt.Fprintf(w, "Running:   Chatwoot %s (from %s)\n", st.Running, rep.RunningSource)
	}
	if st.Latest != "" {
		support := "supported (Chatwoot supports only the latest release)"
		if !st.Supported {
			support = "NOT supported: Chatwoot fixes only the latest release"
		}
		fmt.Fprintf(w, "Latest:    %s\n", st.Latest)
		if st.Behind > 0 {
			fmt.Fprintf(w, "Behind:    %d release%s (%s)\n", st.Behind, pluralS(st.Behind), strings.Join(st.Newer, ", "))
		}
		fmt.Fprintf(w, "Support:   %s\n", support)
	}
	if len(st.Findings) > 0 {
		fmt.Fprintf(w, "\nAdvisories affecting %s:\n", st.Running)
		for _, f := range st.Findings {
			ids := f.ID
			if len(f.Aliases) > 0 {
				ids += " (" + strings.Join(f.Aliases, ", ") + ")"
			}
			cvss := ""
			if f.CVSS > 0 {
				cvss = fmt.Sprintf(" CVSS %.1f", f.CVSS)
			}
			fixed := "no fix released yet"
			if f.FixedIn != "" {
				fixed = "fixed in " + f.FixedIn
			}
			fmt.Fprintf(w, "  %-8s %s%s, %s\n", strings.ToUpper(f.Severity), ids, cvss, fixed)
			if f.Summary != "" {
				fmt.Fprintf(w, "           %s\n", f.Summary)
			}
			if f.URL != "" {
				fmt.Fprintf(w, "           %s\n", f.URL)
			}
		}
	}
	for _, u := range st.Unchecked {
		fmt.Fprintf(w, "CHECK BY HAND: %s\n", u)
	}
	fmt.Fprintln(w, "\nFeeds:")
	for _, f := range rep.Feeds {
		switch {
		case f.OK && f.FromCache:
			fmt.Fprintf(w, "  %-10s WARNING: feed unreachable, using the cached copy from %s ago (%s)\n             reason: %s\n",
				f.Name, age(f.AgeSeconds), f.FetchedAt.UTC().Format(time.RFC3339), f.Problem)
		case f.OK:
			fmt.Fprintf(w, "  %-10s ok, %s (data age %s)\n", f.Name, f.Source, age(f.AgeSeconds))
		default:
			fmt.Fprintf(w, "  %-10s UNAVAILABLE: %s\n", f.Name, f.Problem)
		}
	}
	for _, u := range st.Unknown {
		fmt.Fprintf(w, "Unknown:   %s\n", u)
	}
	fmt.Fprintf(w, "\nStatus:    %s\nAction:    %s\n", strings.ToUpper(st.State), st.Action)
}

func age(seconds int64) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d < time.Minute:
		return d.String()
	case d < 48*time.Hour:
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func runUpdatesWatch(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "updates watch", "(--chatwoot URL | --version X | --dir DIR) [--once] [--interval 1h] [--config FILE] ...", `
Check releases and advisories every --interval (or once, with --once, for
cron and systemd timers) and notify: "release.new" when a stable release
newer than the running version appears, "advisory.new" for each advisory
that affects the running version. Each is delivered once ever per channel
(remembered in --state-file); a failed delivery is retried next round.
Channels come from updates.notify in --config (webhooks, slack, smtp); the
events are also printed. SIGINT/SIGTERM stop the loop cleanly.
`+exposureSources+`

Example:
  wootguard updates watch --config /etc/wootguard.yml --interval 6h
  wootguard updates watch --once --version 4.15.1 --config /etc/wootguard.yml   # from cron

Exit codes (--once): 0 round done, 1 a notification could not be delivered
(retried next run), 3 data unavailable, 2 usage or config error. The loop
exits 0 when stopped by a signal.`)
	o := newExposureFlags(fs)
	o.format = "text"
	once := fs.Bool("once", false, "run one round and exit")
	interval := fs.Duration("interval", time.Hour, "time between rounds (at least 1m)")
	stateFile := fs.String("state-file", "", "delivered-notifications `file` (config: updates.notify.state_file; default CACHE_DIR/notify-state.json)")
	pos, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(env.Stderr, "wootguard updates watch: unexpected argument %q\n", pos[0])
		return 2
	}
	if *interval < time.Minute {
		fmt.Fprintln(env.Stderr, "wootguard updates watch: --interval must be at least 1m (GitHub allows 60 unauthenticated requests an hour)")
		return 2
	}
	if err := o.resolve(env, true); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard updates watch: %v\n", err)
		return 2
	}
	if *stateFile != "" {
		o.notify.StateFile = *stateFile
	}
	if o.notify.StateFile == "" {
		if o.cacheDir == "" {
			fmt.Fprintln(env.Stderr, "wootguard updates watch: no state file: give --state-file or --cache-dir (HOME is not set)")
			return 2
		}
		o.notify.StateFile = filepath.Join(o.cacheDir, "notify-state.json")
	}
	// Printing is one more channel with the same once-only memory, so a
	// cron job's output shows each event once.
	sender, err := notify.FromConfigEnv(o.notify, env.Getenv, notify.Channel{ID: "stdout", Sender: printSender{env.Stdout}})
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard updates watch: %v\n", err)
		return 2
	}
	if o.notify.Empty() {
		fmt.Fprintln(env.Stderr, "wootguard updates watch: no notification channel in updates.notify: events are only printed")
	}
	for {
		code := watchRound(ctx, env, o, sender)
		if *once {
			return code
		}
		t := time.NewTimer(*interval)
		select {
		case <-ctx.Done():
			t.Stop()
			fmt.Fprintln(env.Stderr, "wootguard updates watch: stopped")
			return 0
		case <-t.C:
		}
	}
}

// watchRound computes the status and sends its events; it returns the
// --once exit code.
func watchRound(ctx context.Context, env *cliEnv, o *exposureFlags, sender notify.Sender) int {
	rep := o.check(ctx)
	fmt.Fprintf(env.Stderr, "%s %s: %s\n", rep.CheckedAt.UTC().Format(time.RFC3339), rep.Summary(), rep.Action)
	for _, f := range rep.Feeds {
		if f.FromCache {
			fmt.Fprintf(env.Stderr, "  %s feed unreachable, using the cached copy from %s ago: %s\n", f.Name, age(f.AgeSeconds), f.Problem)
		} else if !f.OK {
			fmt.Fprintf(env.Stderr, "  %s feed unavailable: %s\n", f.Name, f.Problem)
		}
	}
	code := 0
	for _, e := range release.Events(rep.Status, rep.CheckedAt) {
		if err := sender.Send(ctx, e); err != nil {
			fmt.Fprintf(env.Stderr, "  notification %s failed (will retry next round): %v\n", e.Key, err)
			code = 1
		}
	}
	if code == 0 && rep.State == release.StateUnknown {
		return 3
	}
	return code
}

// printSender writes events as lines, for logs and cron mail.
type printSender struct{ w io.Writer }

func (p printSender) Send(_ context.Context, e notify.Event) error {
	_, err := fmt.Fprintf(p.w, "%s [%s] %s\n", e.Kind, e.Severity, e.Title)
	return err
}
