package advisory

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/wootguard/wootguard/internal/cvss"
	"github.com/wootguard/wootguard/internal/gemversion"
	"github.com/wootguard/wootguard/internal/osv"
)

// osvAffected is one affected[] entry, ready to evaluate.
type osvAffected struct {
	ranges   [][]osvEvent
	versions []gemversion.Version
}

type osvEvent struct {
	kind string // introduced, fixed, last_affected, limit
	v    gemversion.Version
	zero bool // introduced "0": before everything
	inf  bool // limit "*": after everything
}

// affects is the OSV spec's evaluation with Gem::Version ordering.
func (af osvAffected) affects(v gemversion.Version) bool {
	for _, x := range af.versions {
		if x.Equal(v) {
			return true
		}
	}
	for _, events := range af.ranges {
		affected := false
		for _, e := range events {
			switch e.kind {
			case "introduced":
				if e.zero || v.Compare(e.v) >= 0 {
					affected = true
				}
			case "fixed":
				if v.Compare(e.v) >= 0 {
					affected = false
				}
			case "last_affected":
				if v.Compare(e.v) > 0 {
					affected = false
				}
			case "limit":
				if !e.inf && v.Compare(e.v) >= 0 {
					affected = false
				}
			}
		}
		if affected {
			return true
		}
	}
	return false
}

// AddOSVZip adds the RubyGems advisories of an OSV export zip (one OSV
// JSON document per file, as osv.dev's RubyGems/all.zip). Withdrawn
// entries and other ecosystems are skipped; an invalid document fails.
func (db *DB) AddOSVZip(zipPath string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("OSV database %s: %w", zipPath, err)
	}
	defer zr.Close()
	var problems []error
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		where := zipPath + "!" + f.Name
		rc, err := f.Open()
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", where, err))
			continue
		}
		data, err := io.ReadAll(io.LimitReader(rc, 16<<20))
		rc.Close()
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", where, err))
			continue
		}
		as, err := parseOSV(where, data)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		for _, a := range as {
			db.add(a)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("OSV database %s has %d invalid entries:\n%w", zipPath, len(problems), errors.Join(problems...))
	}
	db.OSVZip = zipPath
	return nil
}

// parseOSV turns one OSV document into one Advisory per affected gem.
func parseOSV(where string, data []byte) ([]*Advisory, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
	}
	var e osv.Record
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fail("not OSV JSON: %v", err)
	}
	if e.ID == "" || e.Modified == "" {
		return nil, fail("missing required id or modified")
	}
	if e.Withdrawn != "" {
		return nil, nil
	}
	base := Advisory{
		Feed: FeedOSV, Path: where, ID: e.ID, Title: firstLine(e.Summary, e.Details, e.ID),
		Description: e.Details, Severity: e.DatabaseSpecific.Severity,
	}
	for _, ts := range []string{e.Published, e.Modified} {
		if t, err := parseDate(ts); err == nil {
			base.Date = t
			break
		}
	}
	for _, s := range e.Severity {
		score, err := cvss.Score3(s.Score)
		if s.Type == "CVSS_V3" && err == nil {
			base.CVSSv3 = &score
		}
	}
	for _, id := range append([]string{e.ID}, e.Aliases...) {
		switch {
		case strings.HasPrefix(id, "CVE-") && base.CVE == "":
			base.CVE = strings.TrimPrefix(id, "CVE-")
		case strings.HasPrefix(id, "GHSA-") && base.GHSA == "":
			base.GHSA = strings.TrimPrefix(id, "GHSA-")
		}
	}
	base.Aliases = e.Aliases
	for _, r := range e.References {
		if r.Type == "ADVISORY" || base.URL == "" {
			base.URL = r.URL
			if r.Type == "ADVISORY" {
				break
			}
		}
	}
	if base.URL == "" {
		base.URL = "https://osv.dev/vulnerability/" + e.ID
	}
	byGem := map[string]*Advisory{}
	var out []*Advisory
	for _, af := range e.Affected {
		if !strings.EqualFold(af.Package.Ecosystem, "RubyGems") || af.Package.Name == "" {
			continue
		}
		parsed, err := parseOSVAffected(af.Ranges, af.Versions)
		if err != nil {
			return nil, fail("%s: %v", af.Package.Name, err)
		}
		a := byGem[af.Package.Name]
		if a == nil {
			c := base
			a = &c
			a.Gem = af.Package.Name
			byGem[a.Gem] = a
			out = append(out, a)
		}
		a.osv = append(a.osv, parsed)
		a.PatchedVersions = append(a.PatchedVersions, fixedAsRequirements(parsed)...)
		for _, s := range fixedAsRequirements(parsed) {
			if r, err := gemversion.ParseAdvisoryRequirement(s); err == nil {
				a.patched = append(a.patched, r)
			}
		}
	}
	return out, nil
}

func parseOSVAffected(ranges []osv.Range, versions []string) (osvAffected, error) {
	var out osvAffected
	for _, s := range versions {
		v, err := gemversion.Parse(s)
		if err != nil {
			return out, fmt.Errorf("versions: %v", err)
		}
		out.versions = append(out.versions, v)
	}
	for _, r := range ranges {
		// GIT ranges name commits, not gem versions. SEMVER ranges are
		// read with Gem::Version ordering (they agree on release versions).
		if r.Type == "GIT" {
			continue
		}
		if r.Type != "ECOSYSTEM" && r.Type != "SEMVER" {
			return out, fmt.Errorf("unknown range type %q", r.Type)
		}
		var events []osvEvent
		introduced := false
		for _, ev := range r.Events {
			if len(ev) != 1 {
				return out, fmt.Errorf("event %v must have exactly one of introduced, fixed, last_affected, limit", ev)
			}
			for kind, val := range ev {
				e := osvEvent{kind: kind}
				switch {
				case kind == "introduced" && val == "0":
					e.zero = true
				case kind == "limit" && val == "*":
					e.inf = true
				case kind == "introduced", kind == "fixed", kind == "last_affected", kind == "limit":
					v, err := gemversion.Parse(val)
					if err != nil {
						return out, fmt.Errorf("%s: %v", kind, err)
					}
					e.v = v
				default:
					return out, fmt.Errorf("unknown event %q", kind)
				}
				introduced = introduced || kind == "introduced"
				events = append(events, e)
			}
		}
		if !introduced {
			return out, fmt.Errorf("range without an introduced event")
		}
		// The spec evaluates events in version order; "0" first, "*" last.
		sort.SliceStable(events, func(i, j int) bool { return eventLess(events[i], events[j]) })
		out.ranges = append(out.ranges, events)
	}
	return out, nil
}

func eventLess(a, b osvEvent) bool {
	switch {
	case a.zero != b.zero:
		return a.zero
	case a.inf != b.inf:
		return b.inf
	case a.zero || a.inf:
		return false
	}
	return a.v.Compare(b.v) < 0
}

// fixedAsRequirements renders a range's fixed events as the
// ruby-advisory-db style patched requirements used for the fix hint:
// introduced X, fixed Y, introduced Z, fixed W -> ">= Y, < Z", ">= W".
func fixedAsRequirements(af osvAffected) []string {
	var out []string
	for _, events := range af.ranges {
		for i, e := range events {
			if e.kind != "fixed" {
				continue
			}
			req := ">= " + e.v.String()
			for _, next := range events[i+1:] {
				if next.kind == "introduced" && !next.zero {
					req += ", < " + next.v.String()
					break
				}
			}
			out = append(out, req)
		}
	}
	return out
}

func firstLine(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			line, _, _ := strings.Cut(s, "\n")
			return line
		}
	}
	return ""
}
