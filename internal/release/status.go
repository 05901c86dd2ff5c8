package release

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// States of a Status, and the exit codes `wootguard updates status` uses.
const (
	StateCurrent = "current" // exit 0
	StateBehind  = "behind"  // exit 10
	StateExposed = "exposed" // exit 20
	StateUnknown = "unknown" // exit 3
)

// ExitCode maps a state to the documented process exit code.
func ExitCode(state string) int {
	switch state {
	case StateCurrent:
		return 0
	case StateBehind:
		return 10
	case StateExposed:
		return 20
	}
	return 3
}

// Input is what status is computed from. A nil slice with Known false
// means the data could not be had; an empty slice with Known true means
// "none exist".
type Input struct {
	Running         Version // zero: unknown
	Releases        []Release
	ReleasesKnown   bool
	Advisories      []Advisory
	AdvisoriesKnown bool
	// Stale says why some feed data is too old to vouch for "current"
	// (one reason each). An advisory that affects the running version
	// still makes the state "exposed".
	Stale []string
}

// Finding is an advisory that affects the running version.
type Finding struct {
	ID       string   `json:"id"`
	Aliases  []string `json:"aliases,omitempty"`
	Severity string   `json:"severity"` // critical|high|medium|low|unknown
	CVSS     float64  `json:"cvss,omitempty"`
	Summary  string   `json:"summary,omitempty"`
	URL      string   `json:"url,omitempty"`
	FixedIn  string   `json:"fixed_in,omitempty"` // empty: no fixed release known
}

// Status is the answer to "how exposed is this instance".
type Status struct {
	State     string    `json:"state"`
	Running   string    `json:"running,omitempty"`
	Latest    string    `json:"latest,omitempty"` // tag of the newest stable release
	Behind    int       `json:"releases_behind"`  // distinct newer releases
	Newer     []string  `json:"newer_releases"`   // their tags, oldest first
	Supported bool      `json:"supported"`        // Chatwoot supports only the latest release
	Findings  []Finding `json:"advisories"`
	// Unchecked lists advisories whose ranges could not be read, to check
	// by hand.
	Unchecked []string `json:"unchecked,omitempty"`
	// Unknown says why the state is unknown (or what is missing).
	Unknown []string `json:"unknown_reasons,omitempty"`
	Action  string   `json:"action"`
	// LatestPublished is when Latest was published (zero: the feed does
	// not say). Not part of the JSON shape of `updates status`; the
	// schedule (`updates next`, `updates watch`) needs it for the soak.
	LatestPublished time.Time `json:"-"`
}

