package release

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/wootguard/wootguard/internal/config"
)

// ConfigProblems reports the values of updates.feeds that 'updates' would
// refuse, for check-config.
func (c FeedsConfig) ConfigProblems() []config.Problem {
	var ps []config.Problem
	for _, f := range []struct{ key, v string }{{"releases", c.Releases}, {"advisories", c.Advisories}, {"osv", c.OSV}} {
		if err := CheckSource(f.v); err != nil {
			ps = append(ps, config.Problemf(f.key, "feeds.%s: %v", f.key, err))
		}
	}
	if c.Timeout < 0 {
		ps = append(ps, config.Problemf("timeout", "feeds.timeout must be positive"))
	}
	if c.MaxAge < 0 {
		ps = append(ps, config.Problemf("max_age", "feeds.max_age must be positive"))
	}
	if c.TokenEnv != "" && strings.ContainsAny(c.TokenEnv, " =$") {
		ps = append(ps, config.Problemf("token_env", "feeds.token_env names an environment variable (like GITHUB_TOKEN), not its value"))
	}
	return ps
}

// CheckSource refuses a feed source that is neither an http(s) URL nor a
// local path: "ftp://x" would otherwise be read as a file named so.
func CheckSource(s string) error {
	if s == "" {
		return nil
	}
	if i := strings.Index(s, "://"); i >= 0 && !IsURL(s) {
		return fmt.Errorf("%q: want an http(s) URL or a local file (scheme %s is not supported)", s, s[:i])
	}
	if IsURL(s) {
		if u, err := url.Parse(s); err != nil || u.Host == "" {
			return fmt.Errorf("%q is not a valid URL", s)
		}
	}
	return nil
}
