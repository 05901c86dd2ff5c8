// Package config reads wootguard.yaml: strictly (unknown keys are
// errors), reporting every problem as file:line: reason.
package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/preset"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/units"
	"github.com/wootguard/wootguard/internal/weburl"
)

// File is the configuration file as written.
type File struct {
	Listen          string      `yaml:"listen"`
	Upstream        string      `yaml:"upstream"`
	ClientIP        ClientIP    `yaml:"client_ip"`
	Store           Store       `yaml:"store"`
	Preset          string      `yaml:"preset"`
	ChatwootEnvFile string      `yaml:"chatwoot_env_file"`
	Responses       Responses   `yaml:"responses"`
	BodyLimit       ByteSize    `yaml:"body_limit"`
	Log             Log         `yaml:"log"`
	Server          Server      `yaml:"server"`
	Spec            rules.Spec  `yaml:",inline"`
	Updates         yaml.Node   `yaml:"updates"`
	Audit           yaml.Node   `yaml:"audit"`
	Admin           Admin       `yaml:"admin"`
	AccessLog       AccessLog   `yaml:"access_log"`
	Alerts          Alerts      `yaml:"alerts"`
	TLS             TLS         `yaml:"tls"`
	Maintenance     Maintenance `yaml:"maintenance"`
	Profile         Profile     `yaml:"profile"`
	Limits          Limits      `yaml:"limits"`
}

// ClientIP says whose forwarding headers to believe.
type ClientIP struct {
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Header is the one forwarding header your proxy writes:
	// x-forwarded-for (default) or forwarded (RFC 7239).
	Header string `yaml:"header"`
	// IPv6Prefix is the network length an IPv6 client is keyed by in
	// "ip" keys (default 64: one /64 is one client; 128: each address).
	IPv6Prefix *int `yaml:"ipv6_prefix"`
}

// Store selects the counter store.
type Store struct {
	Kind    string `yaml:"kind"`     // memory | redis
	MaxKeys int    `yaml:"max_keys"` // memory (and redis' local fallback): bound on keys
	Prefix  string `yaml:"prefix"`
	// Redis (docs/redis.md); what is left out comes from Chatwoot's
	// REDIS_* variables once kind is redis.
	URL              string         `yaml:"url"`
	Password         string         `yaml:"password"`
	DB               *int           `yaml:"db"`
	Sentinels        []string       `yaml:"sentinels"`
	SentinelMaster   string         `yaml:"sentinel_master"`
	SentinelPassword string         `yaml:"sentinel_password"`
	ClusterNodes     []string       `yaml:"cluster_nodes"`
	TLSVerify        string         `yaml:"tls_verify"` // peer (default) | none
	Timeout          rules.Duration `yaml:"timeout"`
	DialTimeout      rules.Duration `yaml:"dial_timeout"`
	PoolSize         int            `yaml:"pool_size"`
	OnError          string         `yaml:"on_error"` // local | allow | deny
	// Memory store snapshot (bans and counters across restarts).
	Snapshot         string         `yaml:"snapshot"`
	SnapshotInterval rules.Duration `yaml:"snapshot_interval"`
	// Secret for hashing secret key parts (tokens); else KeySecretFile,
	// created on first start when missing.
	KeySecret     string `yaml:"key_secret"`
	KeySecretFile string `yaml:"key_secret_file"`
}

// Responses shapes 403/429 answers.
type Responses struct {
	RetryAfter       *bool `yaml:"retry_after"`
	RateLimitHeaders *bool `yaml:"ratelimit_headers"`
}

// Log configures the log output.
type Log struct {
	Format string `yaml:"format"` // text | json
	Level  string `yaml:"level"`  // debug | info | warn | error
	// RefusalsPerKey is how many refusal lines each rule and key writes
	// per minute before the rest are summed in one line (0: 5; -1: all).
	RefusalsPerKey int `yaml:"refusals_per_key"`
}

// Server holds the HTTP timeouts.
type Server struct {
	ReadHeaderTimeout rules.Duration `yaml:"read_header_timeout"`
	BodyTimeout       rules.Duration `yaml:"body_timeout"`
	IdleTimeout       rules.Duration `yaml:"idle_timeout"`
	UpstreamTimeout   rules.Duration `yaml:"upstream_timeout"`
	ShutdownTimeout   rules.Duration `yaml:"shutdown_timeout"`
}

// ByteSize is a size written as 65536, "64KiB", "64KB", "1MiB" (the one
// size syntax and type of internal/units, shared with rollout).
type ByteSize = units.ByteSize

// ParseByteSize parses a size in the one syntax of internal/units:
// KiB/MiB/GiB are powers of 1024, KB/MB/GB (any case) powers of 1000.
func ParseByteSize(s string) (int64, error) { return units.ParseSize(s) }

