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
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/preset"
	"github.com/wootguard/wootguard/internal/rules"
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
}

// Store selects the counter store.
type Store struct {
	Kind    string `yaml:"kind"`     // memory (redis: not built yet)
	MaxKeys int    `yaml:"max_keys"` // memory: bound on keys
	Prefix  string `yaml:"prefix"`
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

// ByteSize is a size written as 65536, "64KiB", "1MiB".
type ByteSize int64

// UnmarshalYAML parses a byte size.
func (b *ByteSize) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return fmt.Errorf("want a size like 65536 or 64KiB")
	}
	n, err := ParseByteSize(s)
	*b = ByteSize(n)
	return err
}

var sizeRE = regexp.MustCompile(`^(\d+)\s*(|B|KiB|KB|k|MiB|MB|M)$`)

// ParseByteSize parses "65536", "64KiB", "1MiB" (KB/MB are read as KiB/MiB).
func ParseByteSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("bad size %q: want e.g. 65536, 64KiB, 1MiB", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	switch m[2] {
	case "KiB", "KB", "k":
		n <<= 10
	case "MiB", "MB", "M":
		n <<= 20
	}
	return n, nil
}

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
	Limits           Limits     // defaulted
	Operations       Operations // admin, access_log, tls, maintenance, alerts
}

// Defaults of the gateway.
const (
	DefaultListen    = "127.0.0.1:8080"
	DefaultUpstream  = "http://127.0.0.1:3000"
	DefaultBodyLimit = 64 << 10
	DefaultMaxKeys   = 1_000_000
)

// Load reads and checks the file at path (empty path: defaults only).
// getenv supplies Chatwoot's environment variables for the preset.
func Load(path string, getenv func(string) string) (*Gateway, error) {
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
			return nil, err
		}
	}
	return build(path, &doc, f, getenv)
}

func build(path string, doc *yaml.Node, f *File, getenv func(string) string) (*Gateway, error) {
	var errs Errors
	at := func(key, format string, args ...any) {
		errs = append(errs, &Error{File: path, Line: lineOf(doc, key), Reason: fmt.Sprintf(format, args...)})
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
		at("store.kind", "the redis store is not built yet: use kind: memory")
	default:
		at("store.kind", "unknown store kind %q: want memory", g.StoreKind)
	}
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
	if _, err := rules.Compile(f.Spec, rules.Options{Store: noStore{}, LaxRefusedBy: true}); err != nil {
		for _, se := range err.(rules.SpecErrors) {
			at(se.Path, "%s", se.Reason)
		}
	}

	profile := strictOptions(f, at)
	if profile != nil {
		g.Profile, g.ProfileEnforce = f.Profile.Name, profile.Enforce
	}
	env := getenv
	switch g.PresetName {
	case "chatwoot":
		if f.ChatwootEnvFile != "" {
			fileEnv, err := preset.ReadEnvFile(resolve(path, f.ChatwootEnvFile))
			if err != nil {
				at("chatwoot_env_file", "%v", err)
			}
			env = func(k string) string {
				if v := getenv(k); v != "" {
					return v
				}
				return fileEnv[k]
			}
		}
		p, warnings := preset.Chatwoot(env)
		g.Warnings = append(g.Warnings, warnings...)
		g.Spec = Merge(withProfile(p, profile, f.Profile, at), f.Spec)
		g.StripExtension = true
	case "none":
		g.Spec = Merge(withProfile(rules.Spec{}, profile, f.Profile, at), f.Spec)
	default:
		at("preset", "unknown preset %q: want chatwoot or none", g.PresetName)
	}
	checkRefusedBy(f.Spec, g.Spec, at)
	if profile != nil {
		g.StripExtension = true // the profile matches paths as Chatwoot routes them ("/auth.json" is "/auth")
	}
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
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
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
