package replay

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		lines, read, total int64
		elapsed            time.Duration
		want               []string
	}{
		{250_000, 50, 100, 2 * time.Second, []string{"[###############---------------]", " 50%", "250k lines", "125k lines/s", "ETA 2s"}},
		{1_500_000, 100, 100, 3 * time.Second, []string{"100%", "1.5M lines", "500k lines/s", "ETA 0s"}},
		{42, 0, 0, time.Second, []string{"replay: 42 lines  42 lines/s"}}, // stdin: no size, no ETA
	} {
		got := progressLine(tc.lines, tc.read, tc.total, tc.elapsed)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("progressLine(%d, %d, %d, %v) = %q, want it to contain %q", tc.lines, tc.read, tc.total, tc.elapsed, got, w)
			}
		}
		if tc.total == 0 && strings.Contains(got, "ETA") {
			t.Errorf("ETA without a known size: %q", got)
		}
	}
}
