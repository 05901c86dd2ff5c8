package preset

import (
	"slices"
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

func TestStrictProfileShape(t *testing.T) {
	base, _ := Chatwoot(func(string) string { return "" })
	st := memory.New(memory.Options{SweepEvery: -1})
	defer st.Close()
	tok := rules.HashToken("t")
	for _, enforce := range []bool{false, true} {
		s := Strict(StrictOptions{Enforce: enforce, AdminNetworks: []string{"10.0.0.0/8"}, ExemptTokens: []string{tok}}, base)
		want := rules.ModeDryRun
		if enforce {
			want = rules.ModeEnforce
		}
		var names []string
		for _, r := range s.Throttles {
			names = append(names, r.Name)
			if r.Mode != want || r.Source != StrictSource {
				t.Errorf("%s: mode %q source %q", r.Name, r.Mode, r.Source)
			}
			// Exempt tokens skip the write rules and nothing else.
			if exempt := len(r.ExemptTokens) > 0; exempt != slices.Contains(StrictWriteRules, r.Name) {
				t.Errorf("%s: exempt tokens %v", r.Name, r.ExemptTokens)
			}
		}
		for _, r := range slices.Concat(s.Fail2Ban, s.Allow2Ban) {
			names = append(names, r.Name)
			if r.Mode != want {
				t.Errorf("%s: mode %q", r.Name, r.Mode)
			}
		}
		for _, r := range s.Blocklists {
			names = append(names, r.Name)
			if r.Mode != want {
				t.Errorf("%s: mode %q", r.Name, r.Mode)
			}
		}
		for _, n := range names {
			if !strings.HasPrefix(n, "strict/") {
				t.Errorf("rule %q is not named strict/...", n)
			}
		}
		// The profile compiles on top of the preset, and the repeat-offender
		// rule counts every authentication rule, not req/ip or the widget.
		merged := base
		merged.Throttles = append(slices.Clone(base.Throttles), s.Throttles...)
		merged.Fail2Ban, merged.Blocklists = s.Fail2Ban, s.Blocklists
		if _, err := rules.Compile(merged, rules.Options{Store: st}); err != nil {
			t.Fatal(err)
		}
		for _, r := range s.Fail2Ban {
			if r.Name != StrictRepeatOffenders {
				continue
			}
			if len(r.Failure.RefusedBy) != len(strictAuthRules) || slices.Contains(r.Failure.RefusedBy, "req/ip") {
				t.Errorf("refused_by %v", r.Failure.RefusedBy)
			}
		}
	}
	// Without admin networks there is no admin rule.
	if s := Strict(StrictOptions{}, base); len(s.Blocklists) != 0 {
		t.Errorf("admin rule without admin_networks: %+v", s.Blocklists)
	}
}
