package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/probe"
	"github.com/wootguard/wootguard/internal/release"
	"github.com/wootguard/wootguard/internal/schedule"
)

// Exposure plumbing shared by `updates status`, `updates watch` and
// `updates next`: the flags and config keys that say which Chatwoot runs
// and where the release and advisory feeds are, and the link from an
// exposure report to the schedule's candidate release.

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
is used and its age is shown. With neither feed nor cache, or with data
older than --max-feed-age (default 7d; a local file's age is its
modification time), the answer is "unknown", never "up to date" - unless
an advisory already affects the running version (exit 20). A GitHub token is read from $GITHUB_TOKEN
(--token-env) and only sent to api.github.com / github.com.`

// exposureFlags are the flags shared by `updates status`, `updates watch`
// and `updates next`: where the running version and the feeds come from.
type exposureFlags struct {
	fs                             *flag.FlagSet
	chatwoot, version, dir         string
	releases, advisories, osv      string
	cacheDir, tokenEnv, configFile string
	format                         string
	timeout                        time.Duration
	maxFeedAge                     time.Duration
	retries                        int
	includePre                     bool
	notify                         notify.Config // updates.notify, watch only
	// sched is updates.schedule when the config file has it (watch only;
	// nil: no schedule configured).
	sched *schedule.Schedule
	// optional lets the running version go unsaid (updates next, which
	// then shows the schedule alone); enabled() tells whether one was given.
	optional bool
	fetcher  *release.Fetcher
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
	durationVar(fs, &o.timeout, "timeout", 10*time.Second, "timeout of one HTTP request")
	durationVar(fs, &o.maxFeedAge, "max-feed-age", release.DefaultMaxFeedAge, "feed data older than this (a local file: since it was modified) gives \"unknown\", never \"up to date\" (config: updates.feeds.max_age)")
	fs.IntVar(&o.retries, "retries", 2, "extra attempts when a feed answers 5xx or times out (backoff 1s, 2s, 4s, …)")
	fs.BoolVar(&o.includePre, "include-prereleases", false, "count pre-releases (rc) as releases")
	fs.StringVar(&o.configFile, "config", "", "YAML config `file` (updates.chatwoot_url, updates.feeds, updates.notify, updates.schedule; default $WOOTGUARD_CONFIG); flags win")
	return o
}

// resolve merges the config file under the flags and checks the result.
// It returns a message for a usage error or a config error (a
// configError; `updates status` and `watch` exit 2 for both, `updates
// next` exits 1 for a config error).
func (o *exposureFlags) resolve(env *cliEnv, withNotify bool) error {
	set := map[string]bool{}
	o.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.configFile == "" {
		o.configFile = env.Getenv("WOOTGUARD_CONFIG")
	}
	if o.configFile != "" {
		var url string
		if _, err := config.LoadSection(o.configFile, "updates.chatwoot_url", &url); err != nil {
			return configError{err}
		}
		var feeds release.FeedsConfig
		if _, err := config.LoadSection(o.configFile, "updates.feeds", &feeds); err != nil {
			return configError{err}
		}
		if withNotify {
			if _, err := config.LoadSection(o.configFile, "updates.notify", &o.notify); err != nil {
				return configError{err}
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
		if !set["max-feed-age"] && feeds.MaxAge != 0 {
			o.maxFeedAge = feeds.MaxAge
		}
	}
	n := 0
	for _, s := range []string{o.chatwoot, o.version, o.dir} {
		if s != "" {
			n++
		}
	}
	switch {
	case n == 0 && !o.optional:
		return fmt.Errorf("say which Chatwoot to check: --chatwoot URL, --version X or --dir DIR")
	case n > 1:
		return fmt.Errorf("give only one of --chatwoot, --version and --dir")
	case o.format != "text" && o.format != "json":
		return fmt.Errorf("--format must be text or json, not %q", o.format)
	case o.timeout <= 0:
		return fmt.Errorf("--timeout must be positive")
	case o.maxFeedAge <= 0:
		return fmt.Errorf("--max-feed-age must be positive")
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
		IncludePre: o.includePre, Fetcher: o.fetcher, MaxFeedAge: o.maxFeedAge}
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

// configError marks an error in the config file, as opposed to a usage
// error in the flags.
type configError struct{ error }

func (e configError) Unwrap() error { return e.error }

// enabled reports whether a running version source was given (a flag, or
// updates.chatwoot_url in the config); only then is there a status to check.
func (o *exposureFlags) enabled() bool { return o.chatwoot != "" || o.version != "" || o.dir != "" }

// printFeedWarnings says which feeds failed or answered from the cache.
func printFeedWarnings(w io.Writer, rep release.Report) {
	for _, f := range rep.Feeds {
		if f.FromCache {
			fmt.Fprintf(w, "  %s feed unreachable, using the cached copy from %s ago: %s\n", f.Name, age(f.AgeSeconds), f.Problem)
		} else if !f.OK {
			fmt.Fprintf(w, "  %s feed unavailable: %s\n", f.Name, f.Problem)
		}
	}
}

// candidateFor turns a status into the schedule's candidate: the latest
// stable release (version and publication time, zero when the feed does
// not say) and the advisories affecting the running version that it fixes
// (its version is at or past their fixed version). unfixed are the
// advisories affecting the running version that the release does not fix:
// updating to it does not close them, so they do not open the emergency
// lane. The candidate is nil when there is no newer release to go to.
func candidateFor(st release.Status, version string, published time.Time) (c *schedule.Candidate, unfixed []release.Finding) {
	target, err := release.ParseVersion(version)
	if err != nil || version == "" {
		return nil, st.Findings
	}
	c = &schedule.Candidate{Version: version, PublishedAt: published}
	for _, f := range st.Findings {
		if fixed, err := release.ParseVersion(f.FixedIn); f.FixedIn != "" && err == nil && !target.Less(fixed) {
			c.Advisories = append(c.Advisories, schedule.Advisory{ID: f.ID, Severity: f.Severity})
		} else {
			unfixed = append(unfixed, f)
		}
	}
	return c, unfixed
}

// emergency reports whether d came from the emergency lane: "page", or an
// "update-now" without a window (the normal lane always names its window).
func emergency(d schedule.Decision) bool {
	return d.Action == schedule.Page || (d.Action == schedule.UpdateNow && d.Window == "")
}
