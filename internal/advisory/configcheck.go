package advisory

import (
	"slices"
	"strings"

	"github.com/wootguard/wootguard/internal/config"
)

// ConfigProblems reports the values of the audit section that 'audit'
// would refuse, for check-config.
func (c Config) ConfigProblems() []config.Problem {
	var ps []config.Problem
	if c.FailOn != "" && !slices.Contains(ValidFailOn, c.FailOn) {
		ps = append(ps, config.Problemf("fail_on", "audit.fail_on %q: want %s", c.FailOn, strings.Join(ValidFailOn, ", ")))
	}
	if c.MaxDBAge != "" {
		if _, err := ParseAge(c.MaxDBAge); err != nil {
			ps = append(ps, config.Problemf("max_db_age", "audit.max_db_age: %v", err))
		}
	}
	return ps
}
