package preset

import (
	"os"
	"strings"
	"testing"
)

// The README's table of deliberate differences is Differences, row for
// row: one list, read by the docs and by the tests.
func TestReadmeListsEveryDifference(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "<!-- differences:begin -->\n")
	table, _, ok2 := strings.Cut(rest, "\n<!-- differences:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no differences:begin/end table")
	}
	rows := strings.Split(table, "\n")[2:] // header, separator
	if len(rows) != len(Differences) {
		t.Fatalf("README lists %d differences, preset.Differences %d", len(rows), len(Differences))
	}
	seen := map[string]bool{}
	for i, d := range Differences {
		want := "| `" + d.ID + "` | " + d.What + " | " + d.Reason + " |"
		if rows[i] != want {
			t.Errorf("README row %d:\n  %s\nwant\n  %s", i+1, rows[i], want)
		}
		if seen[d.ID] {
			t.Errorf("duplicate difference %q", d.ID)
		}
		seen[d.ID] = true
	}
}
