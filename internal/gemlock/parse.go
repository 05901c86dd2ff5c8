package gemlock

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/wootguard/wootguard/internal/gemversion"
)

// LineError is a parse error at a 1-based line.
type LineError struct {
	Line   int
	Reason string
}

// Error reads "12: reason" so that ParseFile can prefix the file name.
func (e *LineError) Error() string { return fmt.Sprintf("%d: %s", e.Line, e.Reason) }

var (
	// nameVersion is Bundler's NAME_VERSION: the version is the text before
	// the first "-" inside the parentheses, the rest is the platform.
	nameVersion = regexp.MustCompile(`^(\S+?)(?: \(([^-]*)(?:-(.*))?\))?(!)?$`)
	// depLine is "name", "name (reqs)" with an optional "!".
	depLine = regexp.MustCompile(`^(\S+?)(?: \(([^)]*)\))?(!)?$`)
	gemName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	keyLine = regexp.MustCompile(`^([a-z_]+): ?(.*)$`)
)

var sourceSections = map[string]bool{"GEM": true, "GIT": true, "PATH": true, "PLUGIN SOURCE": true}

// Parse parses lockfile content.
func Parse(data []byte) (*Lockfile, error) {
	if !utf8.Valid(data) {
		return nil, &LineError{Line: 1, Reason: "not UTF-8 text (is this really a Gemfile.lock?)"}
	}
	p := parser{lf: &Lockfile{}}
	lines := bytes.Split(data, []byte("\n"))
	for i, raw := range lines {
		if err := p.line(i+1, strings.TrimSuffix(string(raw), "\r")); err != nil {
			return nil, err
		}
	}
	if p.section == "" {
		return nil, &LineError{Line: 1, Reason: "no sections found: a Gemfile.lock starts with GEM, GIT or PATH"}
	}
	if len(p.lf.Sources) == 0 {
		return nil, &LineError{Line: 1, Reason: "no GEM, GIT or PATH section"}
	}
	for _, s := range p.lf.Sources {
		if s.Type == "GIT" && len(s.Remotes) == 0 {
			return nil, &LineError{Line: s.Line, Reason: "GIT section without a remote"}
		}
	}
	return p.lf, nil
}

type parser struct {
	lf      *Lockfile
	section string  // current section header, "" before the first
	source  *Source // current source section
	inSpecs bool    // after "  specs:"
	spec    *Spec   // last spec, for its dependency lines
}

func (p *parser) line(n int, s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	errf := func(format string, args ...any) error {
		return &LineError{Line: n, Reason: fmt.Sprintf(format, args...)}
	}
	for _, m := range []string{"<<<<<<<", "=======", ">>>>>>>"} {
		if strings.HasPrefix(s, m) {
			return errf("merge conflict marker %q: resolve the conflict (or re-run 'bundle lock') first", m)
		}
	}
	if strings.ContainsRune(s, '\t') {
		return errf("tab character: lockfiles are indented with spaces")
	}
	indent := len(s) - len(strings.TrimLeft(s, " "))
	text := s[indent:]
	if indent == 0 {
		return p.header(n, text)
	}
	switch p.section {
	case "":
		return errf("indented line before any section header")
	case "GEM", "GIT", "PATH", "PLUGIN SOURCE":
		return p.sourceLine(n, indent, text)
	case "PLATFORMS":
		if indent != 2 || strings.ContainsRune(text, ' ') {
			return errf("malformed platform %q (want two spaces and one platform name)", s)
		}
		p.lf.Platforms = append(p.lf.Platforms, text)
	case "DEPENDENCIES":
		if indent != 2 {
			return errf("malformed dependency %q (want two spaces, a name and optional requirements)", s)
		}
		d, err := parseDep(n, text)
		if err != nil {
			return err
		}
		p.lf.Dependencies = append(p.lf.Dependencies, d)
	case "RUBY VERSION":
		if p.lf.RubyVersion != "" {
			return errf("second line in RUBY VERSION")
		}
		p.lf.RubyVersion = text
	case "BUNDLED WITH":
		if p.lf.BundledWith != "" {
			return errf("second line in BUNDLED WITH")
		}
		if _, err := gemversion.Parse(text); err != nil {
			return errf("BUNDLED WITH: %v", err)
		}
		p.lf.BundledWith = text
	}
	// CHECKSUMS and unknown sections: content is not needed.
	return nil
}

