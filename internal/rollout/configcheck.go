package rollout

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/editdist"
)

// Targets is the updates.targets section; check-config decodes it into
// this type so that every target is checked the way 'update' would.
type Targets []TargetConfig

// ConfigProblems reports every value NewTarget would refuse, each at its
// own path, instead of NewTarget's first error.
func (ts Targets) ConfigProblems() []config.Problem {
	var ps []config.Problem
	seen := map[string]bool{}
	for i, t := range ts {
		at := fmt.Sprintf("[%d]", i)
		switch {
		case t.Name == "":
			ps = append(ps, config.Problemf(at+".name", "targets[%d]: name is required", i))
		case seen[t.Name]:
			ps = append(ps, config.Problemf(at+".name", "target name %q used twice", t.Name))
		}
		seen[t.Name] = true
		kindOK := slices.Contains(kinds, t.Kind)
		if !kindOK {
			ps = append(ps, config.Problemf(at+".kind", "target %q: kind %q is not one of %s%s", t.Name, t.Kind, strings.Join(kinds, ", "), closest(t.Kind, kinds)))
		}
		if t.Production == nil {
			ps = append(ps, config.Problemf(at, "target %q: production instance is required", t.Name))
		}
		for _, inst := range []struct {
			role string
			cfg  *InstanceConfig
		}{{Staging, t.Staging}, {Production, t.Production}} {
			if inst.cfg == nil {
				continue
			}
			ip := at + "." + inst.role
			before := len(ps)
			c := inst.cfg
			for _, p := range commonProblems(*c) {
				ps = append(ps, config.Problemf(ip+"."+p.key, "target %q %s: %s", t.Name, inst.role, p.reason))
			}
			// What is left is kind-specific (compose dir, helm release...):
			// newInstance says it.
			if kindOK && len(ps) == before {
				if _, err := newInstance(t.Kind, inst.role, *c); err != nil {
					ps = append(ps, config.Problemf(ip, "target %q %s: %v", t.Name, inst.role, err))
				}
			}
		}
	}
	return ps
}

// closest suggests the known word nearest to a typo.
func closest(s string, words []string) string {
	best, bestD := "", 4
	for _, w := range words {
		if d := editdist.Distance(s, w); d < bestD {
			best, bestD = w, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
