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
type FeedsConfig struct {
	Releases   string        `yaml:"releases"`
	Advisories string        `yaml:"advisories"`
	OSV        string        `yaml:"osv"`
	CacheDir   string        `yaml:"cache_dir"`
	TokenEnv   string        `yaml:"token_env"`
	Timeout    time.Duration `yaml:"timeout"`
}
