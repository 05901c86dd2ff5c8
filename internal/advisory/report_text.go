package advisory

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for people: one block per finding, then
// insecure sources, ignored findings and a summary line.
func WriteText(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	for _, f := range r.Findings {
		a := f.Advisory
		ew.printf("Name:        %s\n", f.Gem)
		ew.printf("Version:     %s\n", f.Version)
		ew.printf("Platforms:   %s\n", strings.Join(f.Platforms, ", "))
		ew.printf("Advisory:    %s\n", strings.Join(f.Identifiers(), ", "))
		ew.printf("Criticality: %s\n", titleCase(f.Criticality))
		ew.printf("URL:         %s\n", a.URL)
		ew.printf("Title:       %s\n", a.Title)
		ew.printf("Solution:    %s\n\n", f.Fix)
	}
	for _, s := range r.InsecureSources {
		ew.printf("Insecure Source URI found: %s (%s section, line %d): use https://\n\n", s.Remote, s.Type, s.Line)
	}
	for _, f := range r.Ignored {
		why := f.Ignored.Reason
		if why == "" {
			why = "no reason given"
		}
		until := ""
		if !f.Ignored.Expires.IsZero() {
			until = ", until " + f.Ignored.Expires.Format("2006-01-02")
		}
		ew.printf("Ignored: %s %s %s (%s%s; %s)\n", f.Gem, f.Version, f.Advisory.ID, why, until, f.Ignored.Origin)
	}
	for _, rule := range r.ExpiredIgnores {
		ew.printf("Expired ignore: %s expired on %s (%s): it no longer hides anything\n", rule.ID, rule.Expires.Format("2006-01-02"), rule.Origin)
	}
	for _, rule := range r.UnusedIgnores {
		ew.printf("Unused ignore: %s matched no finding (%s): remove it if the gem was updated\n", rule.ID, rule.Origin)
	}
	for _, warn := range r.Warnings {
		ew.printf("Warning: %s\n", warn)
	}
	if len(r.Ignored)+len(r.ExpiredIgnores)+len(r.UnusedIgnores)+len(r.Warnings) > 0 {
		ew.printf("\n")
	}
	if len(r.Findings) == 0 && len(r.InsecureSources) == 0 {
		ew.printf("No vulnerabilities found (%d gems checked against %d advisories).\n", r.Specs, r.Advisories)
	} else {
		gems := map[string]bool{}
		for _, f := range r.Findings {
			gems[f.Gem] = true
		}
		ew.printf("Vulnerabilities found! %d advisories in %d gems, %d insecure sources (%d gems checked against %d advisories).\n",
			len(r.Findings), len(gems), len(r.InsecureSources), r.Specs, r.Advisories)
	}
	return ew.err
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
