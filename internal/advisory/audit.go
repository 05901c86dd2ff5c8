package advisory

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/gemlock"
	"github.com/wootguard/wootguard/internal/gemversion"
)

// Finding is one vulnerable gem version and one advisory.
type Finding struct {
	Gem     string
	Version string
	// Platforms are the lockfile variants the advisory applies to,
	// "ruby" for the generic one: nokogiri 1.19.3 and its three native
	// builds are one finding, not four.
	Platforms []string
	Lines     []int // lockfile lines of those variants
	Advisory  *Advisory
	// Also holds the same advisory from the other feed (matched by
	// id, CVE or GHSA), merged into this finding.
	Also        []*Advisory
	Criticality string
	Fix         string      // "update nokogiri to >= 1.19.4"
	Ignored     *IgnoreRule // the rule that ignores it, nil if reported
}

// Identifiers are the ids of the advisory and of the merged duplicates.
func (f *Finding) Identifiers() []string {
	ids := f.Advisory.Identifiers()
	for _, a := range f.Also {
		for _, id := range a.Identifiers() {
			if !containsFold(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// InsecureSource is a gem source fetched over an unauthenticated channel.
type InsecureSource struct {
	Type   string // GEM or GIT
	Remote string
	Line   int
}

// Report is the outcome of an audit.
type Report struct {
	Lockfile        string
	Findings        []*Finding // not ignored
	Ignored         []*Finding
	InsecureSources []InsecureSource
	ExpiredIgnores  []IgnoreRule // rules past their date: they ignore nothing
	UnusedIgnores   []IgnoreRule // active rules that matched nothing
	Specs           int          // specs checked
	Advisories      int          // advisories loaded
	Warnings        []string     // e.g. a stale database
}

// Options tune Audit.
type Options struct {
	Ignore *IgnoreList
	Today  time.Time // decides ignore expiry; zero means time.Now()
}

// Audit matches every spec of lf against db.
func Audit(lf *gemlock.Lockfile, db *DB, opt Options) *Report {
	today := opt.Today
	if today.IsZero() {
		today = time.Now()
	}
	rep := &Report{Lockfile: lf.Path, Specs: len(lf.Specs), Advisories: db.Len()}
	javaLock := false
	for _, p := range lf.Platforms {
		javaLock = javaLock || isJavaPlatform(p)
	}
	// Group platform variants of one gem version, in lockfile order.
	type group struct {
		name, version string
		specs         []*gemlock.Spec
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, s := range lf.Specs {
		k := s.Name + "\x00" + s.Version
		g := byKey[k]
		if g == nil {
			g = &group{name: s.Name, version: s.Version}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.specs = append(g.specs, s)
	}
	var all []*Finding
	for _, g := range groups {
		advs := db.ForGem(g.name)
		if len(advs) == 0 {
			continue
		}
		v, err := gemversion.Parse(g.version)
		if err != nil { // gemlock validated it; keep going regardless
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: version %q: %v", g.name, g.version, err))
			continue
		}
		var found []*Finding
		for _, a := range advs {
			var variants []*gemlock.Spec
			for _, s := range g.specs {
				if platformApplies(a.Platform, s.Platform, javaLock) {
					variants = append(variants, s)
				}
			}
			if len(variants) == 0 || !a.Vulnerable(v) {
				continue
			}
			if dup := sameAdvisory(found, a); dup != nil {
				dup.Also = append(dup.Also, a)
				continue
			}
			f := &Finding{Gem: g.name, Version: g.version, Advisory: a}
			for _, s := range variants {
				p := s.Platform
				if p == "" {
					p = "ruby"
				}
				f.Platforms = append(f.Platforms, p)
				f.Lines = append(f.Lines, s.Line)
			}
			found = append(found, f)
		}
		for _, f := range found {
			f.Criticality = f.Advisory.Criticality()
			for _, a := range f.Also {
				if f.Criticality == CriticalityUnknown {
					f.Criticality = a.Criticality()
				}
			}
			f.Fix = fixFor(f, v)
		}
		all = append(all, found...)
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Gem != b.Gem {
			return a.Gem < b.Gem
		}
		return a.Advisory.ID < b.Advisory.ID
	})
	var active []IgnoreRule
	if opt.Ignore != nil {
		active, rep.ExpiredIgnores = opt.Ignore.Split(today)
	}
	used := map[int]bool{}
	for _, f := range all {
		if i := matchIgnore(active, f.Identifiers()); i >= 0 {
			r := active[i]
			f.Ignored = &r
			used[i] = true
			rep.Ignored = append(rep.Ignored, f)
			continue
		}
		rep.Findings = append(rep.Findings, f)
	}
	for i, r := range active {
		if !used[i] {
			rep.UnusedIgnores = append(rep.UnusedIgnores, r)
		}
	}
	rep.InsecureSources = insecureSources(lf)
	return rep
}

// sameAdvisory finds a finding for the same advisory from the other
// feed: the two share an id, CVE or GHSA.
func sameAdvisory(found []*Finding, a *Advisory) *Finding {
	ids := a.Identifiers()
	for _, f := range found {
		for _, id := range f.Identifiers() {
			if containsFold(ids, id) {
				return f
			}
		}
	}
	return nil
}

// platformApplies maps an advisory's "platform:" onto a lockfile spec.
// "jruby" (the only value in ruby-advisory-db) applies to java builds,
// and to the generic ruby variant only when the lockfile is resolved for
// a java platform too, since JRuby may then install it. Any other value
// is applied everywhere rather than risk a missed advisory.
func platformApplies(advisoryPlatform, specPlatform string, javaLock bool) bool {
	switch strings.ToLower(advisoryPlatform) {
	case "":
		return true
	case "jruby", "java":
		if specPlatform == "" {
			return javaLock
		}
		return isJavaPlatform(specPlatform)
	case "ruby", "mri":
		return !isJavaPlatform(specPlatform)
	}
	return true
}

func isJavaPlatform(p string) bool {
	p = strings.ToLower(p)
	// java, jruby, universal-java-11, x86_64-linux-java...
	return strings.Contains(p, "java") || strings.HasPrefix(p, "jruby")
}

// insecureSources flags GIT remotes over git:// or http:// and GEM
// remotes over http://, by scheme alone: unlike bundler-audit no DNS
// lookup decides, so the verdict is the same offline and online.
func insecureSources(lf *gemlock.Lockfile) []InsecureSource {
	var out []InsecureSource
	for _, s := range lf.Sources {
		for _, r := range s.Remotes {
			u, err := url.Parse(r)
			if err != nil {
				continue
			}
			scheme := strings.ToLower(u.Scheme)
			if (s.Type == "GIT" && (scheme == "git" || scheme == "http")) || (s.Type == "GEM" && scheme == "http") {
				out = append(out, InsecureSource{Type: s.Type, Remote: r, Line: s.Line})
			}
		}
	}
	return out
}

// fixFor phrases the remedy: the smallest patched requirement whose lower
// bound is at or above the installed version.
func fixFor(f *Finding, v gemversion.Version) string {
	patched := f.Advisory.Patched()
	for _, a := range f.Also {
		patched = append(patched, a.Patched()...)
	}
	if len(patched) == 0 {
		return "remove or disable this gem until a patch is available"
	}
	var best gemversion.Requirement
	var bestLow gemversion.Version
	found := false
	for _, r := range patched {
		low, ok := r.LowerBound()
		if !ok || low.Compare(v) < 0 {
			continue
		}
		if !found || low.Compare(bestLow) < 0 {
			best, bestLow, found = r, low, true
		}
	}
	if !found {
		var all []string
		for _, r := range patched {
			all = append(all, r.String())
		}
		return fmt.Sprintf("no patched %s release at or above %s (patched: %s): remove or disable this gem, or move to a patched line", f.Gem, f.Version, strings.Join(all, "; "))
	}
	fix := fmt.Sprintf("update %s to %s", f.Gem, describeRequirement(best))
	if hasUpperBound(best) {
		for _, r := range patched {
			if low, ok := r.LowerBound(); ok && low.Compare(bestLow) > 0 {
				return fix + " (or a later patched series)"
			}
		}
	}
	return fix
}

func hasUpperBound(r gemversion.Requirement) bool {
	for _, c := range r.Clauses {
		if c.Op == "~>" || c.Op == "<" || c.Op == "<=" {
			return true
		}
	}
	return false
}

// describeRequirement says "~> 6.1.7, >= 6.1.7.1" as ">= 6.1.7.1, < 6.2"
// and "~> 5.2.8" as ">= 5.2.8, < 5.3": what a user can check by eye.
func describeRequirement(r gemversion.Requirement) string {
	low, _ := r.LowerBound()
	parts := []string{">= " + low.String()}
	for _, c := range r.Clauses {
		switch c.Op {
		case ">":
			parts[0] = "> " + c.Version.String()
		case "~>":
			parts = append(parts, "< "+c.Version.Bump().String())
		case "<", "<=", "!=":
			parts = append(parts, c.String())
		case "=":
			return "= " + c.Version.String()
		}
	}
	return strings.Join(parts, ", ")
}

func containsFold(ss []string, s string) bool {
	for _, x := range ss {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Failing returns the reported findings at or above failOn and whether
// the audit fails: "any" fails on any finding or insecure source,
// "none" never fails, a level fails on findings at or above it (unknown
// criticality fails only "any") and on insecure sources.
func (r *Report) Failing(failOn string) ([]*Finding, bool) {
	var out []*Finding
	switch failOn {
	case "none":
		return nil, false
	case "any", "":
		return r.Findings, len(r.Findings) > 0 || len(r.InsecureSources) > 0
	}
	min := criticalityRank(failOn)
	for _, f := range r.Findings {
		if criticalityRank(f.Criticality) >= min {
			out = append(out, f)
		}
	}
	return out, len(out) > 0 || len(r.InsecureSources) > 0
}

// ValidFailOn lists --fail-on values.
var ValidFailOn = []string{"low", "medium", "high", "critical", "any", "none"}
