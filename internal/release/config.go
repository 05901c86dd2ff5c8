package release

import "time"

// FeedsConfig is the `updates.feeds` section of the YAML config:
//
//	updates:
//	  feeds:
//	    releases: https://api.github.com/repos/chatwoot/chatwoot/releases?per_page=100
//	    advisories: /srv/mirror/chatwoot-advisories.json   # a file works too (air-gapped)
//	    osv: /srv/mirror/osv/                               # optional; file, list or directory
//	    cache_dir: /var/cache/wootguard
//	    token_env: GITHUB_TOKEN
//	    timeout: 10s
//	    max_age: 7d       # older feed data makes the status "unknown"
type FeedsConfig struct {
	Releases   string        `yaml:"releases"`
	Advisories string        `yaml:"advisories"`
	OSV        string        `yaml:"osv"`
	CacheDir   string        `yaml:"cache_dir"`
	TokenEnv   string        `yaml:"token_env"`
	Timeout    time.Duration `yaml:"timeout"`
	// MaxAge is how old the feeds' data may be (time since it was last
	// fetched, or a local file's modification time) before the status is
	// "unknown" instead of "up to date". 0 = DefaultMaxFeedAge.
	MaxAge time.Duration `yaml:"max_age"`
}

// DefaultMaxFeedAge is feeds.max_age when it is not set.
const DefaultMaxFeedAge = 7 * 24 * time.Hour
