package gemversion

import (
	"fmt"
	"regexp"
	"strings"
)

// requirementPattern is Gem::Requirement::PATTERN. RE2 picks the leftmost
// alternative that lets the whole string match, as Ruby's backtracking does.
var requirementPattern = regexp.MustCompile(`^` + rubySpace + `*(=|!=|>|<|>=|<=|~>)?` + rubySpace + `*(` + versionPattern + `)` + rubySpace + `*$`)

// Clause is one "OP VERSION" constraint.
type Clause struct {
	Op      string // one of = != > < >= <= ~>
	Version Version
}

// String renders the clause as RubyGems does ("~> 6.1.7").
func (c Clause) String() string { return c.Op + " " + c.Version.String() }

// SatisfiedBy applies the operator. "~> 7.0.8" means >= 7.0.8 and
// v.release < 7.1, so 7.1.0.beta does not match.
func (c Clause) SatisfiedBy(v Version) bool {
	r := c.Version
	switch c.Op {
	case "=":
		return v.Compare(r) == 0
	case "!=":
		return v.Compare(r) != 0
	case ">":
		return v.Compare(r) > 0
	case "<":
		return v.Compare(r) < 0
	case ">=":
		return v.Compare(r) >= 0
	case "<=":
		return v.Compare(r) <= 0
	case "~>":
		return v.Compare(r) >= 0 && v.Release().Compare(r.Bump()) < 0
	}
	return false
}

// ParseClause parses "OP VERSION"; a missing operator means "=".
func ParseClause(s string) (Clause, error) {
	m := requirementPattern.FindStringSubmatch(s)
	if m == nil {
		return Clause{}, fmt.Errorf("ill-formed requirement %q (want OP VERSION, OP one of = != > < >= <= ~>)", s)
	}
	op := m[1]
	if op == "" {
		op = "="
	}
	v, err := Parse(m[2])
	if err != nil {
		return Clause{}, err
	}
	return Clause{Op: op, Version: v}, nil
}

// Requirement is a Gem::Requirement: every clause must hold.
type Requirement struct {
	Clauses []Clause
}

// NewRequirement is Gem::Requirement.new(*clauses): duplicates are
// dropped and no clauses means ">= 0".
func NewRequirement(clauses ...string) (Requirement, error) {
	var r Requirement
	seen := map[string]bool{}
	for _, s := range clauses {
		if seen[s] {
			continue
		}
		seen[s] = true
		c, err := ParseClause(s)
		if err != nil {
			return Requirement{}, err
		}
		r.Clauses = append(r.Clauses, c)
	}
	if len(r.Clauses) == 0 {
		r.Clauses = []Clause{{Op: ">=", Version: MustParse("0")}}
	}
	return r, nil
}

// ParseAdvisoryRequirement reads one ruby-advisory-db version string the
// way bundler-audit does: Gem::Requirement.new(*s.split(', ')). Like
// Ruby's split it drops trailing empty fields, so "" means ">= 0"; the
// advisory loader rejects blank strings before they get here.
func ParseAdvisoryRequirement(s string) (Requirement, error) {
	parts := strings.Split(s, ", ")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return NewRequirement(parts...)
}

// SatisfiedBy reports whether v meets every clause.
func (r Requirement) SatisfiedBy(v Version) bool {
	for _, c := range r.Clauses {
		if !c.SatisfiedBy(v) {
			return false
		}
	}
	return true
}

// String joins the clauses with ", " (Gem::Requirement#to_s).
func (r Requirement) String() string {
	parts := make([]string, len(r.Clauses))
	for i, c := range r.Clauses {
		parts[i] = c.String()
	}
	return strings.Join(parts, ", ")
}

// LowerBound is the smallest version the requirement admits, as far as
// its >=, >, ~> and = clauses say (the largest of their versions); ok is
// false when no clause bounds it from below.
func (r Requirement) LowerBound() (v Version, ok bool) {
	for _, c := range r.Clauses {
		switch c.Op {
		case ">=", ">", "~>", "=":
			if !ok || c.Version.Compare(v) > 0 {
				v, ok = c.Version, true
			}
		}
	}
	return v, ok
}
