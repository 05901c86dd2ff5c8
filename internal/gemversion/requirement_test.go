package gemversion

import (
	"strings"
	"testing"
)

func TestRequirementBasics(t *testing.T) {
	r, err := NewRequirement()
	if err != nil || r.String() != ">= 0" || !r.SatisfiedBy(MustParse("0")) || r.SatisfiedBy(MustParse("0.a")) {
		t.Errorf("default requirement = %q, %v", r, err)
	}
	r, err = ParseAdvisoryRequirement("~> 6.1.7, >= 6.1.7.1")
	if err != nil || len(r.Clauses) != 2 || r.String() != "~> 6.1.7, >= 6.1.7.1" {
		t.Fatalf("two clauses: %v %v", r, err)
	}
	if low, ok := r.LowerBound(); !ok || low.String() != "6.1.7.1" {
		t.Errorf("LowerBound = %v %v", low, ok)
	}
	if _, ok := MustReq(t, "< 2.0").LowerBound(); ok {
		t.Error("< 2.0 has no lower bound")
	}
	// "-" is normalised like RubyGems' to_s.
	if got := MustReq(t, "< 3.0.0-rc.1").String(); got != "< 3.0.0.pre.rc.1" {
		t.Errorf("String = %q", got)
	}
	for _, bad := range []string{"~> ", ">> 1", "1.0 junk", "=> 2"} {
		if _, err := ParseClause(bad); err == nil || !strings.Contains(err.Error(), "ill-formed requirement") {
			t.Errorf("ParseClause(%q) err = %v", bad, err)
		}
	}
	if _, err := Parse("1..2"); err == nil || !strings.Contains(err.Error(), "malformed version") {
		t.Errorf("Parse(1..2) err = %v", err)
	}
}

func MustReq(t *testing.T, s string) Requirement {
	t.Helper()
	r, err := ParseAdvisoryRequirement(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func BenchmarkParseCompare(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		a, c := MustParse("1.19.3"), MustParse("1.19.4.rc1")
		if a.Compare(c) >= 0 {
			b.Fatal("order")
		}
	}
}