// Compute decides the state and the one recommended action. Missing data
// never yields "current": an advisory that affects the running version
// still makes it "exposed", otherwise the state is "unknown".
func Compute(in Input) Status {
	st := Status{Newer: []string{}, Findings: []Finding{}}
	if in.Running.IsZero() {
		st.State = StateUnknown
		st.Unknown = append(st.Unknown, "the running version is not known")
		st.Action = "find out which version runs (wootguard version-probe) and run this again"
		return st
	}
	st.Running = in.Running.String()
	var latest Release
	haveLatest := false
	if in.ReleasesKnown {
		latest, haveLatest = Latest(in.Releases)
		if !haveLatest {
			st.Unknown = append(st.Unknown, "the release feed lists no stable release")
		}
	} else {
		st.Unknown = append(st.Unknown, "the release feed could not be read")
	}
	if haveLatest {
		st.Latest, st.LatestPublished = latest.Tag, latest.Published
		for _, r := range Newer(in.Releases, in.Running) {
			if !r.Prerelease {
				st.Newer = append(st.Newer, r.Tag)
			}
		}
		st.Behind = len(st.Newer)
		st.Supported = st.Behind == 0
		// A stable release newer than the feed's newest means the feed
		// lags (a stale mirror); a pre-release of the next version does not.
		if latest.Version.Less(in.Running) && !in.Running.IsPrerelease() {
			st.Unknown = append(st.Unknown, fmt.Sprintf("the release feed is behind: its latest release is %s, but %s runs (refresh the feed, or check its source)", latest.Tag, in.Running))
		}
	}
	st.Unknown = append(st.Unknown, in.Stale...)
	if in.AdvisoriesKnown {
		for _, a := range in.Advisories {
			st.Unchecked = append(st.Unchecked, a.Unreadable...)
			if !a.Affects(in.Running) {
				continue
			}
			f := Finding{ID: a.ID, Aliases: a.Aliases, Severity: a.Severity, CVSS: a.CVSS, Summary: a.Summary, URL: a.URL}
			if f.Severity == "" {
				f.Severity = "unknown"
			}
			if v, ok := a.FixedAfter(in.Running); ok {
				f.FixedIn = v.String()
			}
			st.Findings = append(st.Findings, f)
		}
		sort.SliceStable(st.Findings, func(i, j int) bool {
			a, b := st.Findings[i], st.Findings[j]
			if ra, rb := severityRank(a.Severity), severityRank(b.Severity); ra != rb {
				return ra > rb
			}
			if a.CVSS != b.CVSS {
				return a.CVSS > b.CVSS
			}
			return a.ID < b.ID
		})
	} else {
		st.Unknown = append(st.Unknown, "the advisory feed could not be read")
	}
	switch {
	case len(st.Findings) > 0:
		st.State = StateExposed
		st.Action = exposedAction(st, latest, haveLatest, in)
	case len(st.Unknown) > 0:
		st.State = StateUnknown
		st.Action = "cannot tell whether this version is safe: fix the feeds (see above) and run this again"
		if len(in.Stale) > 0 {
			// Said in full: `updates watch` prints only this line.
			st.Action = "cannot tell whether this version is safe: " + in.Stale[0]
			if n := len(in.Stale) - 1; n > 0 {
				st.Action += fmt.Sprintf(" (and %d more stale feed%s)", n, plural(n))
			}
		}
		if st.Behind > 0 {
			st.Action = fmt.Sprintf("%d release(s) behind, advisories unknown: %s", st.Behind, st.Action)
		}
	case st.Behind > 0:
		st.State = StateBehind
		st.Action = fmt.Sprintf("%d release%s behind: schedule an update to %s in the next maintenance window",
			st.Behind, plural(st.Behind), latest.Tag)
	default:
		st.State = StateCurrent
		st.Action = "up to date"
	}
	return st
}

// exposedAction words the action after the worst finding: critical and
// high (or unknown severity) mean now, medium and low the next window.
func exposedAction(st Status, latest Release, haveLatest bool, in Input) string {
	worst := st.Findings[0]
	name := worst.ID
	if n := len(st.Findings) - 1; n > 0 {
		name = fmt.Sprintf("%s (and %d more)", worst.ID, n)
	}
	sev := worst.Severity
	fixed := "(no fixed release known)"
	if worst.FixedIn != "" {
		fixed = "fixed in " + worst.FixedIn
	}
	urgency := "update in the next maintenance window"
	if sev == "critical" || sev == "high" || sev == "unknown" {
		urgency = "emergency update now"
	}
	// The target must fix every finding; the latest release normally does.
	target := ""
	if haveLatest && !stillAffected(in.Advisories, st.Findings, latest.Version) {
		target = latest.Tag
	} else {
		var max Version
		allFixed := true
		for _, f := range st.Findings {
			if f.FixedIn == "" {
				allFixed = false
				break
			}
			if v := MustParseVersion(f.FixedIn); max.Less(v) {
				max = v
			}
		}
		if allFixed {
			target = max.Tag()
		}
	}
	if target == "" {
		return fmt.Sprintf("%s advisory %s: no release fixes it yet; restrict access to Chatwoot and watch for a fix", sev, name)
	}
	return fmt.Sprintf("%s advisory %s %s: %s to %s", sev, name, fixed, urgency, target)
}

// stillAffected reports whether v is affected by any of the findings.
func stillAffected(all []Advisory, findings []Finding, v Version) bool {
	ids := map[string]bool{}
	for _, f := range findings {
		ids[f.ID] = true
	}
	for _, a := range all {
		if ids[a.ID] && a.Affects(v) {
			return true
		}
	}
	return false
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Summary is one line for logs and notifications.
func (s Status) Summary() string {
	parts := []string{s.State}
	if s.Running != "" {
		parts = append(parts, "running "+s.Running)
	}
	if s.Latest != "" {
		parts = append(parts, "latest "+s.Latest)
	}
	return strings.Join(parts, ", ")
}
