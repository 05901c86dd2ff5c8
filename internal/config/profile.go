package config

import (
	"fmt"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/preset"
	"github.com/wootguard/wootguard/internal/rules"
)

// Profile is the `profile` key: "strict", or
// {name: strict, enforce: true, admin_networks: [...], exempt_tokens: [...],
// trusted_for: 30d, tune: {RULE: {limit: ..., ...}}}.
type Profile struct {
	Name          string                 `yaml:"name"`
	Enforce       bool                   `yaml:"enforce"`
	AdminNetworks []string               `yaml:"admin_networks"`
	ExemptTokens  []string               `yaml:"exempt_tokens"`
	TrustedFor    rules.Duration         `yaml:"trusted_for"`
	Tune          map[string]ProfileTune `yaml:"tune"`
}

// ProfileTune changes some numbers of one profile rule, keeping the rest
// (a rule of the same name under throttles/fail2ban replaces it whole).
type ProfileTune struct {
	Limit    *int64         `yaml:"limit"`
	Period   rules.Duration `yaml:"period"`
	MaxRetry *int64         `yaml:"maxretry"`
	FindTime rules.Duration `yaml:"findtime"`
	BanTime  rules.Duration `yaml:"bantime"`
	Mode     string         `yaml:"mode"`
}

// UnmarshalYAML accepts the short form `profile: strict`.
func (p *Profile) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		p.Name = n.Value
		return nil
	}
	type plain Profile
	return n.Decode((*plain)(p))
}

// strictOptions checks the profile key; nil when no profile is set.
func strictOptions(f *File, at func(key, format string, args ...any)) *preset.StrictOptions {
	p := f.Profile
	switch p.Name {
	case "", "none":
		if p.Enforce || len(p.AdminNetworks)+len(p.ExemptTokens)+len(p.Tune) > 0 {
			at("profile", "profile settings without a profile: add name: strict")
		}
		return nil
	case "strict":
	default:
		at("profile", "unknown profile %q: want strict (or none)", p.Name)
		return nil
	}
	o := &preset.StrictOptions{Enforce: p.Enforce, TrustedFor: time.Duration(p.TrustedFor)}
	for i, s := range p.AdminNetworks {
		if _, err := rules.ParsePrefix(s); err != nil {
			at(fmt.Sprintf("profile.admin_networks[%d]", i), "%v", err)
			continue
		}
		o.AdminNetworks = append(o.AdminNetworks, s)
	}
	for i, s := range p.ExemptTokens {
		if _, err := rules.ParseTokenHash(s); err != nil {
			at(fmt.Sprintf("profile.exempt_tokens[%d]", i), "%v", err)
			continue
		}
		o.ExemptTokens = append(o.ExemptTokens, s)
	}
	if p.TrustedFor != 0 && time.Duration(p.TrustedFor) < time.Second {
		at("profile.trusted_for", "trusted_for must be at least 1s")
	}
	return o
}

// withProfile puts the profile's rules after base's, with the tune
// settings applied; without a profile it returns base.
func withProfile(base rules.Spec, o *preset.StrictOptions, p Profile, at func(key, format string, args ...any)) rules.Spec {
	if o == nil {
		return base
	}
	s := preset.Strict(*o, base)
	names := make([]string, 0, len(p.Tune))
	for name := range p.Tune {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		tuneRule(&s, name, p.Tune[name], func(field, format string, args ...any) {
			at("profile.tune."+name+field, format, args...)
		})
	}
	return Merge(base, stripExtensions(s))
}

// stripExtensions makes each of the profile's matches read the path
// without extensions, as Chatwoot routes it ("/auth.json" is "/auth"),
// unless it says otherwise. Per rule, not engine-wide: with preset: none
// the operator's own rules keep seeing the whole path.
func stripExtensions(s rules.Spec) rules.Spec {
	var mark func(m *rules.Match) *rules.Match
	mark = func(m *rules.Match) *rules.Match {
		if m == nil {
			return nil
		}
		c := *m
		if c.Extensions == "" {
			c.Extensions = "strip"
		}
		c.Any = append([]rules.Match(nil), m.Any...)
		for i := range c.Any {
			c.Any[i] = *mark(&c.Any[i])
		}
		return &c
	}
	for _, list := range [][]rules.ListRule{s.Safelists, s.Blocklists} {
		for i := range list {
			list[i].Match = mark(list[i].Match)
		}
	}
	for _, list := range [][]rules.BanRule{s.Fail2Ban, s.Allow2Ban} {
		for i := range list {
			list[i].Match = mark(list[i].Match)
		}
	}
	for i := range s.Throttles {
		s.Throttles[i].Match = mark(s.Throttles[i].Match)
	}
	for i := range s.Tracks {
		s.Tracks[i].Match = mark(s.Tracks[i].Match)
	}
	return s
}

