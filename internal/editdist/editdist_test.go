package editdist

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"updates", "update", 1},
		{"dockr-compose", "docker-compose", 1},
		{"kitten", "sitting", 3},
		{"POSTT", "POST", 1},
		{"ab", "ba", 1},
		{"updaets", "updates", 1},
		{"updaets", "update", 2},
		{"ca", "abc", 3}, // optimal string alignment: no edit after a swap
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
