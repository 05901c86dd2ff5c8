// Package problem is the one value check-config reports for a bad
// setting inside a section. It is a leaf package so that packages which
// internal/config itself imports (notify, for alerts) can report problems
// too without an import cycle.
package problem

import "fmt"

// Problem is one bad value found by a section's own check. Path is
// relative to the section: "retention.keep_last", "[0].kind", "" for the
// section itself.
type Problem struct{ Path, Reason string }

// Problemf builds a Problem.
func Problemf(path, format string, args ...any) Problem {
	return Problem{Path: path, Reason: fmt.Sprintf(format, args...)}
}
