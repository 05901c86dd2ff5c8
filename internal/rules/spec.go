package rules

import (
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/units"
)

// Spec is a rule set as an operator writes it (in wootguard.yaml or a
// preset). Compile turns it into an Engine.
type Spec struct {
	Safelists  []ListRule `yaml:"safelists"`
	Blocklists []ListRule `yaml:"blocklists"`
	Throttles  []Throttle `yaml:"throttles"`
	Fail2Ban   []BanRule  `yaml:"fail2ban"`
	Allow2Ban  []BanRule  `yaml:"allow2ban"`
	Tracks     []Track    `yaml:"tracks"`
}

// Mode says whether a rule acts or only reports what it would do.
const (
	ModeEnforce = "enforce"
	ModeDryRun  = "dry-run"
)

// ListRule is a safelist or blocklist entry: it matches when its client
// IP list (if any) and its match (if any) both hold.
type ListRule struct {
	Name   string     `yaml:"name"`
	IP     StringList `yaml:"ip"`
	Match  *Match     `yaml:"match"`
	Mode   string     `yaml:"mode"`
	Source string     `yaml:"-"` // "config" or a preset name, for `wootguard rules`
}

// Throttle counts requests per key in epoch-aligned fixed windows and
// answers 429 once a window's count exceeds Limit.
type Throttle struct {
	Name   string     `yaml:"name"`
	Limit  *int64     `yaml:"limit"`
	Period Duration   `yaml:"period"`
	Key    StringList `yaml:"key"`
	Match  *Match     `yaml:"match"`
	Mode   string     `yaml:"mode"`
	Source string     `yaml:"-"`
	// ExemptTokens are API access tokens of trusted integrations, as
	// "sha256:HEX" of the exact token: a request whose api_access_token
	// header is one of them is not counted by this throttle (see strict.go).
	ExemptTokens StringList `yaml:"exempt_tokens"`
	// Algorithm is fixed-window (default, Rack::Attack's), sliding-window
	// or gcra; Burst is the GCRA's burst (default Limit).
	Algorithm string `yaml:"algorithm"`
	Burst     *int64 `yaml:"burst"`
}

// Track counts (with Limit and Period) or just reports matching requests;
// it never changes a response.
type Track struct {
	Name   string     `yaml:"name"`
	Limit  *int64     `yaml:"limit"`
	Period Duration   `yaml:"period"`
	Key    StringList `yaml:"key"`
	Match  *Match     `yaml:"match"`
	Source string     `yaml:"-"`
}

// BanRule is a Fail2Ban or Allow2Ban rule.
type BanRule struct {
	Name     string     `yaml:"name"`
	Key      StringList `yaml:"key"`
	Match    *Match     `yaml:"match"`
	Failure  *Failure   `yaml:"failure"`
	MaxRetry *int64     `yaml:"maxretry"`
	FindTime Duration   `yaml:"findtime"`
	BanTime  Duration   `yaml:"bantime"`
	Mode     string     `yaml:"mode"`
	Source   string     `yaml:"-"`
	// Scope is what a ban blocks: "all" (default) every request of the key,
	// "match" only the requests that fit Match.
	Scope string `yaml:"scope"`
	// BanTimeIncrement makes a key banned again within Remember get a
	// longer ban (fail2ban's bantime.increment).
	BanTimeIncrement *BanTimeIncrement `yaml:"bantime_increment"`
	// TrustedFor: a response with a TrustedStatus (default 200) to a request
	// this rule matches makes the pair (key, client address) trusted for
	// that long; the rule neither counts nor bans a trusted pair. Only with
	// failure.status.
	TrustedFor    Duration `yaml:"trusted_for"`
	TrustedStatus []int    `yaml:"trusted_status"`
}

