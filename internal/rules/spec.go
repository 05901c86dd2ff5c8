package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"
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
}

// Failure selects, by the upstream's answer, which matching requests count
// as failures. Without it every matching request counts (Rack::Attack).
type Failure struct {
	Status []int `yaml:"status"`
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

// UnmarshalYAML parses the forms Duration accepts.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return fmt.Errorf("want a duration like 20s, 5m, 1h, 1d")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses "90" (seconds), Go durations, and days ("1d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseFloat(days, 64); err == nil {
			return time.Duration(n * float64(24*time.Hour)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q: want e.g. 20s, 5m, 1h, 1d", s)
	}
	return d, nil
}

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
