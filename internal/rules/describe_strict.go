package rules

import (
	"fmt"
	"strings"
)

// describeBanExtras adds scope, refused_by, trusted_for and
// bantime_increment to a ban rule's match and limit descriptions.
func describeBanExtras(r BanRule, m, lim string) (string, string) {
	if r.Failure != nil && len(r.Failure.RefusedBy) > 0 {
		names := r.Failure.RefusedBy
		if len(names) > 4 {
			m += fmt.Sprintf("; counts refusals by %d rules (%s, ...)", len(names), strings.Join(names[:3], ", "))
		} else {
			m += "; counts refusals by " + strings.Join(names, ", ")
		}
	}
	if r.Scope == "match" {
		m += "; ban blocks only these requests"
	}
	if r.TrustedFor != 0 {
		st := r.TrustedStatus
		if len(st) == 0 {
			st = []int{200}
		}
		m += fmt.Sprintf("; never for a key+address answered %v within %s", st, r.TrustedFor)
	}
	if inc := r.BanTimeIncrement; inc != nil && lim != "" {
		f := inc.Factor
		if f == 0 {
			f = DefaultIncrementFactor
		}
		lim += fmt.Sprintf(", repeat ×%g", f)
		if inc.Max != 0 {
			lim += " up to " + inc.Max.String()
		}
		if inc.Remember != 0 {
			lim += " within " + inc.Remember.String()
		}
	}
	return m, lim
}

func describeExempt(t Throttle) string {
	if len(t.ExemptTokens) == 0 {
		return ""
	}
	return fmt.Sprintf("; %d exempt token(s)", len(t.ExemptTokens))
}
