package config

import (
	"fmt"
	"os"
	"sort"

	"go.yaml.in/yaml/v3"
)

// sections maps a dotted key ("updates.schedule", "audit") to a function
// returning a fresh value to decode it into. Packages that own a part of
// the file register it, so check-config can check the whole file.
var sections = map[string]func() any{}

// RegisterSection declares who reads the value at a dotted key.
func RegisterSection(key string, newValue func() any) { sections[key] = newValue }

// CheckSections decodes every registered section of the file strictly and
// reports keys under "updates" that nobody reads.
func CheckSections(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &Error{File: path, Reason: err.Error()}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fromYAML(path, err)
	}
	var errs Errors
	keys := make([]string, 0, len(sections))
	for k := range sections {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if n := lookup(&doc, k); n != nil {
			v := sections[k]()
			var decoded Errors
			if err := DecodeNode(path, n, v); err != nil {
				if es, ok := err.(Errors); ok {
					decoded = es
				} else {
					decoded = Errors{{File: path, Line: n.Line, Reason: err.Error()}}
				}
			}
			// The section's own value checks run on what could be decoded;
			// a value the decoder refused is not reported twice.
			var later error
			if c, ok := v.(Checker); ok {
				if ps := problemsAt(path, n, c.ConfigProblems()); len(ps) > 0 {
					later = ps
				}
			}
			if len(decoded) > 0 || later != nil {
				errs = append(errs, mergeErrors(decoded, later).(Errors)...)
			}
		}
	}
	if up := lookup(&doc, "updates"); up != nil && up.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(up.Content); i += 2 {
			k := up.Content[i]
			if _, ok := sections["updates."+k.Value]; !ok {
				errs = append(errs, &Error{File: path, Line: k.Line, Reason: fmt.Sprintf("unknown key %q under updates", k.Value)})
			}
		}
	}
	if len(errs) > 0 {
		return sortErrors(errs)
	}
	return nil
}
