package advisory

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// SARIF 2.1.0, the subset GitHub code scanning and other viewers read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	ShortDescription sarifText      `json:"shortDescription"`
	FullDescription  sarifText      `json:"fullDescription"`
	HelpURI          string         `json:"helpUri,omitempty"`
	Help             sarifText      `json:"help"`
	Properties       map[string]any `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region struct {
			StartLine int `json:"startLine"`
		} `json:"region"`
	} `json:"physicalLocation"`
}

// sarifLevel maps criticality: critical/high -> error, medium and
// unknown -> warning, low/none -> note.
func sarifLevel(c string) string {
	switch c {
	case CriticalityCritical, CriticalityHigh:
		return "error"
	case CriticalityLow, CriticalityNone:
		return "note"
	}
	return "warning"
}

// securitySeverity is the numeric score GitHub code scanning sorts by.
func securitySeverity(f *Finding) string {
	for _, s := range []*float64{f.Advisory.CVSSv4, f.Advisory.CVSSv3, f.Advisory.CVSSv2} {
		if s != nil {
			return fmt.Sprintf("%.1f", *s)
		}
	}
	switch f.Criticality {
	case CriticalityCritical:
		return "9.5"
	case CriticalityHigh:
		return "8.0"
	case CriticalityMedium:
		return "5.5"
	case CriticalityLow:
		return "2.0"
	}
	return "5.0"
}

// WriteSARIF writes a SARIF 2.1.0 log: one rule per advisory, one result
// per finding located at the lockfile line of the gem's first variant.
func WriteSARIF(w io.Writer, r *Report, version string) error {
	uri := filepath.ToSlash(r.Lockfile)
	if uri == "" {
		uri = "Gemfile.lock"
	}
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: "wootguard-audit", Version: version,
			InformationURI: "https://github.com/wootguard/wootguard",
			Rules:          []sarifRule{},
		}},
		Results: []sarifResult{},
	}
	ruleIndex := map[string]int{}
	for _, f := range r.Findings {
		a := f.Advisory
		idx, ok := ruleIndex[a.ID]
		if !ok {
			idx = len(run.Tool.Driver.Rules)
			ruleIndex[a.ID] = idx
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
				ID: a.ID, Name: a.Gem + " " + a.ID,
				ShortDescription: sarifText{a.Title},
				FullDescription:  sarifText{firstLine(a.Description, a.Title)},
				HelpURI:          a.URL,
				Help:             sarifText{fmt.Sprintf("%s\n\nPatched versions: %s\nMore: %s", strings.TrimSpace(a.Description), orNone(a.PatchedVersions), a.URL)},
				Properties: map[string]any{
					"tags":              []string{"security", "dependency", "ruby"},
					"security-severity": securitySeverity(f),
					"identifiers":       f.Identifiers(),
				},
			})
		}
		line := 1
		if len(f.Lines) > 0 {
			line = f.Lines[0]
		}
		res := sarifResult{
			RuleID: a.ID, RuleIndex: idx, Level: sarifLevel(f.Criticality),
			Message: sarifText{fmt.Sprintf("%s %s (%s) is vulnerable to %s (%s): %s. Fix: %s.",
				f.Gem, f.Version, strings.Join(f.Platforms, ", "), strings.Join(f.Identifiers(), ", "), f.Criticality, a.Title, f.Fix)},
		}
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation.URI = uri
		loc.PhysicalLocation.Region.StartLine = line
		res.Locations = []sarifLocation{loc}
		run.Results = append(run.Results, res)
	}
	for _, s := range r.InsecureSources {
		const id = "insecure-source"
		idx, ok := ruleIndex[id]
		if !ok {
			idx = len(run.Tool.Driver.Rules)
			ruleIndex[id] = idx
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
				ID: id, Name: "insecure gem source",
				ShortDescription: sarifText{"Gem source fetched without TLS"},
				FullDescription:  sarifText{"A GIT remote over git:// or http://, or a GEM remote over http://, can be tampered with in transit."},
				Help:             sarifText{"Use an https:// remote."},
				Properties:       map[string]any{"tags": []string{"security"}, "security-severity": "7.0"},
			})
		}
		res := sarifResult{RuleID: id, RuleIndex: idx, Level: "error",
			Message: sarifText{fmt.Sprintf("%s source %s is not fetched over TLS: use https://", s.Type, s.Remote)}}
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation.URI = uri
		loc.PhysicalLocation.Region.StartLine = s.Line
		res.Locations = []sarifLocation{loc}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, "; ")
}
