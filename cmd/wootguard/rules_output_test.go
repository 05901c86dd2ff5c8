package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
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

// On a 100-column terminal the strict profile's rule names stay whole:
// they are what tells its rows apart (all begin with "strict/").
func TestRulesTableKeepsStrictNamesWhole(t *testing.T) {
	saved := isTerminal
	t.Cleanup(func() { isTerminal = saved })
	isTerminal = func(io.Writer) bool { return true }
	cfg := filepath.Join(t.TempDir(), "wootguard.yaml")
	if err := os.WriteFile(cfg, []byte("profile: strict\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env, out, errb := testEnv(map[string]string{"COLUMNS": "100"})
	if code := run(context.Background(), env, []string{"rules", "--config", cfg}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, name := range []string{"strict/api-writes/conversations/account", "strict/public-api/messages/inbox", "strict/login-failures/email", "strict/repeat-offenders"} {
		if !strings.Contains(out.String(), name+" ") {
			t.Errorf("%s is cut:\n%s", name, out.String())
		}
	}
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
}

// Piped, each rule is one complete line, but a row is not padded to the
// widest cell of the table (with the strict profile MATCH reaches ~200
// characters): a column is aligned only up to pipedPad.
func TestRulesPipedPadsNoWiderThanNeeded(t *testing.T) {
	saved := isTerminal
	t.Cleanup(func() { isTerminal = saved })
	isTerminal = func(io.Writer) bool { return false }
	cfg := filepath.Join(t.TempDir(), "wootguard.yaml")
	if err := os.WriteFile(cfg, []byte("profile: strict\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env, out, errb := testEnv(nil)
	if code := run(context.Background(), env, []string{"rules", "--config", cfg}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	jenv, jout, _ := testEnv(nil)
	run(context.Background(), jenv, []string{"rules", "--config", cfg, "--format", "json"})
	var rows []ruleJSON
	if err := json.Unmarshal([]byte(jout.String()), &rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")[1:]
	if len(lines) != len(rows) {
		t.Fatalf("%d lines for %d rules", len(lines), len(rows))
	}
	for i, r := range rows {
		most := 2 * 6
		for _, c := range []string{r.Type, r.Name, r.Match, r.Key, r.Summary, r.Mode, r.Source} {
			most += max(utf8.RuneCountInString(c), pipedPad)
		}
		if n := utf8.RuneCountInString(lines[i]); n > most || !strings.Contains(lines[i], r.Match) {
			t.Errorf("%s: line of %d columns (at most %d), or its match is not whole: %q", r.Name, n, most, lines[i])
		}
	}
}

func TestCutMiddleKeepsBothEnds(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"/api/v1/accounts/:account_id/conversations/meta/user", 21, "/api/v1/ac…/meta/user"},
		{"login/ip", 8, "login/ip"},
		{"login/ip", 7, "log…/ip"},
		{"abc", 1, "…"},
	} {
		if got := cutMiddle(c.in, c.n); got != c.want || utf8.RuneCountInString(got) != min(c.n, utf8.RuneCountInString(c.in)) {
			t.Errorf("cutMiddle(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

// The one terminal test (rules width, replay's progress bar, the update
// and restore confirmations): /dev/null, files and pipes are not terminals.
func TestIsTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, f := range map[string]*os.File{"/dev/null": null, "a file": file, "a pipe": w} {
		if isTerminal(f) {
			t.Errorf("%s counted as a terminal", name)
		}
	}
	if pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0); err == nil {
		defer pty.Close()
		if !isTerminal(pty) {
			t.Error("a pseudo-terminal is not counted as a terminal")
		}
	}
}
