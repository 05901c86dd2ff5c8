package schedule

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/config"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wootguard.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadExample(t *testing.T) {
	path := writeConfig(t, `updates:
  schedule:
    timezone: Europe/Berlin
    windows:
      - {name: monthly, every: month, week: 2, weekday: tuesday, start: "02:00", duration: 2h}
      - {name: weekly, every: week, weekday: sunday, start: "03:00", duration: 1h}
      - {every: month, week: last, weekday: friday, start: "22:00", duration: 3h}
    freeze:
      - {from: 2026-12-20, to: 2027-01-03, reason: holidays}
    min_release_age: 96h
    emergency:
      min_severity: critical
      action: page
`)
	var c Config
	found, err := config.LoadSection(path, "updates.schedule", &c)
	if err != nil || !found {
		t.Fatalf("found=%v err=%v", found, err)
	}
	s, err := New(c, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if s.Location().String() != "Europe/Berlin" || s.MinReleaseAge() != 96*time.Hour || len(s.Windows()) != 3 || len(s.Freezes()) != 1 {
		t.Errorf("loaded %v soak %v windows %q freezes %v", s.Location(), s.MinReleaseAge(), s.Windows(), s.Freezes())
	}
	if sev, act := s.Emergency(); sev != "critical" || act != ActionPage {
		t.Errorf("emergency %s/%s", sev, act)
	}
	want := []string{
		"monthly: every month on the second Tuesday, 02:00 for 2h (Europe/Berlin)",
		"weekly: every Sunday, 03:00 for 1h (Europe/Berlin)",
		"window 3: every month on the last Friday, 22:00 for 3h (Europe/Berlin)",
	}
	for i, w := range s.Windows() {
		if w != want[i] {
			t.Errorf("window %d: %q, want %q", i, w, want[i])
		}
	}
}

func TestLoadInvalid(t *testing.T) {
	const head = "updates:\n  schedule:\n    timezone: Europe/Berlin\n    windows:\n"
	const good = "      - {every: week, weekday: sunday, start: \"03:00\", duration: 1h}\n"
	tests := []struct {
		name string
		body string
		want []string // each as "file:line: ..." with the file name cut
	}{
		{"unknown weekday", head + "      - every: week\n        weekday: tuesdy\n        start: \"03:00\"\n        duration: 1h\n",
			[]string{`:6: windows[0].weekday: unknown weekday "tuesdy"`}},
		{"week out of range", head + "      - {every: month, week: 6, weekday: sunday, start: \"03:00\", duration: 1h}\n",
			[]string{`:5: windows[0].week: week "6" out of range`}},
		{"monthly without week", head + good + "      - {every: month, weekday: sunday, start: \"03:00\", duration: 1h}\n",
			[]string{`:6: windows[1].week: every: month needs week`}},
		{"week on a weekly window", head + "      - {every: week, week: 2, weekday: sunday, start: \"03:00\", duration: 1h}\n",
			[]string{`:5: windows[0].week: week applies only to every: month`}},
		{"bad HH:MM", head + "      - every: week\n        weekday: sunday\n        start: \"24:00\"\n        duration: 1h\n",
			[]string{`:7: windows[0].start: bad start "24:00"`}},
		{"zero duration", head + "      - {every: week, weekday: sunday, start: \"03:00\", duration: 0s}\n",
			[]string{`:5: windows[0].duration: duration must be positive`}},
		{"negative duration", head + "      - every: week\n        weekday: sunday\n        start: \"03:00\"\n        duration: -1h\n",
			[]string{`:8: windows[0].duration: duration must be positive`}},
		{"duration in words", head + "      - {every: week, weekday: sunday, start: \"03:00\", duration: 2 hours}\n",
			[]string{`:5: `}},
		{"unknown time zone", "updates:\n  schedule:\n    timezone: Europe/Berlinn\n    windows:\n" + good,
			[]string{`:3: timezone: unknown time zone "Europe/Berlinn"`}},
		{"unknown window time zone", head + good + "      - {every: week, weekday: monday, start: \"03:00\", duration: 1h, timezone: Mars/Olympus}\n",
			[]string{`:6: windows[1].timezone: unknown time zone "Mars/Olympus"`}},
		{"freeze ends before it starts", head + good + "    freeze:\n      - {from: 2026-12-20, to: 2026-12-19}\n",
			[]string{`:7: freeze[0].to: to 2026-12-19 is before from 2026-12-20`}},
		{"bad freeze date", head + good + "    freeze:\n      - from: 20.12.2026\n        to: 2027-01-03\n",
			[]string{`:7: freeze[0].from: bad date "20.12.2026"`}},
		{"unknown key with a suggestion", head + "      - {every: week, weekdy: sunday, start: \"03:00\", duration: 1h}\n",
			[]string{`:5: unknown key "weekdy" (did you mean "weekday"?)`}},
		{"not a mapping", "updates:\n  schedule: [monthly]\n",
			[]string{`:2: schedule must be a mapping`}},
		{"no windows", "updates:\n  schedule:\n    timezone: UTC\n",
			[]string{`:3: windows: no windows`}},
		{"bad emergency", head + good + "    min_release_age: -1h\n    emergency: {min_severity: severe, action: reboot}\n",
			[]string{`:6: min_release_age: bad duration "-1h": must not be negative`, `:7: emergency.min_severity: unknown severity "severe"`, `:7: emergency.action: unknown action "reboot"`}},
		{"every problem at once", head + "      - {every: day, weekday: funday, start: \"2am\", duration: 0s}\n",
			[]string{`:5: windows[0].every: unknown every "day"`, `:5: windows[0].weekday: unknown weekday "funday"`, `:5: windows[0].start: bad start "2am"`, `:5: windows[0].duration`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.body)
			var c Config
			_, err := config.LoadSection(path, "updates.schedule", &c)
			if err == nil {
				t.Fatalf("no error for\n%s", tt.body)
			}
			msg := strings.ReplaceAll(err.Error(), path, "")
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error\n%s\nlacks %q", msg, w)
				}
			}
			if !strings.HasPrefix(err.Error(), path+":") {
				t.Errorf("error %q does not start with file:line", err)
			}
		})
	}
}

// A Config built in Go gets the same checks, with paths instead of lines.
func TestNewInvalid(t *testing.T) {
	_, err := New(Config{Windows: []Window{{Every: "month", Week: "last", Weekday: "fri", Start: "7:5", Duration: time.Hour}}}, time.UTC)
	if err == nil || !strings.Contains(err.Error(), `windows[0].start: bad start "7:5"`) {
		t.Errorf("err = %v", err)
	}
	if _, err := New(Config{Windows: []Window{{Every: "week", Weekday: "sun", Start: "7:05", Duration: time.Hour}}}, time.UTC); err != nil {
		t.Errorf("7:05 and sun should be accepted: %v", err)
	}
}
