// Package advisory checks a parsed Gemfile.lock against advisory data: a
// ruby-advisory-db checkout (the data bundler-audit uses) and, optionally,
// an OSV RubyGems export. It matches like bundler-audit but reports each
// gem once per advisory (platform variants merged), honours the advisory
// "platform:" key, merges the same advisory from both feeds, flags
// insecure sources by URL scheme only, and supports an ignore list with
// reasons and expiry dates.
package advisory

import (
	"strconv"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/gemversion"
)

// Feed names for Advisory.Feed.
const (
	FeedRubySec = "ruby-advisory-db"
	FeedOSV     = "osv"
)

// Advisory is one advisory for one gem.
type Advisory struct {
	Feed        string // FeedRubySec or FeedOSV
	Path        string // file it came from ("all.zip!GHSA-x.json" for OSV)
	ID          string // file name without .yml, or the OSV id
	Gem         string
	Platform    string // ruby-advisory-db "platform:", e.g. "jruby"
	Library     string
	Framework   string
	CVE         string // without the "CVE-" prefix, as ruby-advisory-db stores it
	GHSA        string // without the "GHSA-" prefix
	OSVDB       int
	URL         string
	Title       string
	Description string
	Date        time.Time
	CVSSv2      *float64
	CVSSv3      *float64
	CVSSv4      *float64
	// Severity is a qualitative severity when no score is known (OSV
	// database_specific.severity from GHSA: LOW, MODERATE, HIGH, CRITICAL).
	Severity string
	Aliases  []string // OSV aliases (CVE-..., GHSA-...)

	PatchedVersions    []string // as written
	UnaffectedVersions []string
	patched            []gemversion.Requirement
	unaffected         []gemversion.Requirement
	osv                []osvAffected // OSV feed only
}

// Identifiers are every id this advisory is known by: its own id,
// CVE-..., GHSA-..., OSVDB-... and the OSV aliases, without duplicates.
func (a *Advisory) Identifiers() []string {
	var ids []string
	add := func(s string) {
		if s == "" {
			return
		}
		for _, x := range ids {
			if strings.EqualFold(x, s) {
				return
			}
		}
		ids = append(ids, s)
	}
	add(a.ID)
	if a.CVE != "" {
		add("CVE-" + a.CVE)
	}
	if a.GHSA != "" {
		add("GHSA-" + a.GHSA)
	}
	if a.OSVDB != 0 {
		add("OSVDB-" + strconv.Itoa(a.OSVDB))
	}
	for _, x := range a.Aliases {
		add(x)
	}
	return ids
}

// Vulnerable reports whether version v is affected. ruby-advisory-db:
// not in any patched and not in any unaffected requirement (exactly
// bundler-audit's rule). OSV: inside an affected range or listed.
func (a *Advisory) Vulnerable(v gemversion.Version) bool {
	if a.Feed == FeedOSV {
		for _, af := range a.osv {
			if af.affects(v) {
				return true
			}
		}
		return false
	}
	for _, r := range a.patched {
		if r.SatisfiedBy(v) {
			return false
		}
	}
	for _, r := range a.unaffected {
		if r.SatisfiedBy(v) {
			return false
		}
	}
	return true
}

// Patched returns the parsed patched_versions requirements.
func (a *Advisory) Patched() []gemversion.Requirement { return a.patched }

// Criticality levels, lowest first.
const (
	CriticalityUnknown  = "unknown"
	CriticalityNone     = "none"
	CriticalityLow      = "low"
	CriticalityMedium   = "medium"
	CriticalityHigh     = "high"
	CriticalityCritical = "critical"
)

// Criticality is bundler-audit's: cvss_v4, else cvss_v3 (none 0, low
// 0.1-3.9, medium 4-6.9, high 7-8.9, critical 9-10), else cvss_v2 (low
// < 4, medium < 7, high), else unknown. For OSV data without a score the
// GHSA qualitative severity is used.
func (a *Advisory) Criticality() string {
	score := a.CVSSv4
	if score == nil {
		score = a.CVSSv3
	}
	if score != nil {
		switch s := *score; {
		case s == 0:
			return CriticalityNone
		case s < 4:
			return CriticalityLow
		case s < 7:
			return CriticalityMedium
		case s < 9:
			return CriticalityHigh
		default:
			return CriticalityCritical
		}
	}
	if a.CVSSv2 != nil {
		switch s := *a.CVSSv2; {
		case s < 4:
			return CriticalityLow
		case s < 7:
			return CriticalityMedium
		default:
			return CriticalityHigh
		}
	}
	switch strings.ToUpper(a.Severity) {
	case "LOW":
		return CriticalityLow
	case "MODERATE", "MEDIUM":
		return CriticalityMedium
	case "HIGH":
		return CriticalityHigh
	case "CRITICAL":
		return CriticalityCritical
	}
	return CriticalityUnknown
}

// criticalityRank orders criticalities for --fail-on; unknown ranks
// lowest so that only "any" fails on it.
func criticalityRank(c string) int {
	switch c {
	case CriticalityNone:
		return 1
	case CriticalityLow:
		return 2
	case CriticalityMedium:
		return 3
	case CriticalityHigh:
		return 4
	case CriticalityCritical:
		return 5
	}
	return 0
}
