package release

import (
	"fmt"
	"strings"
)

// Range is a set of versions written the way GitHub advisories write
// vulnerable_version_range: comma-separated clauses that must all hold,
// for example ">= 2.14.0, < 4.13.0", "< 4.9.0" or "= 1.2.3".
type Range struct {
	clauses []clause
	all     bool // every version (an OSV range "introduced: 0" with no end)
	text    string
}

type clause struct {
	op string // one of < <= > >= =
	v  Version
}

// ParseRange parses a vulnerable_version_range. A bare version means "=".
func ParseRange(s string) (Range, error) {
	r := Range{text: strings.TrimSpace(s)}
	if r.text == "" {
		return Range{}, fmt.Errorf("version range is empty")
	}
	for _, part := range strings.Split(r.text, ",") {
		part = strings.TrimSpace(part)
		op := ""
		for _, candidate := range []string{">=", "<=", "==", ">", "<", "="} {
			if strings.HasPrefix(part, candidate) {
				op = candidate
				break
			}
		}
		verText := strings.TrimSpace(part[len(op):])
		if op == "" || op == "==" {
			op = "="
		}
		v, err := ParseVersion(verText)
		if err != nil {
			return Range{}, fmt.Errorf("version range %q: clause %q: %v", s, part, err)
		}
		r.clauses = append(r.clauses, clause{op: op, v: v})
	}
	return r, nil
}

// Contains reports whether v satisfies every clause. The zero Range
// contains nothing.
func (r Range) Contains(v Version) bool {
	if r.all {
		return true
	}
	if len(r.clauses) == 0 {
		return false
	}
	for _, c := range r.clauses {
		cmp := v.Compare(c.v)
		ok := false
		switch c.op {
		case "<":
			ok = cmp < 0
		case "<=":
			ok = cmp <= 0
		case ">":
			ok = cmp > 0
		case ">=":
			ok = cmp >= 0
		case "=":
			ok = cmp == 0
		}
		if !ok {
			return false
		}
	}
	return true
}

// String is the range as it was written.
func (r Range) String() string { return r.text }

// interval builds the range [lo, hi) or [lo, hi] from OSV events; a zero
// lo means "from the beginning", a zero hi "no fix yet".
func interval(lo, hi Version, hiInclusive bool) Range {
	var r Range
	var text []string
	if !lo.IsZero() {
		r.clauses = append(r.clauses, clause{op: ">=", v: lo})
		text = append(text, ">= "+lo.String())
	}
	if !hi.IsZero() {
		op := "<"
		if hiInclusive {
			op = "<="
		}
		r.clauses = append(r.clauses, clause{op: op, v: hi})
		text = append(text, op+" "+hi.String())
	}
	if len(r.clauses) == 0 {
		r.all = true
		text = []string{"all versions"}
	}
	r.text = strings.Join(text, ", ")
	return r
}

// exactly is the range holding one version.
func exactly(v Version) Range {
	return Range{clauses: []clause{{op: "=", v: v}}, text: "= " + v.String()}
}
