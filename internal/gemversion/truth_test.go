package gemversion

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readTSV returns the rows of a truth table written by
// scripts/gen-gemversion-truth, skipping the "#" header.
func readTSV(t *testing.T, name string, cols int) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		row := strings.Split(line, "\t")
		if len(row) != cols {
			t.Fatalf("%s:%d: %d columns, want %d", name, n, len(row), cols)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", name)
	}
	return rows
}

func TestCompareTruthTable(t *testing.T) {
	rows := readTSV(t, "compare.tsv", 3)
	if len(rows) < 1000 {
		t.Fatalf("only %d rows", len(rows))
	}
	for _, r := range rows {
		a, b := MustParse(r[0]), MustParse(r[1])
		want, _ := strconv.Atoi(r[2])
		if got := a.Compare(b); got != want {
			t.Errorf("%s <=> %s = %d, RubyGems says %d", r[0], r[1], got, want)
		}
	}
}

func TestPropsTruthTable(t *testing.T) {
	for _, r := range readTSV(t, "props.tsv", 7) {
		in, err := strconv.Unquote(`"` + r[0] + `"`)
		if err != nil {
			t.Fatalf("unquote %q: %v", r[0], err)
		}
		v, err := Parse(in)
		if r[1] == "invalid" {
			if err == nil {
				t.Errorf("Parse(%q) accepted a version RubyGems rejects", in)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		got := []string{v.String(), strconv.FormatBool(v.Prerelease()), v.Release().String(), v.Bump().String(), strings.Join(v.Segments(), ".")}
		if want := r[2:]; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%q: to_s|prerelease?|release|bump|segments = %v, RubyGems says %v", in, got, want)
		}
	}
}

func TestRequirementTruthTable(t *testing.T) {
	rows := readTSV(t, "requirements.tsv", 3)
	if len(rows) < 1000 {
		t.Fatalf("only %d rows", len(rows))
	}
	for _, r := range rows {
		req, err := ParseAdvisoryRequirement(r[0])
		if r[2] == "error" {
			if err == nil {
				t.Errorf("requirement %q accepted, RubyGems rejects it", r[0])
			}
			continue
		}
		if err != nil {
			t.Errorf("requirement %q: %v", r[0], err)
			continue
		}
		if got := strconv.FormatBool(req.SatisfiedBy(MustParse(r[1]))); got != r[2] {
			t.Errorf("%q satisfied by %s = %s, RubyGems says %s", r[0], r[1], got, r[2])
		}
	}
}
