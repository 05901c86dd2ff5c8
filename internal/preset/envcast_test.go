package preset

import (
	"strings"
	"testing"
)

// TestCastBoolean is ActiveModel::Type::Boolean: "" is nil (off), only
// the listed spellings are false, case matters, nothing is trimmed.
func TestCastBoolean(t *testing.T) {
	for _, tc := range []struct {
		in     string
		on, ok bool
	}{
		{"", false, false},
		{"false", false, true}, {"FALSE", false, true}, {"f", false, true}, {"F", false, true},
		{"0", false, true}, {"off", false, true}, {"OFF", false, true},
		{"False", true, true}, {"Off", true, true}, {"no", true, true}, {" false", true, true},
		{"true", true, true}, {"1", true, true}, {"yes", true, true}, {"nope", true, true},
	} {
		if on, ok := CastBoolean(tc.in); on != tc.on || ok != tc.ok {
			t.Errorf("CastBoolean(%q) = %v %v, want %v %v", tc.in, on, ok, tc.on, tc.ok)
		}
	}
}

// TestChatwootEnvCasts: what each environment value does to the rule set
// and which warnings it raises; a cast that switches rules off is always
// announced with RulesOff.
func TestChatwootEnvCasts(t *testing.T) {
	const widgetRules = 5
	base, _ := ChatwootEnv(func(string) (string, bool) { return "", false })
	all := len(base.Throttles)
	for _, tc := range []struct {
		name      string
		env       map[string]string
		throttles int
		off       int    // RulesOff warnings
		warn      string // a warning must contain this
		limit     int64  // req/ip limit, 0: not checked
	}{
		{"unset", nil, all, 0, "", 3000},
		{"rack attack empty is off", map[string]string{"ENABLE_RACK_ATTACK": ""}, 0, 1, "ENABLE_RACK_ATTACK is set but empty", 0},
		{"rack attack false", map[string]string{"ENABLE_RACK_ATTACK": "false"}, 0, 1, `ENABLE_RACK_ATTACK="false"`, 0},
		{"rack attack False is on", map[string]string{"ENABLE_RACK_ATTACK": "False"}, all, 0, "not a usual boolean", 3000},
		{"widget api f", map[string]string{"ENABLE_RACK_ATTACK_WIDGET_API": "f"}, all - widgetRules, 1, "every widget rule", 0},
		{"widget load off", map[string]string{"ENABLE_RACK_ATTACK_WIDGET_LOAD": "OFF"}, all - 1, 1, "widget?website_token", 0},
		{"widget conversations empty", map[string]string{"ENABLE_RACK_ATTACK_WIDGET_CONVERSATIONS": ""}, all - 1, 1, "set but empty", 0},
		{"limit empty keeps default", map[string]string{"RACK_ATTACK_LIMIT": ""}, all, 0, `RACK_ATTACK_LIMIT="" is not a whole number: using the default 3000 (Chatwoot's to_i would read 0`, 3000},
		{"limit junk", map[string]string{"RACK_ATTACK_LIMIT": "lots"}, all, 0, `"lots" is not a whole number`, 3000},
		{"limit negative", map[string]string{"RACK_ATTACK_LIMIT": "-5"}, all, 0, "would read -5", 3000},
		{"limit trailing junk", map[string]string{"RACK_ATTACK_LIMIT": "50x"}, all, 0, "would read 50", 3000},
		{"limit spaces", map[string]string{"RACK_ATTACK_LIMIT": " 50 "}, all, 0, "", 50},
		{"limit zero", map[string]string{"RACK_ATTACK_LIMIT": "0"}, all, 0, "throttles every request", 0},
	} {
		spec, warnings := ChatwootEnv(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		off := 0
		for _, w := range warnings {
			if strings.HasPrefix(w, RulesOff) {
				off++
			}
		}
		joined := strings.Join(warnings, "\n")
		switch {
		case len(spec.Throttles) != tc.throttles:
			t.Errorf("%s: %d throttles, want %d", tc.name, len(spec.Throttles), tc.throttles)
		case off != tc.off:
			t.Errorf("%s: %d rules-off warnings, want %d: %v", tc.name, off, tc.off, warnings)
		case tc.warn == "" && len(warnings) > 0:
			t.Errorf("%s: unexpected warnings %v", tc.name, warnings)
		case tc.warn != "" && !strings.Contains(joined, tc.warn):
			t.Errorf("%s: warnings %v lack %q", tc.name, warnings, tc.warn)
		case tc.limit != 0 && *spec.Throttles[0].Limit != tc.limit:
			t.Errorf("%s: req/ip limit %d, want %d", tc.name, *spec.Throttles[0].Limit, tc.limit)
		}
	}
}
