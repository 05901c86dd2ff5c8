// Package gemversion is an exact port of RubyGems' Gem::Version and
// Gem::Requirement, the ordering and matching rules that ruby-advisory-db
// and Bundler use. Truth tables generated with real RubyGems
// (scripts/gen-gemversion-truth) pin the behaviour row for row.
package gemversion

import (
	"fmt"
	"regexp"
	"strings"
)

// versionPattern is Gem::Version::VERSION_PATTERN. Go's RE2 has no atomic
// groups; (?>...) only changes backtracking there, not what matches.
const versionPattern = `[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?`

// rubySpace is Ruby's \s: space, \t, \n, \v, \f, \r.
const rubySpace = `[ \t\n\v\f\r]`

var anchoredVersion = regexp.MustCompile(`^` + rubySpace + `*(?:` + versionPattern + `)?` + rubySpace + `*$`)

// Version is a parsed Gem::Version. The zero value is not valid; use Parse.
type Version struct {
	s        string    // normalised string: stripped, "-" replaced by ".pre."
	segs     []segment // Gem::Version#segments
	canon    []segment // Gem::Version#canonical_segments
	hasAlpha bool      // prerelease?
}

// segment is a run of digits (num, kept as a string without leading
// zeros so that arbitrarily long segments compare exactly) or letters.
type segment struct {
	num   string
	str   string
	isStr bool
}

func (s segment) String() string {
	if s.isStr {
		return s.str
	}
	return s.num
}

func (s segment) isZero() bool { return !s.isStr && s.num == "0" }

// compare orders two segments like Gem::Version#<=>: a string sorts
// before a number, numbers numerically, strings bytewise.
func (a segment) compare(b segment) int {
	switch {
	case a.isStr && !b.isStr:
		return -1
	case !a.isStr && b.isStr:
		return 1
	case a.isStr:
		return strings.Compare(a.str, b.str)
	}
	if len(a.num) != len(b.num) {
		if len(a.num) < len(b.num) {
			return -1
		}
		return 1
	}
	return strings.Compare(a.num, b.num)
}

// Parse parses a version string as Gem::Version.new does: surrounding
// whitespace is ignored, blank means "0", "-" becomes ".pre.".
func Parse(s string) (Version, error) {
	if !anchoredVersion.MatchString(s) {
		return Version{}, fmt.Errorf("malformed version number %q", s)
	}
	s = strings.Trim(s, " \t\n\v\f\r")
	if s == "" {
		s = "0"
	}
	s = strings.ReplaceAll(s, "-", ".pre.")
	v := Version{s: s, segs: scanSegments(s)}
	v.hasAlpha = strings.IndexFunc(s, isLetter) >= 0
	v.canon = canonical(v.segs)
	return v, nil
}

// MustParse is Parse for constants; it panics on a malformed version.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }
func isDigit(b byte) bool  { return b >= '0' && b <= '9' }

// scanSegments is @version.scan(/[0-9]+|[a-z]+/i).
func scanSegments(s string) []segment {
	var out []segment
	for i := 0; i < len(s); {
		j := i
		switch {
		case isDigit(s[i]):
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			n := strings.TrimLeft(s[i:j], "0")
			if n == "" {
				n = "0"
			}
			out = append(out, segment{num: n})
		case isLetter(rune(s[i])):
			for j < len(s) && isLetter(rune(s[j])) {
				j++
			}
			out = append(out, segment{str: s[i:j], isStr: true})
		default:
			j++
		}
		i = j
	}
	return out
}

// canonical drops trailing zeros from the numeric part and from the part
// that starts at the first letter segment, then joins them.
func canonical(segs []segment) []segment {
	split := len(segs)
	for i, s := range segs {
		if s.isStr {
			split = i
			break
		}
	}
	out := append([]segment(nil), trimZeros(segs[:split])...)
	return append(out, trimZeros(segs[split:])...)
}

func trimZeros(segs []segment) []segment {
	n := len(segs)
	for n > 0 && segs[n-1].isZero() {
		n--
	}
	return segs[:n]
}

// String returns the normalised version string (Gem::Version#to_s).
func (v Version) String() string { return v.s }

// Segments returns Gem::Version#segments as strings.
func (v Version) Segments() []string {
	out := make([]string, len(v.segs))
	for i, s := range v.segs {
		out[i] = s.String()
	}
	return out
}

// Prerelease reports whether the version contains a letter.
func (v Version) Prerelease() bool { return v.hasAlpha }

// Compare returns -1, 0 or +1 like Gem::Version#<=>.
func (v Version) Compare(o Version) int {
	if v.s == o.s {
		return 0
	}
	l, r := v.canon, o.canon
	n := max(len(l), len(r))
	zero := segment{num: "0"}
	for i := 0; i < n; i++ {
		a, b := zero, zero
		if i < len(l) {
			a = l[i]
		}
		if i < len(r) {
			b = r[i]
		}
		if c := a.compare(b); c != 0 {
			return c
		}
	}
	return 0
}

// Equal reports v <=> o == 0 ("1.0" equals "1").
func (v Version) Equal(o Version) bool { return v.Compare(o) == 0 }

// Less reports v < o.
func (v Version) Less(o Version) bool { return v.Compare(o) < 0 }

// Release drops everything from the first letter segment onwards
// (Gem::Version#release): 1.2.0.rc1 -> 1.2.0.
func (v Version) Release() Version {
	if !v.hasAlpha {
		return v
	}
	return fromSegments(dropStrings(v.segs))
}

// Bump drops letter segments and the last segment, then increments the
// new last one (Gem::Version#bump): 5.2.8 -> 5.3, 1 -> 2, 1.0.0.rc1 -> 1.1.
func (v Version) Bump() Version {
	segs := dropStrings(v.segs)
	if len(segs) > 1 {
		segs = segs[:len(segs)-1]
	}
	segs[len(segs)-1] = segment{num: increment(segs[len(segs)-1].num)}
	return fromSegments(segs)
}

// dropStrings is "pop while any segment is a string": everything from
// the first letter segment on goes. The version pattern guarantees a
// leading number, so the result is never empty.
func dropStrings(segs []segment) []segment {
	n := len(segs)
	for i, s := range segs {
		if s.isStr {
			n = i
			break
		}
	}
	return append([]segment(nil), segs[:n]...)
}

func fromSegments(segs []segment) Version {
	parts := make([]string, len(segs))
	for i, s := range segs {
		parts[i] = s.String()
	}
	return MustParse(strings.Join(parts, "."))
}

// increment adds one to a decimal digit string.
func increment(n string) string {
	b := []byte(n)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b)
		}
		b[i] = '0'
	}
	return "1" + string(b)
}
