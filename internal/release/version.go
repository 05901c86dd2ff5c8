// Package release knows Chatwoot's versions, release feeds and security
// advisories, and turns them into one answer: how exposed is the running
// instance, and what should the operator do about it.
package release

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a Chatwoot version such as 4.15.1, v4.15.1-ce or v3.0.0-rc1.
// The zero value is "no version".
type Version struct {
	Major, Minor, Patch int
	// Pre is a pre-release label ("rc1"); a pre-release sorts before the
	// release with the same numbers.
	Pre string
	// Edition is a build flavour that does not change the code level
	// ("ce" for the community-edition image tags); it is ignored when
	// comparing.
	Edition string
}

// editions are tag suffixes that name an image flavour, not a pre-release.
var editions = map[string]bool{"ce": true, "ee": true}

// ParseVersion reads "4.15.1", "v4.15.1", "v4.15.1-ce", "v3.0.0-rc1",
// "2.6" (missing parts are 0). Anything else is an error.
func ParseVersion(s string) (Version, error) {
	orig := s
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	if s == "" {
		return Version{}, fmt.Errorf("version %q: empty", orig)
	}
	core, suffix, hasSuffix := strings.Cut(s, "-")
	parts := strings.Split(core, ".")
	if len(parts) > 3 {
		return Version{}, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH, got %d dot-separated parts", orig, len(parts))
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p == "" || (len(p) > 1 && p[0] == '+') {
			return Version{}, fmt.Errorf("version %q: %q is not a number", orig, p)
		}
		nums[i] = n
	}
	v := Version{Major: nums[0], Minor: nums[1], Patch: nums[2]}
	if hasSuffix {
		for _, label := range strings.Split(suffix, "-") {
			switch {
			case strings.Trim(label, ".") == "" || !isLabel(label):
				return Version{}, fmt.Errorf("version %q: bad suffix %q", orig, suffix)
			case editions[strings.ToLower(label)]:
				v.Edition = strings.ToLower(label)
			case v.Pre != "":
				return Version{}, fmt.Errorf("version %q: two pre-release labels", orig)
			default:
				v.Pre = label
			}
		}
	}
	return v, nil
}

// MustParseVersion is ParseVersion for constants in code and tests.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

func isLabel(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.') {
			return false
		}
	}
	return true
}

// IsZero reports whether v is the zero Version (nothing parsed).
func (v Version) IsZero() bool { return v == Version{} }

// IsPrerelease reports whether v carries a pre-release label.
func (v Version) IsPrerelease() bool { return v.Pre != "" }

// String is the version without "v": "4.15.1", "3.0.0-rc1", "4.15.1-ce".
func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	if v.Edition != "" {
		s += "-" + v.Edition
	}
	return s
}

// Tag is the git tag form, "v4.15.1".
func (v Version) Tag() string { return "v" + v.String() }

// Compare returns -1, 0 or +1. A pre-release sorts before its release;
// pre-release labels compare by their letters, then numerically by their
// digits (rc2 < rc10). The edition is ignored.
func (v Version) Compare(w Version) int {
	for _, d := range [3]int{v.Major - w.Major, v.Minor - w.Minor, v.Patch - w.Patch} {
		if d < 0 {
			return -1
		}
		if d > 0 {
			return 1
		}
	}
	switch {
	case v.Pre == w.Pre:
		return 0
	case v.Pre == "":
		return 1
	case w.Pre == "":
		return -1
	}
	return comparePre(v.Pre, w.Pre)
}

// Less reports v < w.
func (v Version) Less(w Version) bool { return v.Compare(w) < 0 }

// comparePre orders labels like "rc1" < "rc2" < "rc10" and "beta" < "rc".
func comparePre(a, b string) int {
	a, b = strings.ReplaceAll(a, ".", ""), strings.ReplaceAll(b, ".", "")
	for a != "" && b != "" {
		ca, ra := leadingChunk(a)
		cb, rb := leadingChunk(b)
		na, errA := strconv.Atoi(ca)
		nb, errB := strconv.Atoi(cb)
		switch {
		case errA == nil && errB == nil:
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
		case errA == nil: // numbers before letters
			return -1
		case errB == nil:
			return 1
		default:
			if c := strings.Compare(strings.ToLower(ca), strings.ToLower(cb)); c != 0 {
				return c
			}
		}
		a, b = ra, rb
	}
	switch {
	case a == b:
		return 0
	case a == "":
		return -1
	}
	return 1
}

// leadingChunk splits off a run of digits or of non-digits.
func leadingChunk(s string) (chunk, rest string) {
	digit := s[0] >= '0' && s[0] <= '9'
	i := 1
	for i < len(s) && (s[i] >= '0' && s[i] <= '9') == digit {
		i++
	}
	return s[:i], s[i:]
}