// Gateway is the checked, defaulted configuration the gateway runs with.
type Gateway struct {
	File             string // "" when no file was given
	Listen           string
	Upstream         *url.URL
	TrustedProxies   []netip.Prefix
	ClientIPHeader   string
	StoreKind        string
	MaxKeys          int
	Prefix           string
	PresetName       string
	Spec             rules.Spec // preset and config rules merged
	StripExtension   bool
	RetryAfter       bool
	RateLimitHeaders bool
	BodyLimit        int64
	LogFormat        string
	LogLevel         string
	Server           Server
	Warnings         []string
	Raw              *File
	Profile          string // "" or "strict"
	ProfileEnforce   bool
	Limits           Limits      // defaulted
	Operations       Operations  // admin, access_log, tls, maintenance, alerts
	IPv6Prefix       int         // client_ip.ipv6_prefix
	StoreConfig      StoreConfig // the store's checked settings (store.go)
}

// DefaultIPv6Prefix is client_ip.ipv6_prefix's default.
const DefaultIPv6Prefix = 64

// Defaults of the gateway.
const (
	DefaultListen    = "127.0.0.1:8080"
	DefaultUpstream  = "http://127.0.0.1:3000"
	DefaultBodyLimit = 64 << 10
	DefaultMaxKeys   = 1_000_000
)

// Load reads and checks the file at path (empty path: defaults only).
// getenv supplies Chatwoot's environment variables for the preset; an
// empty value counts as unset (use LoadLookup to tell them apart, as
// Chatwoot does: ENABLE_RACK_ATTACK= switches its rules off).
func Load(path string, getenv func(string) string) (*Gateway, error) {
	return LoadLookup(path, func(k string) (string, bool) {
		v := getenv(k)
		return v, v != ""
	})
}

// LoadLookup is Load with an environment lookup such as os.LookupEnv.
func LoadLookup(path string, lookup func(string) (string, bool)) (*Gateway, error) {
	f := &File{}
	var doc yaml.Node
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, &Error{File: path, Reason: err.Error()}
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fromYAML(path, err)
		}
		if err := DecodeNode(path, &doc, f); err != nil {
			decodeErrs, ok := err.(Errors)
			if !ok {
				return nil, err
			}
			// Go on: the checks below still find the file's other problems.
			_, err := build(path, &doc, f, lookup)
			return nil, mergeErrors(decodeErrs, err)
		}
	}
	return build(path, &doc, f, lookup)
}

// mergeErrors joins the decoder's errors and the later checks' errors into
// one line-ordered list. A later error about a value the decoder already
// refused (same line, same key) is dropped: it is only the consequence.
func mergeErrors(decoded Errors, later error) error {
	refused := map[string]bool{}
	for _, e := range decoded {
		if e.key != "" {
			refused[fmt.Sprint(e.Line, e.key)] = true
		}
	}
	out := append(Errors(nil), decoded...)
	if es, ok := later.(Errors); ok {
		for _, e := range es {
			if e.key == "" || !refused[fmt.Sprint(e.Line, e.key)] {
				out = append(out, e)
			}
		}
	} else if later != nil {
		return later
	}
	return sortErrors(out)
}

