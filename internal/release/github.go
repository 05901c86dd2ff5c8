package release

import (
	"fmt"
	"strings"
	"time"
)

type githubAdvisory struct {
	GHSAID          string     `json:"ghsa_id"`
	CVEID           *string    `json:"cve_id"`
	HTMLURL         string     `json:"html_url"`
	Summary         string     `json:"summary"`
	Severity        string     `json:"severity"`
	PublishedAt     *time.Time `json:"published_at"`
	WithdrawnAt     *time.Time `json:"withdrawn_at"`
	Vulnerabilities []struct {
		Package *struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
		} `json:"package"`
		VulnerableVersionRange string  `json:"vulnerable_version_range"`
		PatchedVersions        *string `json:"patched_versions"`
	} `json:"vulnerabilities"`
	CVSSSeverities struct {
		V3 *githubCVSS `json:"cvss_v3"`
		V4 *githubCVSS `json:"cvss_v4"`
	} `json:"cvss_severities"`
	CVSS *githubCVSS `json:"cvss"` // older API shape
}

type githubCVSS struct {
	Vector *string  `json:"vector_string"`
	Score  *float64 `json:"score"`
}

// ParseGitHubAdvisories reads the JSON array of
// GET /repos/chatwoot/chatwoot/security-advisories. Withdrawn advisories are
// dropped. Ranges of other packages (an advisory may also name an npm or
// RubyGems package) are ignored: only Chatwoot's own versions matter here.
func ParseGitHubAdvisories(data []byte) ([]Advisory, error) {
	var raw []githubAdvisory
	if err := decodeJSON("advisory feed", data, &raw); err != nil {
		return nil, err
	}
	var out []Advisory
	for i, g := range raw {
		if g.GHSAID == "" {
			return nil, fmt.Errorf("advisory feed: entry %d has no ghsa_id (is this a GitHub security-advisories list?)", i)
		}
		if g.WithdrawnAt != nil {
			continue
		}
		a := Advisory{ID: g.GHSAID, Summary: g.Summary, URL: g.HTMLURL, Severity: normalizeSeverity(g.Severity), Source: "github"}
		if g.CVEID != nil && *g.CVEID != "" {
			a.Aliases = append(a.Aliases, *g.CVEID)
		}
		if g.PublishedAt != nil {
			a.Published = *g.PublishedAt
		}
		for _, c := range []*githubCVSS{g.CVSSSeverities.V4, g.CVSSSeverities.V3, g.CVSS} {
			if c != nil && c.Score != nil && *c.Score > 0 {
				a.CVSS = *c.Score
				if c.Vector != nil {
					a.CVSSVector = *c.Vector
				}
				break
			}
		}
		if a.Severity == "" {
			a.Severity = severityFromScore(a.CVSS)
		}
		for _, v := range g.Vulnerabilities {
			if v.Package != nil && !isChatwootPackage(v.Package.Ecosystem, v.Package.Name) {
				continue
			}
			r, err := ParseRange(v.VulnerableVersionRange)
			if err != nil {
				a.Unreadable = append(a.Unreadable, describeUnreadable(a.ID, "vulnerable_version_range", err))
				continue
			}
			a.Affected = append(a.Affected, r)
			if v.PatchedVersions != nil {
				a.Fixed = append(a.Fixed, parseFixedList(*v.PatchedVersions)...)
			}
		}
		if len(a.Affected) == 0 && len(a.Unreadable) == 0 {
			a.Unreadable = append(a.Unreadable, a.ID+": names no Chatwoot version range")
		}
		out = append(out, a)
	}
	return out, nil
}

// isChatwootPackage: repository advisories for Chatwoot use ecosystem
// "other" (or none); a named package of a real ecosystem is somebody
// else's version scheme.
func isChatwootPackage(ecosystem, name string) bool {
	e := strings.ToLower(ecosystem)
	return e == "" || e == "other" || strings.Contains(strings.ToLower(name), "chatwoot")
}