func (p *parser) header(n int, text string) error {
	if strings.ToUpper(text) != text || strings.TrimSpace(text) != text {
		return &LineError{Line: n, Reason: fmt.Sprintf("unexpected unindented line %q (want a section name such as GEM, or two-space indentation)", text)}
	}
	p.section, p.source, p.inSpecs, p.spec = text, nil, false, nil
	switch {
	case sourceSections[text]:
		p.source = &Source{Type: text, Line: n, Options: map[string]string{}}
		p.lf.Sources = append(p.lf.Sources, p.source)
	case text == "PLATFORMS", text == "DEPENDENCIES", text == "RUBY VERSION", text == "BUNDLED WITH", text == "CHECKSUMS":
	default:
		p.lf.Unknown = append(p.lf.Unknown, text)
	}
	return nil
}

func (p *parser) sourceLine(n, indent int, text string) error {
	errf := func(format string, args ...any) error {
		return &LineError{Line: n, Reason: fmt.Sprintf(format, args...)}
	}
	switch indent {
	case 2:
		if p.inSpecs {
			return errf("option %q after specs: in %s section", text, p.section)
		}
		if text == "specs:" {
			p.inSpecs = true
			return nil
		}
		m := keyLine.FindStringSubmatch(text)
		if m == nil {
			return errf("malformed %s option %q (want key: value)", p.section, text)
		}
		if m[1] == "remote" {
			p.source.Remotes = append(p.source.Remotes, m[2])
		} else {
			p.source.Options[m[1]] = m[2]
		}
	case 4:
		if !p.inSpecs {
			return errf("spec %q before specs: in %s section", text, p.section)
		}
		m := nameVersion.FindStringSubmatch(text)
		if m == nil || m[2] == "" || m[4] != "" || !gemName.MatchString(m[1]) {
			return errf("malformed spec %q (want name (version) or name (version-platform))", text)
		}
		if _, err := gemversion.Parse(m[2]); err != nil {
			return errf("spec %s: %v", m[1], err)
		}
		if strings.HasPrefix(text[len(m[1]):], " (") && strings.Count(text, "(") != 1 {
			return errf("malformed spec %q", text)
		}
		spec := &Spec{Name: m[1], Version: m[2], Platform: m[3], Line: n, Source: p.source}
		p.source.Specs = append(p.source.Specs, spec)
		p.lf.Specs = append(p.lf.Specs, spec)
		p.spec = spec
	case 6:
		if p.spec == nil {
			return errf("dependency line %q before any spec", text)
		}
		d, err := parseDep(n, text)
		if err != nil {
			return err
		}
		if d.Pinned {
			return errf("unexpected ! in spec dependency %q", text)
		}
		p.spec.Deps = append(p.spec.Deps, d)
	default:
		return errf("unexpected indentation of %d spaces in %s section (want 2, 4 or 6)", indent, p.section)
	}
	return nil
}

func parseDep(n int, text string) (Dependency, error) {
	m := depLine.FindStringSubmatch(text)
	if m == nil || !gemName.MatchString(m[1]) {
		return Dependency{}, &LineError{Line: n, Reason: fmt.Sprintf("malformed dependency %q (want name, name (requirement) and an optional !)", text)}
	}
	d := Dependency{Name: m[1], Requirement: m[2], Pinned: m[3] != "", Line: n}
	if d.Requirement != "" {
		if _, err := gemversion.NewRequirement(strings.Split(d.Requirement, ", ")...); err != nil {
			return Dependency{}, &LineError{Line: n, Reason: fmt.Sprintf("dependency %s: %v", d.Name, err)}
		}
	}
	return d, nil
}
