package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/preset"
)

// StoreConfig is the checked store section.
type StoreConfig struct {
	Kind             string // memory | redis
	URL              string
	Password         string
	DB               int // -1: from the URL
	Sentinels        []string
	SentinelMaster   string
	SentinelPassword string
	ClusterNodes     []string
	TLSSkipVerify    bool
	Timeout          time.Duration
	DialTimeout      time.Duration
	PoolSize         int
	OnError          string
	Snapshot         string // memory: snapshot file ("" = none)
	SnapshotInterval time.Duration
	KeySecret        string
	KeySecretFile    string // resolved against the config file's directory
	// FromEnv lists the settings taken from Chatwoot's variables, for the
	// start-up log ("url from REDIS_URL").
	FromEnv []string
}

// Store defaults.
const (
	DefaultRedisTimeout     = 50 * time.Millisecond
	DefaultSnapshotInterval = time.Minute
)

// buildStore checks the store section. Chatwoot's REDIS_* variables (from
// the environment, then chatwoot_env_file) fill what the file leaves out,
// and only once kind is redis: an ambient REDIS_URL never picks the store.
func (g *Gateway) buildStore(path string, f *File, getenv func(string) string, at func(key, format string, args ...any)) {
	s := f.Store
	c := StoreConfig{Kind: g.StoreKind, URL: s.URL, Password: s.Password, DB: -1, Sentinels: s.Sentinels,
		SentinelMaster: s.SentinelMaster, SentinelPassword: s.SentinelPassword, ClusterNodes: s.ClusterNodes,
		Timeout: time.Duration(s.Timeout), DialTimeout: time.Duration(s.DialTimeout), PoolSize: s.PoolSize,
		OnError: or(s.OnError, "local"), Snapshot: resolve(path, s.Snapshot), SnapshotInterval: time.Duration(s.SnapshotInterval),
		KeySecret: s.KeySecret, KeySecretFile: resolve(path, s.KeySecretFile)}
	if strings.ContainsAny(s.Prefix, "{}*?[] \t\n") {
		at("store.prefix", "prefix %q must not contain braces, glob characters or spaces (in Redis it is the hash tag {prefix})", s.Prefix)
	}
	if s.DB != nil {
		c.DB = *s.DB
		if c.DB < 0 {
			at("store.db", "db must be 0 or more")
		}
	}
	if c.Timeout < 0 || c.DialTimeout < 0 || c.SnapshotInterval < 0 {
		at("store", "store timeouts and snapshot_interval must not be negative")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultRedisTimeout
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = DefaultSnapshotInterval
	}
	if s.PoolSize < 0 {
		at("store.pool_size", "pool_size must be positive")
	}
	switch c.OnError {
	case "local", "allow", "deny":
	default:
		at("store.on_error", "unknown on_error %q: want local, allow or deny", c.OnError)
	}
	if c.Kind == "redis" {
		env := getenv
		if f.ChatwootEnvFile != "" {
			if fileEnv, err := preset.ReadEnvFile(resolve(path, f.ChatwootEnvFile)); err != nil {
				if g.PresetName != "chatwoot" {
					at("chatwoot_env_file", "%v", err) // the preset reports it otherwise
				}
			} else {
				env = func(k string) string {
					if v := getenv(k); v != "" {
						return v
					}
					return fileEnv[k]
				}
			}
		}
		fill := func(dst *string, name string) {
			if *dst == "" {
				if v := strings.TrimSpace(env(name)); v != "" {
					*dst = v
					c.FromEnv = append(c.FromEnv, name)
				}
			}
		}
		if len(c.ClusterNodes) == 0 {
			if len(c.Sentinels) == 0 {
				var list string
				fill(&list, "REDIS_SENTINELS")
				for _, a := range strings.Split(list, ",") {
					if a = strings.TrimSpace(a); a != "" {
						c.Sentinels = append(c.Sentinels, a)
					}
				}
			}
			fill(&c.URL, "REDIS_URL")
		}
		fill(&c.Password, "REDIS_PASSWORD")
		if len(c.Sentinels) > 0 {
			fill(&c.SentinelMaster, "REDIS_SENTINEL_MASTER_NAME")
			if c.SentinelMaster == "" {
				c.SentinelMaster = "mymaster" // Chatwoot's default
			}
			fill(&c.SentinelPassword, "REDIS_SENTINEL_PASSWORD")
		}
		verify := strings.ToLower(s.TLSVerify)
		if verify == "" {
			fill(&verify, "REDIS_OPENSSL_VERIFY_MODE")
			verify = strings.ToLower(verify)
		}
		switch verify {
		case "", "peer":
		case "none":
			c.TLSSkipVerify = true
		default:
			at("store.tls_verify", "unknown tls_verify %q: want peer or none", verify)
		}
		switch {
		case len(c.ClusterNodes) > 0:
			for i, a := range c.ClusterNodes {
				if _, _, err := net.SplitHostPort(a); err != nil {
					at(fmt.Sprintf("store.cluster_nodes[%d]", i), "bad address %q: want host:port", a)
				}
			}
		case len(c.Sentinels) > 0:
			for i, a := range c.Sentinels {
				if _, _, err := net.SplitHostPort(a); err != nil {
					at(fmt.Sprintf("store.sentinels[%d]", i), "bad sentinel %q: want host:port", a)
				}
			}
		case c.URL == "":
			at("store.url", "store.url is required with kind: redis (or REDIS_URL, sentinels or cluster_nodes)")
		}
		if c.URL != "" {
			if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
				at("store.url", "bad redis url: want redis://host:port/db, rediss:// or unix:///path")
			}
		}
	}
	g.StoreConfig = c
}
