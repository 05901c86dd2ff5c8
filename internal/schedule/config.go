// Package schedule decides when Chatwoot may be updated: recurring
// maintenance windows in a time zone, freeze periods, a soak time for new
// releases and an emergency lane for security fixes. It is pure: callers
// pass the current time; nothing here sleeps, reads files or starts
// goroutines (time zones come from the time package's database).
package schedule

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the `updates.schedule` section of the config file.
type Config struct {
	Timezone string   `yaml:"timezone"` // IANA name; empty: the machine's local zone
	Windows  []Window `yaml:"windows"`
	Freeze   []Freeze `yaml:"freeze"`
	// MinReleaseAge is the soak: how old a release must be before a
	// normal window takes it. Absent means DefaultMinReleaseAge; 0s turns it off.
	MinReleaseAge *time.Duration `yaml:"min_release_age"`
	Emergency     Emergency      `yaml:"emergency"`
}

// Window is one recurring maintenance window.
type Window struct {
	Name     string        `yaml:"name"`
	Every    string        `yaml:"every"`    // week | month
	Week     string        `yaml:"week"`     // month only: 1..5, first..fifth or last
	Weekday  string        `yaml:"weekday"`  // monday..sunday (or mon..sun); the day the window starts
	Start    string        `yaml:"start"`    // HH:MM wall-clock time
	Duration time.Duration `yaml:"duration"` // elapsed time, may run past midnight
	Timezone string        `yaml:"timezone"` // default: the schedule's
}

// Freeze is a period in which no normal update happens. Dates are whole
// days in the schedule's time zone, both inclusive; "2026-12-20 18:00"
// (a wall-clock time, To exclusive) and RFC 3339 times are accepted too.
type Freeze struct {
	From   string `yaml:"from"`
	To     string `yaml:"to"`
	Reason string `yaml:"reason"`
}

// Emergency configures the lane for releases that fix serious advisories.
type Emergency struct {
	MinSeverity string `yaml:"min_severity"` // low|medium|high|critical; default high
	Action      string `yaml:"action"`       // open_window|page; default open_window
}

// Defaults used when a key is absent.
const (
	DefaultMinReleaseAge = 72 * time.Hour
	DefaultMinSeverity   = "high"
	DefaultAction        = ActionOpenWindow
)

// Emergency lane actions.
const (
	ActionOpenWindow = "open_window" // update now, ignoring windows, freezes and soak
	ActionPage       = "page"        // notify only; the normal schedule still applies
)

// maxWindowDuration keeps a weekly window from overlapping its next opening.
const maxWindowDuration = 7 * 24 * time.Hour

// Default is the schedule used without a config file: the second Tuesday
// of each month, 02:00-04:00 in loc, about a week after Chatwoot's
// first-Monday releases; 72h soak; advisories of severity high and above
// open the emergency lane.
func Default(loc *time.Location) *Schedule {
	s, err := compile(Config{Windows: []Window{{Name: "monthly", Every: "month", Week: "2", Weekday: "tuesday", Start: "02:00", Duration: 2 * time.Hour}}}, loc)
	if err != nil {
		panic("schedule: default schedule is invalid: " + err.Error()) // a programming error, caught by tests
	}
	return s
}

// UnmarshalYAML decodes the section and checks it, reporting each problem
// at its line ("line 7: windows[0].weekday: ...") so that config.LoadSection
// turns them into file:line errors.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: schedule must be a mapping with keys such as timezone, windows, freeze, min_release_age, emergency", n.Line)}}
	}
	type plain Config // without this method, so Decode does not recurse
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	_, probs := check(*c, time.Local)
	if len(probs) == 0 {
		return nil
	}
	te := &yaml.TypeError{}
	for _, p := range probs {
		te.Errors = append(te.Errors, fmt.Sprintf("line %d: %s", lineOf(n, p.path), p))
	}
	return te
}

// problem is one invalid setting; path is like "windows[1].start".
type problem struct{ path, msg string }

func (p problem) String() string {
	if p.path == "" {
		return p.msg
	}
	return p.path + ": " + p.msg
}

// Error lists every problem of a Config built in Go (the YAML path reports
// them with lines instead).
type Error []problem

func (e Error) Error() string {
	s := "invalid schedule:"
	for _, p := range e {
		s += "\n  " + p.String()
	}
	return s
}
