// Package osv is the part of the OSV schema (ossf/osv-schema 1.7) that
// wootguard reads: RubyGems advisories for the audit, Chatwoot's own
// records for the update status. Interpretation stays with each reader.
package osv

// Record is one OSV advisory. Timestamps are kept as written (RFC 3339)
// so that a reader decides how strict to be.
type Record struct {
	ID               string      `json:"id"`
	Modified         string      `json:"modified"`
	Published        string      `json:"published"`
	Withdrawn        string      `json:"withdrawn"`
	Aliases          []string    `json:"aliases"`
	Summary          string      `json:"summary"`
	Details          string      `json:"details"`
	Severity         []Severity  `json:"severity"`
	Affected         []Affected  `json:"affected"`
	References       []Reference `json:"references"`
	DatabaseSpecific struct {
		Severity string `json:"severity"` // GHSA's label: LOW, MODERATE, HIGH, CRITICAL
	} `json:"database_specific"`
}

// Severity is a scoring vector, e.g. {CVSS_V3, "CVSS:3.1/AV:N/..."}.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one affected package with its ranges and listed versions.
type Affected struct {
	Package  Package  `json:"package"`
	Ranges   []Range  `json:"ranges"`
	Versions []string `json:"versions"`
}

// Package names what is affected.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl"`
}

// Range is an ECOSYSTEM, SEMVER or GIT range; each event has exactly one
// of introduced, fixed, last_affected, limit.
type Range struct {
	Type   string              `json:"type"`
	Repo   string              `json:"repo"`
	Events []map[string]string `json:"events"`
}

// Reference is a link about the advisory.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}
