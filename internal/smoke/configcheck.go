package smoke

import (
	"fmt"
	"strings"

	"github.com/wootguard/wootguard/internal/config"
)

// ConfigProblems reports every value Validate would refuse, each at its
// path, for check-config.
func (c Config) ConfigProblems() []config.Problem {
	var ps []config.Problem
	for _, d := range []struct {
		key string
		neg bool
	}{{"interval", c.Interval < 0}, {"deadline", c.Deadline < 0}, {"request_timeout", c.RequestTimeout < 0}} {
		if d.neg {
			ps = append(ps, config.Problemf(d.key, "smoke.%s must not be negative", d.key))
		}
	}
	for i, ch := range c.Checks {
		at := fmt.Sprintf("checks[%d]", i)
		if !strings.HasPrefix(ch.Path, "/") {
			ps = append(ps, config.Problemf(at+".path", "smoke: check %d (%q): path must start with /", i+1, ch.Name))
		}
		if ch.ExpectStatus != 0 && (ch.ExpectStatus < 100 || ch.ExpectStatus > 599) {
			ps = append(ps, config.Problemf(at+".expect_status", "smoke: check %d (%q): expect_status %d is not an HTTP status", i+1, ch.Name, ch.ExpectStatus))
		}
		switch strings.ToUpper(ch.Method) {
		case "", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		default:
			ps = append(ps, config.Problemf(at+".method", "smoke: check %d (%q): unknown method %q", i+1, ch.Name, ch.Method))
		}
	}
	return ps
}
