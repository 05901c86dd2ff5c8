package gemversion

import (
	"strings"
	"testing"
)

// FuzzVersion: no string crashes Parse; a version's text, when it parses
// again, is an equal version; comparison is antisymmetric and agrees with
// the "=" and "!=" requirements.
func FuzzVersion(f *testing.F) {
	for _, s := range []string{"0", "1.0", "1.0.0", "1.0.a", "1.0.0.pre.rc1", "1-2", " 3.2.1 ", "", "1..2", "a",
		"10000000000000000000000000000.1", "1.0.0.0.0.0.0.1", "\n1\n", "1.a.2.b"} {
		f.Add(s, "1.0")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, err := Parse(a)
		if err != nil {
			return
		}
		// As in RubyGems, to_s need not parse again ("0--" is
		// "0.pre..pre."); when it does, it is the same version.
		if again, err := Parse(va.String()); err == nil && again.Compare(va) != 0 {
			t.Fatalf("%q: String %q re-parses as %v (%v)", a, va.String(), again, err)
		}
		_ = va.Segments()
		_ = va.Release()
		_ = va.Bump()
		vb, err := Parse(b)
		if err != nil {
			return
		}
		if c1, c2 := va.Compare(vb), vb.Compare(va); c1 != -c2 {
			t.Fatalf("Compare(%q, %q) = %d but reversed %d", a, b, c1, c2)
		}
		eq, err := NewRequirement("= " + strings.TrimSpace(a))
		if err != nil {
			return // e.g. a blank version: no requirement to write
		}
		if eq.SatisfiedBy(vb) != (va.Compare(vb) == 0) {
			t.Fatalf("\"= %s\" satisfied by %s disagrees with Compare", va, vb)
		}
	})
}

// FuzzRequirement: no requirement string crashes the parsers or matching.
func FuzzRequirement(f *testing.F) {
	for _, s := range []string{"~> 5.2.8", ">= 1.0, < 2", "= 1", "!= 0.1", "> 1.a", "<= 3", "1.2", "~>", ">= ", "=> 1", "~> 1, ~> 1.2.3.4.5"} {
		f.Add(s, "1.2.3")
	}
	f.Fuzz(func(t *testing.T, req, ver string) {
		v, verr := Parse(ver)
		r, err := ParseAdvisoryRequirement(req)
		if err == nil {
			_ = r.String()
			_, _ = r.LowerBound()
			if verr == nil {
				_ = r.SatisfiedBy(v)
			}
		}
		for _, part := range strings.Split(req, ",") {
			if c, err := ParseClause(part); err == nil {
				_ = c.String()
				if verr == nil {
					_ = c.SatisfiedBy(v)
				}
			}
		}
	})
}
