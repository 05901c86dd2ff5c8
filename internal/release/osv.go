package release

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/cvss"
	"github.com/wootguard/wootguard/internal/osv"
)

// ParseOSV reads OSV JSON: one record, or a JSON array of records. Only
// records about Chatwoot are returned (Chatwoot has no package ecosystem:
// OSV names it by purl pkg:github/chatwoot/chatwoot or by the repository
// of a GIT range). Withdrawn records are dropped.
func ParseOSV(data []byte) ([]Advisory, error) {
	trimmed := bytes.TrimSpace(data)
	var records []osv.Record
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var one osv.Record
		if err := decodeJSON("OSV record", trimmed, &one); err != nil {
			return nil, err
		}
		records = []osv.Record{one}
	} else if err := decodeJSON("OSV records", trimmed, &records); err != nil {
		return nil, err
	}
	var out []Advisory
	for i, r := range records {
		if r.ID == "" {
			return nil, fmt.Errorf("OSV record %d has no id (is this OSV JSON?)", i)
		}
		if r.Withdrawn != "" {
			continue
		}
		if a, ok := osvAdvisory(r); ok {
			out = append(out, a)
		}
	}
	return out, nil
}

func osvAdvisory(r osv.Record) (Advisory, bool) {
	published, _ := time.Parse(time.RFC3339, r.Published) // zero when absent or malformed
	a := Advisory{ID: r.ID, Aliases: r.Aliases, Summary: r.Summary, Published: published, Source: "osv",
		Severity: normalizeSeverity(r.DatabaseSpecific.Severity)}
	for _, ref := range r.References {
		if ref.Type == "ADVISORY" || a.URL == "" {
			a.URL = ref.URL
		}
	}
	for _, s := range r.Severity {
		if s.Type == "CVSS_V3" {
			if score, err := cvss.Score3(s.Score); err == nil {
				a.CVSS, a.CVSSVector = score, s.Score
			}
		} else if a.CVSSVector == "" && strings.HasPrefix(s.Type, "CVSS") {
			a.CVSSVector = s.Score
		}
	}
	if a.Severity == "" {
		a.Severity = severityFromScore(a.CVSS)
	}
	about := false
	for _, aff := range r.Affected {
		isChatwoot := strings.HasPrefix(strings.ToLower(aff.Package.Purl), "pkg:github/chatwoot/chatwoot")
		for _, rg := range aff.Ranges {
			if strings.Contains(strings.ToLower(rg.Repo), "github.com/chatwoot/chatwoot") {
				isChatwoot = true
			}
		}
		if !isChatwoot {
			continue
		}
		about = true
		for _, rg := range aff.Ranges {
			ranges, err := osvRanges(rg.Type, rg.Events)
			if err != nil && !(rg.Type == "GIT" && len(aff.Versions) > 0) {
				a.Unreadable = append(a.Unreadable, describeUnreadable(r.ID, rg.Type+" range", err))
			}
			a.Affected = append(a.Affected, ranges...)
			for _, e := range rg.Events {
				if v, ok := eventVersion(rg.Type, e["fixed"]); ok {
					a.Fixed = append(a.Fixed, v)
				}
			}
		}
		// Explicit versions (OSV lists the affected tags of a GIT range).
		for _, s := range aff.Versions {
			if v, err := ParseVersion(s); err == nil {
				a.Affected = append(a.Affected, exactly(v))
			}
		}
	}
	if about && len(a.Affected) == 0 && len(a.Unreadable) == 0 {
		a.Unreadable = append(a.Unreadable, r.ID+": no version of Chatwoot could be read from its ranges")
	}
	return a, about
}

// eventVersion reads an event value as a Chatwoot version. In GIT ranges
// events are usually commit hashes, which say nothing about versions
// here: only values with a dot that parse as versions (tags) are used.
func eventVersion(rangeType, s string) (Version, bool) {
	if s == "" || (rangeType == "GIT" && !strings.Contains(s, ".")) {
		return Version{}, false
	}
	v, err := ParseVersion(s)
	return v, err == nil
}

// osvRanges walks the events of one range (OSV's evaluation: introduced
// opens an interval, fixed closes it before, last_affected after).
func osvRanges(rangeType string, events []map[string]string) ([]Range, error) {
	var out []Range
	var lo Version
	open := false
	for _, e := range events {
		switch {
		case e["introduced"] != "":
			if e["introduced"] == "0" {
				lo, open = Version{}, true
				continue
			}
			v, ok := eventVersion(rangeType, e["introduced"])
			if !ok {
				if rangeType == "GIT" {
					return out, fmt.Errorf("commit-based range (see the record's versions list)")
				}
				return out, fmt.Errorf("introduced %q is not a version", e["introduced"])
			}
			lo, open = v, true
		case e["fixed"] != "" || e["last_affected"] != "":
			text, inclusive := e["fixed"], false
			if text == "" {
				text, inclusive = e["last_affected"], true
			}
			v, ok := eventVersion(rangeType, text)
			if !ok {
				if rangeType == "GIT" {
					return out, fmt.Errorf("commit-based range (see the record's versions list)")
				}
				return out, fmt.Errorf("end %q is not a version", text)
			}
			if open {
				out = append(out, interval(lo, v, inclusive))
			}
			open = false
		}
	}
	if open {
		out = append(out, interval(lo, Version{}, false))
	}
	return out, nil
}
