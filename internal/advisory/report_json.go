package advisory

import (
	"encoding/json"
	"io"
	"time"
)

// bundler-audit's JSON shape (0.9.x): {"version","created_at","results":[
// {"type":"unpatched_gem","gem":{name,version},"advisory":{...}},
// {"type":"insecure_source","source":"http://..."}]}. wootguard adds a
// top-level "wootguard" object; bundler-audit consumers ignore it.
type jsonReport struct {
	Version   string       `json:"version"`
	CreatedAt string       `json:"created_at"`
	Results   []any        `json:"results"`
	Wootguard jsonExtended `json:"wootguard"`
}

type jsonGemResult struct {
	Type     string       `json:"type"`
	Gem      jsonGem      `json:"gem"`
	Advisory jsonAdvisory `json:"advisory"`
}

type jsonGem struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type jsonAdvisory struct {
	Path               string   `json:"path"`
	ID                 string   `json:"id"`
	URL                string   `json:"url"`
	Title              string   `json:"title"`
	Date               string   `json:"date"`
	Description        string   `json:"description"`
	CVSSv2             *float64 `json:"cvss_v2"`
	CVSSv3             *float64 `json:"cvss_v3"`
	CVSSv4             *float64 `json:"cvss_v4"`
	CVE                *string  `json:"cve"`
	OSVDB              *int     `json:"osvdb"`
	GHSA               *string  `json:"ghsa"`
	UnaffectedVersions []string `json:"unaffected_versions"`
	PatchedVersions    []string `json:"patched_versions"`
	Criticality        *string  `json:"criticality"`
}

type jsonSourceResult struct {
	Type   string `json:"type"`
	Source string `json:"source"`
}

type jsonExtended struct {
	Lockfile       string            `json:"lockfile"`
	Specs          int               `json:"specs_checked"`
	Advisories     int               `json:"advisories_loaded"`
	Findings       []jsonFindingInfo `json:"findings"`
	Ignored        []jsonFindingInfo `json:"ignored"`
	ExpiredIgnores []jsonIgnore      `json:"expired_ignores"`
	Warnings       []string          `json:"warnings"`
}

type jsonFindingInfo struct {
	Gem         string      `json:"gem"`
	Version     string      `json:"version"`
	Platforms   []string    `json:"platforms"`
	Lines       []int       `json:"lines"`
	ID          string      `json:"id"`
	Identifiers []string    `json:"identifiers"`
	Feeds       []string    `json:"feeds"`
	Criticality string      `json:"criticality"`
	Fix         string      `json:"fix"`
	IgnoredBy   *jsonIgnore `json:"ignored_by,omitempty"`
}

type jsonIgnore struct {
	ID      string `json:"id"`
	Reason  string `json:"reason,omitempty"`
	Expires string `json:"expires,omitempty"`
	Origin  string `json:"origin"`
}

// WriteJSON writes the bundler-audit-compatible JSON report. version is
// wootguard's own version; now stamps created_at.
func WriteJSON(w io.Writer, r *Report, version string, now time.Time) error {
	out := jsonReport{
		Version:   version,
		CreatedAt: now.UTC().Format("2006-01-02 15:04:05 -0700"),
		Results:   []any{},
		Wootguard: jsonExtended{
			Lockfile: r.Lockfile, Specs: r.Specs, Advisories: r.Advisories,
			Findings: []jsonFindingInfo{}, Ignored: []jsonFindingInfo{}, ExpiredIgnores: []jsonIgnore{},
			Warnings: append([]string{}, r.Warnings...),
		},
	}
	for _, f := range r.Findings {
		out.Results = append(out.Results, jsonGemResult{Type: "unpatched_gem", Gem: jsonGem{f.Gem, f.Version}, Advisory: toJSONAdvisory(f)})
		out.Wootguard.Findings = append(out.Wootguard.Findings, toJSONInfo(f))
	}
	for _, s := range r.InsecureSources {
		out.Results = append(out.Results, jsonSourceResult{Type: "insecure_source", Source: s.Remote})
	}
	for _, f := range r.Ignored {
		out.Wootguard.Ignored = append(out.Wootguard.Ignored, toJSONInfo(f))
	}
	for _, rule := range r.ExpiredIgnores {
		out.Wootguard.ExpiredIgnores = append(out.Wootguard.ExpiredIgnores, toJSONIgnore(rule))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func toJSONAdvisory(f *Finding) jsonAdvisory {
	a := f.Advisory
	j := jsonAdvisory{
		Path: a.Path, ID: a.ID, URL: a.URL, Title: a.Title, Description: a.Description,
		CVSSv2: a.CVSSv2, CVSSv3: a.CVSSv3, CVSSv4: a.CVSSv4,
		UnaffectedVersions: []string{}, PatchedVersions: []string{},
	}
	if !a.Date.IsZero() {
		j.Date = a.Date.Format("2006-01-02")
	}
	if a.CVE != "" {
		j.CVE = &a.CVE
	}
	if a.GHSA != "" {
		j.GHSA = &a.GHSA
	}
	if a.OSVDB != 0 {
		j.OSVDB = &a.OSVDB
	}
	// bundler-audit prints Gem::Requirement#to_s, which normalises
	// "< 3.0.0-rc.1" to "< 3.0.0.pre.rc.1".
	for _, r := range a.unaffected {
		j.UnaffectedVersions = append(j.UnaffectedVersions, r.String())
	}
	for _, r := range a.patched {
		j.PatchedVersions = append(j.PatchedVersions, r.String())
	}
	// bundler-audit emits null for unknown criticality.
	if f.Criticality != CriticalityUnknown {
		c := f.Criticality
		j.Criticality = &c
	}
	return j
}

func toJSONInfo(f *Finding) jsonFindingInfo {
	feeds := []string{f.Advisory.Feed}
	for _, a := range f.Also {
		feeds = append(feeds, a.Feed)
	}
	j := jsonFindingInfo{
		Gem: f.Gem, Version: f.Version, Platforms: f.Platforms, Lines: f.Lines, ID: f.Advisory.ID,
		Identifiers: f.Identifiers(), Feeds: feeds, Criticality: f.Criticality, Fix: f.Fix,
	}
	if f.Ignored != nil {
		ig := toJSONIgnore(*f.Ignored)
		j.IgnoredBy = &ig
	}
	return j
}

func toJSONIgnore(r IgnoreRule) jsonIgnore {
	j := jsonIgnore{ID: r.ID, Reason: r.Reason, Origin: r.Origin}
	if !r.Expires.IsZero() {
		j.Expires = r.Expires.Format("2006-01-02")
	}
	return j
}
