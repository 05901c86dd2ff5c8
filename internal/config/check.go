package config

import (
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/problem"
	"github.com/wootguard/wootguard/internal/units"
)

// Problem is one bad value found by a section's own check (see package
// problem, which notify uses directly: config imports notify for alerts).
type Problem = problem.Problem

// Checker is a section value that checks its values once decoded, so
// that check-config rejects what a later command would reject, at the
// value's line. Sections register a type implementing it.
type Checker interface{ ConfigProblems() []Problem }

// Problemf builds a Problem.
func Problemf(path, format string, args ...any) Problem {
	return problem.Problemf(path, format, args...)
}

// CheckFile is what check-config runs: the gateway part (Load) and every
// registered section (CheckSections), all problems in one line-ordered
// list.
func CheckFile(path string, lookup func(string) (string, bool)) (*Gateway, error) {
	g, err := LoadLookup(path, lookup)
	serr := CheckSections(path)
	if err == nil && serr == nil {
		return g, nil
	}
	var all Errors
	for _, e := range []error{err, serr} {
		switch es := e.(type) {
		case nil:
		case Errors:
			all = append(all, es...)
		case *Error:
			all = append(all, es)
		default:
			return nil, e
		}
	}
	// A YAML syntax error or an unreadable file is reported by both.
	seen := map[string]bool{}
	var out Errors
	for _, e := range all {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return nil, sortErrors(out)
}

// problemsAt turns a section's Problems into Errors at their lines.
func problemsAt(file string, section *yaml.Node, ps []Problem) Errors {
	var out Errors
	for _, p := range ps {
		line := section.Line
		if p.Path != "" {
			line = lineOf(section, p.Path)
		}
		out = append(out, &Error{File: file, Line: line, Reason: p.Reason, key: lastKey(p.Path)})
	}
	return out
}

var durationType = reflect.TypeOf(time.Duration(0))

// normalizeDurations gives time.Duration fields wootguard's one duration
// syntax (internal/units: 1d, 1w, plain seconds...), which the YAML
// package would read with time.ParseDuration: each such scalar is parsed
// by units.ParseDuration and rewritten in Go's form before decoding. A
// bad one is reported at its line and replaced by 0s, so that the decoder
// goes on with the rest of the file.
func normalizeDurations(file string, n *yaml.Node, t reflect.Type, key string) Errors {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if t == durationType {
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return nil
		}
		d, err := units.ParseDuration(n.Value)
		if err != nil {
			n.Value, n.Tag, n.Style = "0s", "!!str", 0
			reason := err.Error()
			if key != "" {
				reason = key + ": " + reason
			}
			return Errors{{File: file, Line: n.Line, Reason: reason, key: key}}
		}
		n.Value, n.Tag, n.Style = d.String(), "!!str", 0
		return nil
	}
	if t == nodeType || (t.Kind() != reflect.Struct && reflect.PointerTo(t).Implements(unmarshalerType)) {
		return nil
	}
	var errs Errors
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if ft, ok := fields[n.Content[i].Value]; ok {
				errs = append(errs, normalizeDurations(file, n.Content[i+1], ft, n.Content[i].Value)...)
			}
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			errs = append(errs, normalizeDurations(file, c, t.Elem(), key)...)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			errs = append(errs, normalizeDurations(file, n.Content[i], t.Elem(), n.Content[i-1].Value)...)
		}
	}
	return errs
}
