package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/probe"
	"github.com/wootguard/wootguard/internal/release"
	"github.com/wootguard/wootguard/internal/rollout"
	"github.com/wootguard/wootguard/internal/units"
)

// toFlags are --to and where "latest" is looked up.
type toFlags struct {
	to, releases string
	now          func() time.Time
}

func (t *toFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&t.to, "to", "", "Chatwoot `version` to update to, e.g. v4.18.0, or \"latest\": the newest stable release the schedule's soak (updates.schedule.min_release_age) allows (required)")
	fs.StringVar(&t.releases, "releases", "", "release feed `URL or file` for --to latest (default: updates.feeds.releases, else GitHub)")
}

// resolve turns --to into a version ("4.18.0"); for "latest" it says why
// that release was chosen.
func (t *toFlags) resolve(ctx context.Context, env *cliEnv, configPath string) (version, why string, err error) {
	if !strings.EqualFold(t.to, "latest") {
		v, err := rollout.NormalizeVersion(t.to)
		return v, "", err
	}
	var feeds release.FeedsConfig
	if configPath != "" {
		if _, err := config.LoadSection(configPath, "updates.feeds", &feeds); err != nil {
			return "", "", err
		}
	}
	src := t.releases
	if src == "" {
		src = feeds.Releases
	}
	if src == "" {
		src = release.ChatwootReleasesURL
	}
	sched, _, err := loadSchedule(configPath)
	if err != nil {
		return "", "", err
	}
	f := &release.Fetcher{CacheDir: or(feeds.CacheDir, release.DefaultCacheDir(env.Getenv)), Timeout: 10 * time.Second}
	if feeds.TokenEnv != "" {
		f.Token, f.TokenEnv = env.Getenv(feeds.TokenEnv), feeds.TokenEnv
	} else {
		f.Token, f.TokenEnv = env.Getenv("GITHUB_TOKEN"), "GITHUB_TOKEN"
	}
	rels, _, err := release.LoadReleases(ctx, f, src, false)
	if err != nil {
		return "", "", fmt.Errorf("--to latest: %v", err)
	}
	now := time.Now()
	if t.now != nil {
		now = t.now()
	}
	r, ok := newestAllowed(rels, sched.MinReleaseAge(), now)
	if !ok {
		return "", "", fmt.Errorf("--to latest: no stable release in %s is older than the soak (%s, updates.schedule.min_release_age)", src, units.FormatDuration(sched.MinReleaseAge()))
	}
	return r.Version.String(), fmt.Sprintf("latest = %s: the newest stable release published at least %s ago (updates.schedule.min_release_age), from %s",
		r.Tag, units.FormatDuration(sched.MinReleaseAge()), src), nil
}

// newestAllowed is the newest stable release at least soak old. A release
// whose feed gives no date (Atom without <updated>) passes: the soak cannot
// be told, and the plan shows which release it is.
func newestAllowed(rels []release.Release, soak time.Duration, now time.Time) (release.Release, bool) {
	sorted := append([]release.Release(nil), rels...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[j].Version.Less(sorted[i].Version) })
	for _, r := range sorted {
		if r.Prerelease {
			continue
		}
		if r.Published.IsZero() || now.Sub(r.Published) >= soak {
			return r, true
		}
	}
	return release.Release{}, false
}

// currentVersions asks each instance of the target for its version.
func currentVersions(ctx context.Context, target *rollout.Target) map[string]string {
	current := map[string]string{}
	for _, inst := range target.Instances() {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		if res, err := probe.Probe(pctx, inst.URL()); err == nil {
			current[inst.Role()] = strings.TrimPrefix(res.Version, "v")
		}
		cancel()
	}
	return current
}

// refuseDowngrade explains why an update to version must not run: an
// instance already runs a newer release. Chatwoot's migrations only go
// forward (some are irreversible), so going back means restoring a backup.
func refuseDowngrade(current map[string]string, version string) error {
	to, err := release.ParseVersion(version)
	if err != nil {
		return nil
	}
	roles := make([]string, 0, len(current))
	for role := range current {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	for _, role := range roles {
		cur, err := release.ParseVersion(current[role])
		if err == nil && to.Less(cur) {
			return fmt.Errorf("refusing a downgrade: %s runs %s, newer than v%s. Chatwoot's database migrations only go forward "+
				"(some are irreversible), so an older release would run on a newer schema. To go back, restore a backup taken "+
				"before the update (wootguard backup list / backup restore)", role, cur, to)
		}
	}
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