func tuneRule(s *rules.Spec, name string, t ProfileTune, at func(field, format string, args ...any)) {
	seconds := func(field string, d rules.Duration) bool {
		if d == 0 {
			return false
		}
		if time.Duration(d) < time.Second || time.Duration(d)%time.Second != 0 {
			at("."+field, "%s must be whole seconds, at least 1s", field)
			return false
		}
		return true
	}
	switch t.Mode {
	case "", rules.ModeEnforce, rules.ModeDryRun:
	default:
		at(".mode", "unknown mode %q: want enforce or dry-run", t.Mode)
		t.Mode = ""
	}
	for i := range s.Throttles {
		r := &s.Throttles[i]
		if r.Name != name {
			continue
		}
		if t.MaxRetry != nil || t.FindTime != 0 || t.BanTime != 0 {
			at("", "%s is a throttle: tune limit, period and mode", name)
		}
		if t.Limit != nil {
			if *t.Limit < 0 {
				at(".limit", "limit must be 0 or more")
			} else {
				r.Limit = t.Limit
			}
		}
		if seconds("period", t.Period) {
			r.Period = t.Period
		}
		if t.Mode != "" {
			r.Mode = t.Mode
		}
		r.Source = preset.StrictSource + " (tuned)"
		return
	}
	for i := range s.Fail2Ban {
		r := &s.Fail2Ban[i]
		if r.Name != name {
			continue
		}
		if t.Limit != nil || t.Period != 0 {
			at("", "%s is a fail2ban rule: tune maxretry, findtime, bantime and mode", name)
		}
		if t.MaxRetry != nil {
			if *t.MaxRetry < 1 {
				at(".maxretry", "maxretry must be at least 1")
			} else {
				r.MaxRetry = t.MaxRetry
			}
		}
		if seconds("findtime", t.FindTime) {
			r.FindTime = t.FindTime
		}
		if seconds("bantime", t.BanTime) {
			r.BanTime = t.BanTime
			if inc := r.BanTimeIncrement; inc != nil && inc.Max < t.BanTime {
				inc.Max = t.BanTime
			}
		}
		if t.Mode != "" {
			r.Mode = t.Mode
		}
		r.Source = preset.StrictSource + " (tuned)"
		return
	}
	for i := range s.Blocklists {
		r := &s.Blocklists[i]
		if r.Name != name {
			continue
		}
		if t.Limit != nil || t.Period != 0 || t.MaxRetry != nil || t.FindTime != 0 || t.BanTime != 0 {
			at("", "%s is a blocklist: tune mode only", name)
		}
		if t.Mode != "" {
			r.Mode = t.Mode
		}
		r.Source = preset.StrictSource + " (tuned)"
		return
	}
	at("", "the strict profile has no rule %q (wootguard rules lists them)", name)
}

// checkRefusedBy checks the file's failure.refused_by names against the
// merged rule set (preset, profile, file), at the file's own lines.
func checkRefusedBy(file, merged rules.Spec, at func(key, format string, args ...any)) {
	names := map[string]bool{}
	for _, r := range merged.Throttles {
		names[r.Name] = true
	}
	for _, r := range merged.Blocklists {
		names[r.Name] = true
	}
	for _, r := range append(append([]rules.BanRule{}, merged.Fail2Ban...), merged.Allow2Ban...) {
		names[r.Name] = true
	}
	for _, g := range []struct {
		key   string
		rules []rules.BanRule
	}{{"fail2ban", file.Fail2Ban}, {"allow2ban", file.Allow2Ban}} {
		for i, r := range g.rules {
			if r.Failure == nil {
				continue
			}
			for j, n := range r.Failure.RefusedBy {
				if n != r.Name && !names[n] {
					at(fmt.Sprintf("%s[%d].failure.refused_by[%d]", g.key, i, j), "no blocklist, fail2ban, allow2ban or throttle named %q", n)
				}
			}
		}
	}
}
