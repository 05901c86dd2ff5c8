package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRulesTableFitsTerminal(t *testing.T) {
	saved := isTerminal
	t.Cleanup(func() { isTerminal = saved })
	for _, tc := range []struct {
		columns string
		width   int
	}{{"", 100}, {"80", 80}, {"160", 160}} {
		isTerminal = func(io.Writer) bool { return true }
		env, out, _ := testEnv(map[string]string{"COLUMNS": tc.columns})
		if code := run(context.Background(), env, []string{"rules"}); code != 0 {
			t.Fatalf("exit %d", code)
		}
		lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > tc.width {
				t.Errorf("COLUMNS=%q: line of %d columns, want at most %d: %q", tc.columns, n, tc.width, l)
			}
		}
		if !strings.Contains(out.String(), "…") && tc.width < 160 {
			t.Errorf("COLUMNS=%q: nothing was cut", tc.columns)
		}
	}
	// Piped: one complete line per rule, nothing cut.
	isTerminal = func(io.Writer) bool { return false }
	env, out, _ := testEnv(map[string]string{"COLUMNS": "80"})
	run(context.Background(), env, []string{"rules"})
	jenv, jout, _ := testEnv(nil)
	run(context.Background(), jenv, []string{"rules", "--format", "json"})
	rules := strings.Count(jout.String(), `"type":`)
	if lines := strings.Count(out.String(), "\n"); lines != rules+1 || strings.Contains(out.String(), "…") {
		t.Errorf("piped: %d lines for %d rules (want one each plus the header), cut=%v", lines, rules, strings.Contains(out.String(), "…"))
	}
}
