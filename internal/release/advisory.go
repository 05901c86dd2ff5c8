package release

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Advisory is one security advisory about Chatwoot itself, from a GitHub
// repository advisory or an OSV record.
type Advisory struct {
	ID      string   `json:"id"`                // GHSA-… or the OSV id
	Aliases []string `json:"aliases,omitempty"` // CVE-…, other ids
	Summary string   `json:"summary,omitempty"`
	URL     string   `json:"url,omitempty"`
	// Severity is critical, high, medium or low; empty when unknown.
	Severity   string    `json:"severity,omitempty"`
	CVSS       float64   `json:"cvss,omitempty"` // base score, 0 when unknown
	CVSSVector string    `json:"cvss_vector,omitempty"`
	Published  time.Time `json:"published,omitempty"`
	// Affected versions: the advisory applies when any range contains the
	// version.
	Affected []Range `json:"-"`
	// Fixed lists the releases that carry the fix.
	Fixed []Version `json:"-"`
	// Unreadable holds version ranges this tool could not parse; such an
	// advisory is reported as "check by hand", never silently dropped.
	Unreadable []string `json:"unreadable,omitempty"`
	Source     string   `json:"source"` // "github" | "osv"
}

// Affects reports whether the advisory applies to v.
func (a Advisory) Affects(v Version) bool {
	for _, r := range a.Affected {
		if r.Contains(v) {
			return true
		}
	}
	return false
}

// FixedAfter returns the lowest fixed version newer than v.
func (a Advisory) FixedAfter(v Version) (Version, bool) {
	var best Version
	found := false
	for _, f := range a.Fixed {
		if v.Less(f) && (!found || f.Less(best)) {
			best, found = f, true
		}
	}
	return best, found
}

// Names is the id followed by its aliases.
func (a Advisory) Names() []string { return append([]string{a.ID}, a.Aliases...) }

// severityRank orders severities; unknown is below low so that it never
// masks a known one.
func severityRank(s string) int {
	switch s {
	case "critical":
		return 4
	case "high":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	}
	return 0
}

// normalizeSeverity maps the spellings in the wild (GitHub's "moderate",
// OSV's upper case) to critical|high|medium|low, or "".
func normalizeSeverity(s string) string {
	switch s = strings.ToLower(strings.TrimSpace(s)); s {
	case "critical", "high", "medium", "low":
		return s
	case "moderate":
		return "medium"
	}
	return ""
}

// severityFromScore is the CVSS v3/v4 qualitative rating.
func severityFromScore(score float64) string {
	switch {
	case score >= 9:
		return "critical"
	case score >= 7:
		return "high"
	case score >= 4:
		return "medium"
	case score > 0:
		return "low"
	}
	return ""
}

// Merge joins advisory lists from several feeds. Records naming the same
// vulnerability (shared id or alias, e.g. a GHSA and the OSV record of its
// CVE) become one; the first list's fields win, missing ones are filled in,
// and ranges from both are kept. The result is sorted by id.
func Merge(lists ...[]Advisory) []Advisory {
	var out []Advisory
	index := map[string]int{}
	for _, list := range lists {
		for _, a := range list {
			at := -1
			for _, n := range a.Names() {
				if i, ok := index[strings.ToUpper(n)]; ok {
					at = i
					break
				}
			}
			if at < 0 {
				out = append(out, a)
				at = len(out) - 1
			} else {
				out[at] = mergeInto(out[at], a)
			}
			for _, n := range out[at].Names() {
				index[strings.ToUpper(n)] = at
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func mergeInto(a, b Advisory) Advisory {
	have := map[string]bool{}
	for _, n := range a.Names() {
		have[strings.ToUpper(n)] = true
	}
	for _, n := range b.Names() {
		if !have[strings.ToUpper(n)] {
			a.Aliases = append(a.Aliases, n)
			have[strings.ToUpper(n)] = true
		}
	}
	if a.Summary == "" {
		a.Summary = b.Summary
	}
	if a.URL == "" {
		a.URL = b.URL
	}
	if a.Severity == "" {
		a.Severity = b.Severity
	}
	if a.CVSS == 0 {
		a.CVSS, a.CVSSVector = b.CVSS, b.CVSSVector
	}
	if a.Published.IsZero() {
		a.Published = b.Published
	}
	a.Affected = append(a.Affected, b.Affected...)
	a.Fixed = append(a.Fixed, b.Fixed...)
	a.Unreadable = append(a.Unreadable, b.Unreadable...)
	return a
}

// parseFixedList reads patched_versions such as "4.13.0", ">= 4.13.0" or
// "4.10.5, 4.11.2"; parts that are not versions are ignored.
func parseFixedList(s string) []Version {
	var out []Version
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimLeft(strings.TrimSpace(part), "<>=~ ")
		if v, err := ParseVersion(part); err == nil {
			out = append(out, v)
		}
	}
	return out
}

func describeUnreadable(id, what string, err error) string {
	return fmt.Sprintf("%s: %s: %v", id, what, err)
}