// BanTimeIncrement is ban escalation: the n-th ban of a key within
// Remember of its previous one lasts bantime × Factor^(n-1), at most Max.
type BanTimeIncrement struct {
	Factor   float64  `yaml:"factor"`   // default 2
	Max      Duration `yaml:"max"`      // default 1d for keys with an address part, 7d otherwise
	Remember Duration `yaml:"remember"` // default 7d
}

// Failure selects, by the upstream's answer, which matching requests count
// as failures. Without it every matching request counts (Rack::Attack).
type Failure struct {
	Status []int `yaml:"status"`
	// RefusedBy counts, instead of an upstream status, the gateway's own
	// refusals (403/429) of a matching request by the named rules.
	RefusedBy StringList `yaml:"refused_by"`
}

// Match is a request condition; every field given must hold. Any holds when
// at least one of its alternatives does (and the other fields hold too).
type Match struct {
	Method       StringList        `yaml:"method"`
	Path         StringList        `yaml:"path"`
	PathPrefix   StringList        `yaml:"path_prefix"`
	PathRegex    string            `yaml:"path_regex"`
	ParamPresent StringList        `yaml:"param_present"`
	ParamAbsent  StringList        `yaml:"param_absent"`
	Header       map[string]string `yaml:"header"` // value "*" = present
	IP           StringList        `yaml:"ip"`
	Any          []Match           `yaml:"any"`
	// NotIP holds when the client IP is in none of these CIDRs (an unknown
	// client IP is in none).
	NotIP StringList `yaml:"not_ip"`
	// StringParamPresent/Absent are Chatwoot's auth_param tests: present
	// means a non-blank String (a JSON number, true or an array is no
	// value at all).
	StringParamPresent StringList `yaml:"string_param_present"`
	StringParamAbsent  StringList `yaml:"string_param_absent"`
	// Extensions says which path the path conditions see: "strip"
	// (Chatwoot's path_without_extensions: "/auth/sign_in.json" is
	// "/auth/sign_in"), "keep" (the whole normalized path) or "exact"
	// (Rack::Attack's req.path: normalized but not percent-decoded — for
	// safelists, where decoding would let more requests skip the rules).
	// Empty: the engine's default (strip for the preset).
	Extensions string `yaml:"extensions"`
}

// StringList is a list that may be written as a single string.
type StringList []string

// UnmarshalYAML accepts a scalar or a sequence. (This is the YAML
// packages' function-style hook, so rules needs no YAML import.)
func (l *StringList) UnmarshalYAML(unmarshal func(any) error) error {
	var one string
	if err := unmarshal(&one); err == nil {
		*l = StringList{one}
		return nil
	}
	var many []string
	if err := unmarshal(&many); err != nil {
		return fmt.Errorf("want a string or a list of strings")
	}
	*l = many
	return nil
}

// Duration is a period written as "20s", "5m", "1h", "1d" or a number of
// seconds.
type Duration time.Duration

// UnmarshalYAML parses the forms Duration accepts. A bad value is
// reported as a YAML type error, so that the decoder goes on and a config
// check lists every problem of the file, not just the first.
// The node gives the value's line: an empty value ("") has no quoted text
// by which the config package could find it.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return units.YAMLError(n.Line, fmt.Errorf("want a duration like %s", units.DurationSyntax))
	}
	v, err := ParseDuration(s)
	if err != nil {
		return units.YAMLError(n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses wootguard's one duration syntax (internal/units):
// "90" (seconds), 30s, 5m, 1h, 1d, 1w and combinations.
func ParseDuration(s string) (time.Duration, error) { return units.ParseDuration(s) }

// String prints a duration in the largest exact unit (300s → "5m").
func (d Duration) String() string {
	t := time.Duration(d)
	switch {
	case t == 0:
		return "0s"
	case t%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(t/(24*time.Hour)), 10) + "d"
	case t%time.Hour == 0:
		return strconv.FormatInt(int64(t/time.Hour), 10) + "h"
	case t%time.Minute == 0:
		return strconv.FormatInt(int64(t/time.Minute), 10) + "m"
	}
	return t.String()
}
