package schedule

import (
	"fmt"
	"strings"
	"time"
)

// Candidate is a release the guardian could update to.
type Candidate struct {
	Version     string
	PublishedAt time.Time
	// Advisories affect the running version and are fixed by this release.
	Advisories []Advisory
}

// Advisory is a security advisory, as far as the schedule cares.
type Advisory struct {
	ID       string
	Severity string // low | medium (or moderate) | high | critical
}

// Decision actions.
const (
	UpdateNow     = "update-now"
	WaitForWindow = "wait-for-window"
	WaitForSoak   = "wait-for-soak"
	Frozen        = "frozen"
	Page          = "page"
)

// Decision says what to do with a candidate and when.
type Decision struct {
	Action string
	When   time.Time // when the update may start; now for update-now
	Window string    // the window it will run in; empty for the emergency lane
	Reason string    // one sentence for the operator
}

// Decide applies the emergency lane, the soak, the freezes and the windows
// to c. The normal lane starts the update at the first instant that is
// inside a window, not in an opening skipped by a freeze, and at least
// MinReleaseAge after publication.
func (s *Schedule) Decide(now time.Time, c Candidate) (Decision, error) {
	if c.PublishedAt.IsZero() {
		return Decision{}, fmt.Errorf("release %s: publication time unknown", c.Version)
	}
	var urgent []string
	for _, a := range c.Advisories {
		if r := severityRank(a.Severity); r < 0 || r >= severityRank(s.minSeverity) {
			urgent = append(urgent, fmt.Sprintf("%s (%s)", or(a.ID, "an advisory"), or(strings.ToLower(a.Severity), "severity unknown")))
		}
	}
	fixes := fmt.Sprintf("%s fixes %s", c.Version, strings.Join(urgent, ", "))
	if len(urgent) > 0 && s.action == ActionOpenWindow {
		return Decision{Action: UpdateNow, When: now, Reason: fmt.Sprintf(
			"%s, at or above the emergency threshold %q: update now, ignoring windows, freezes and the soak.", fixes, s.minSeverity)}, nil
	}
	d, err := s.normal(now, c)
	if len(urgent) > 0 {
		why := d.Reason
		if err != nil {
			why = err.Error() + "."
		}
		return Decision{Action: Page, When: d.When, Window: d.Window, Reason: fmt.Sprintf(
			"%s, at or above the emergency threshold %q: page the operator; the normal schedule still applies: %s", fixes, s.minSeverity, why)}, nil
	}
	return d, err
}

func (s *Schedule) normal(now time.Time, c Candidate) (Decision, error) {
	soakEnd := c.PublishedAt.Add(s.soak)
	at, o, ok := s.firstSlot(later(now, soakEnd), true)
	if !ok {
		return Decision{}, fmt.Errorf("no usable window for %s within three years: freezes cover every window", c.Version)
	}
	d := Decision{When: at, Window: o.Window}
	opening := fmt.Sprintf("window %q at %s", o.Window, at.Format(dayLayout))
	soaked := fmt.Sprintf("%s was published %s and the soak is %s", c.Version, c.PublishedAt.In(s.loc).Format(dayLayout), ShortDuration(s.soak))
	freeze, frozenNow := s.FreezeAt(now)
	switch {
	case !at.After(now):
		d.Action, d.When = UpdateNow, now
		d.Reason = fmt.Sprintf("%s: update now, window %q is open until %s.", soaked, o.Window, o.End.Format(dayLayout))
	case frozenNow:
		d.Action = Frozen
		d.Reason = fmt.Sprintf("%s is in effect: %s waits for %s.", freeze, c.Version, opening)
	case soakEnd.After(now) && s.slotBefore(now, true, at):
		d.Action = WaitForSoak
		d.Reason = fmt.Sprintf("%s, which ends %s: it waits for %s.", soaked, soakEnd.In(s.loc).Format(dayLayout), opening)
	case s.slotBefore(later(now, soakEnd), false, at):
		_, skipped, _ := s.firstSlot(later(now, soakEnd), false)
		d.Action = Frozen
		d.Reason = fmt.Sprintf("%s skips window %q at %s: %s waits for %s.", s.freezeOf(skipped), skipped.Window, skipped.Start.Format(dayLayout), c.Version, opening)
	default:
		d.Action = WaitForWindow
		d.Reason = fmt.Sprintf("%s: it waits for %s.", soaked, opening)
	}
	return d, nil
}

// slotBefore reports whether some window would open before at if the
// soak (from = now) or the freezes (withFreeze false) were ignored.
func (s *Schedule) slotBefore(from time.Time, withFreeze bool, at time.Time) bool {
	t, _, ok := s.firstSlot(from, withFreeze)
	return ok && t.Before(at)
}

func (s *Schedule) freezeOf(o Occurrence) string {
	for _, f := range s.freezes {
		if o.Start.Before(f.To) && f.From.Before(o.End) {
			return f.String()
		}
	}
	return "a freeze"
}

// severityRank orders severities: 1 low .. 4 critical; 0 for "none";
// anything else is -1, and an advisory of unknown severity counts as
// reaching every threshold (not knowing how bad it is is no reason to wait).
func severityRank(s string) int {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "none":
		return 0
	case "low":
		return 1
	case "medium", "moderate":
		return 2
	case "high":
		return 3
	case "critical":
		return 4
	}
	return -1
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
