package notify

import (
	"fmt"
	"net/mail"

	"github.com/wootguard/wootguard/internal/problem"
)

// ConfigProblems reports the values of updates.notify that sending would
// refuse, for check-config. (Whether password_env is set is checked when
// sending: check-config may run in another environment.)
func (c Config) ConfigProblems() []problem.Problem {
	var ps []problem.Problem
	for i, w := range c.Webhooks {
		if err := checkURL(w.URL); err != nil {
			ps = append(ps, problem.Problemf(fmt.Sprintf("webhooks[%d].url", i), "notify.webhooks[%d].url: %v", i, err))
		}
	}
	for i, s := range c.Slack {
		if err := checkURL(s.URL); err != nil {
			ps = append(ps, problem.Problemf(fmt.Sprintf("slack[%d].url", i), "notify.slack[%d].url: %v", i, err))
		}
	}
	if m := c.SMTP; m != nil {
		if m.Host == "" {
			ps = append(ps, problem.Problemf("smtp", "notify.smtp.host is required"))
		}
		if m.Port < 0 || m.Port > 65535 {
			ps = append(ps, problem.Problemf("smtp.port", "notify.smtp.port %d is not a TCP port (1-65535; default 587)", m.Port))
		}
		if _, err := mail.ParseAddress(m.From); err != nil {
			ps = append(ps, problem.Problemf("smtp.from", "notify.smtp.from %q: %v", m.From, err))
		}
		if len(m.To) == 0 {
			ps = append(ps, problem.Problemf("smtp", "notify.smtp.to needs at least one address"))
		}
		for i, to := range m.To {
			if _, err := mail.ParseAddress(to); err != nil {
				ps = append(ps, problem.Problemf(fmt.Sprintf("smtp.to[%d]", i), "notify.smtp.to %q: %v", to, err))
			}
		}
		if m.Username != "" && m.PasswordEnv == "" {
			ps = append(ps, problem.Problemf("smtp.username", "notify.smtp.username is set: name the variable holding the password in notify.smtp.password_env"))
		}
	}
	return ps
}