func build(path string, doc *yaml.Node, f *File, lookup func(string) (string, bool)) (*Gateway, error) {
	getenv := func(k string) string { v, _ := lookup(k); return v }
	var errs Errors
	at := func(key, format string, args ...any) {
		errs = append(errs, &Error{File: path, Line: lineOf(doc, key), Reason: fmt.Sprintf(format, args...), key: lastKey(key)})
	}
	g := &Gateway{File: path, Raw: f, Listen: or(f.Listen, DefaultListen), StoreKind: or(f.Store.Kind, "memory"),
		Prefix: or(f.Store.Prefix, "wootguard"), PresetName: or(f.Preset, "chatwoot"),
		LogFormat: or(f.Log.Format, "text"), LogLevel: or(f.Log.Level, "info"),
		RetryAfter:       f.Responses.RetryAfter == nil || *f.Responses.RetryAfter,
		RateLimitHeaders: f.Responses.RateLimitHeaders == nil || *f.Responses.RateLimitHeaders,
		BodyLimit:        int64(f.BodyLimit), MaxKeys: f.Store.MaxKeys, Server: f.Server}
	if !validListen(g.Listen) {
		at("listen", "bad listen address %q: want host:port", g.Listen)
	}
	u, err := ParseUpstream(or(f.Upstream, DefaultUpstream))
	if err != nil {
		at("upstream", "%v", err)
	}
	g.Upstream = u
	for i, s := range f.ClientIP.TrustedProxies {
		p, err := rules.ParsePrefix(s)
		if err != nil {
			at(fmt.Sprintf("client_ip.trusted_proxies[%d]", i), "%v", err)
			continue
		}
		g.TrustedProxies = append(g.TrustedProxies, p)
	}
	g.IPv6Prefix = DefaultIPv6Prefix
	if f.ClientIP.IPv6Prefix != nil {
		g.IPv6Prefix = *f.ClientIP.IPv6Prefix
		if g.IPv6Prefix < 1 || g.IPv6Prefix > 128 {
			at("client_ip.ipv6_prefix", "ipv6_prefix must be from 1 to 128 (64: one /64 is one client; 128: every address)")
		}
	}
	switch g.ClientIPHeader = or(f.ClientIP.Header, "x-forwarded-for"); g.ClientIPHeader {
	case "x-forwarded-for", "forwarded":
	default:
		at("client_ip.header", "unknown header %q: want x-forwarded-for or forwarded", g.ClientIPHeader)
	}
	for key, d := range map[string]rules.Duration{"server.read_header_timeout": f.Server.ReadHeaderTimeout,
		"server.body_timeout": f.Server.BodyTimeout, "server.idle_timeout": f.Server.IdleTimeout,
		"server.upstream_timeout": f.Server.UpstreamTimeout, "server.shutdown_timeout": f.Server.ShutdownTimeout} {
		if d < 0 {
			at(key, "%s must not be negative", key[len("server."):])
		}
	}
	switch g.StoreKind {
	case "memory":
	case "redis":
	default:
		at("store.kind", "unknown store kind %q: want memory or redis", g.StoreKind)
	}
	g.buildStore(path, f, getenv, at)
	if g.MaxKeys == 0 {
		g.MaxKeys = DefaultMaxKeys
	} else if g.MaxKeys < 0 {
		at("store.max_keys", "max_keys must be positive")
	}
	if g.BodyLimit == 0 {
		g.BodyLimit = DefaultBodyLimit
	}
	if g.LogFormat != "text" && g.LogFormat != "json" {
		at("log.format", "unknown log format %q: want text or json", g.LogFormat)
	}
	switch g.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		at("log.level", "unknown log level %q: want debug, info, warn or error", g.LogLevel)
	}
	g.defaultTimeouts()
	g.checkLimits(f, at)
	var opErrs Errors
	g.Operations, opErrs = operations(path, doc, f, getenv)
	errs = append(errs, opErrs...)

	// The file's own rules are checked on their own, so that an error's
	// path ("throttles[2].key") points into this file.
	f.Spec = withSource(f.Spec, "config")
	if _, err := rules.Compile(f.Spec, rules.Options{Store: noStore{}, LaxRefusedBy: true, StripExtension: g.PresetName == "chatwoot"}); err != nil {
		for _, se := range err.(rules.SpecErrors) {
			at(se.Path, "%s", se.Reason)
		}
	}

	profile := strictOptions(f, at)
	if profile != nil {
		g.Profile, g.ProfileEnforce = f.Profile.Name, profile.Enforce
	}
	env := lookup
	switch g.PresetName {
	case "chatwoot":
		if f.ChatwootEnvFile != "" {
			fileEnv, err := preset.ReadEnvFile(resolve(path, f.ChatwootEnvFile))
			if err != nil {
				at("chatwoot_env_file", "%v", err)
			}
			env = func(k string) (string, bool) {
				if v, ok := lookup(k); ok {
					return v, true
				}
				v, ok := fileEnv[k]
				return v, ok
			}
		}
		p, warnings := preset.ChatwootEnv(env)
		g.Warnings = append(g.Warnings, warnings...)
		g.Spec = Merge(withProfile(p, profile, f.Profile, at), f.Spec)
		g.StripExtension = true
	case "none":
		g.Spec = Merge(withProfile(rules.Spec{}, profile, f.Profile, at), f.Spec)
	default:
		at("preset", "unknown preset %q: want chatwoot or none", g.PresetName)
	}
	checkRefusedBy(f.Spec, g.Spec, at)
	if len(errs) > 0 {
		return nil, sortErrors(errs)
	}
	return g, nil
}

func (g *Gateway) defaultTimeouts() {
	def := func(d *rules.Duration, v time.Duration) {
		if *d == 0 {
			*d = rules.Duration(v)
		}
	}
	def(&g.Server.ReadHeaderTimeout, 10*time.Second)
	def(&g.Server.BodyTimeout, 5*time.Minute)
	def(&g.Server.IdleTimeout, 2*time.Minute)
	def(&g.Server.UpstreamTimeout, 5*time.Minute)
	def(&g.Server.ShutdownTimeout, 30*time.Second)
}

// ParseUpstream checks Chatwoot's URL: http or https with a host.
func ParseUpstream(s string) (*url.URL, error) {
	u, err := weburl.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("bad upstream %q: want http://host:port or https://host", s)
	}
	return u, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// resolve reads p relative to the config file's directory.
func resolve(configPath, p string) string {
	if p == "" || filepath.IsAbs(p) || configPath == "" {
		return p
	}
	return filepath.Join(filepath.Dir(configPath), p)
}

// validListen accepts host:port with a numeric port (":8080" too).
func validListen(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	_, err = strconv.ParseUint(port, 10, 16)
	return err == nil
}

// lastKey is the last mapping key of a path like "throttles[2].period".
func lastKey(path string) string {
	path = path[strings.LastIndexByte(path, '.')+1:]
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	return path
}
