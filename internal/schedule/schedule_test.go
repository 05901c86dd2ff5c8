package schedule

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustNew(t *testing.T, c Config) *Schedule {
	t.Helper()
	s, err := New(c, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	secondTuesday = Window{Name: "monthly", Every: "month", Week: "2", Weekday: "tuesday", Start: "02:00", Duration: 2 * time.Hour}
	sundayWeekly  = Window{Name: "weekly", Every: "week", Weekday: "sunday", Start: "03:00", Duration: time.Hour}
	lastFriday    = Window{Name: "late", Every: "month", Week: "last", Weekday: "friday", Start: "22:00", Duration: 3 * time.Hour}
	holidays      = Freeze{From: "2026-12-20", To: "2027-01-03", Reason: "holidays"}
)

// span is an expected opening: start and end in UTC, "S" when skipped by a
// freeze, "N" when its start was moved by a clock change.
type span struct{ start, end, flags string }

func TestNext(t *testing.T) {
	berlin := func(ws ...Window) Config { return Config{Timezone: "Europe/Berlin", Windows: ws} }
	tests := []struct {
		name string
		cfg  Config
		now  string
		n    int
		want []span
	}{
		{"second tuesday across months and a year", berlin(secondTuesday), "2026-11-23T12:00:00Z", 3, []span{
			{"2026-12-08T01:00:00Z", "2026-12-08T03:00:00Z", ""},
			{"2027-01-12T01:00:00Z", "2027-01-12T03:00:00Z", ""},
			{"2027-02-09T01:00:00Z", "2027-02-09T03:00:00Z", ""}}},
		{"second tuesday: the open window counts", berlin(secondTuesday), "2026-12-08T02:59:00Z", 1, []span{
			{"2026-12-08T01:00:00Z", "2026-12-08T03:00:00Z", ""}}},
		{"second tuesday: the end is exclusive", berlin(secondTuesday), "2026-12-08T03:00:00Z", 1, []span{
			{"2027-01-12T01:00:00Z", "2027-01-12T03:00:00Z", ""}}},
		{"first monday when the month starts on a tuesday", berlin(Window{Every: "month", Week: "first", Weekday: "mon", Start: "09:30", Duration: 30 * time.Minute}), "2026-11-23T00:00:00Z", 1, []span{
			{"2026-12-07T08:30:00Z", "2026-12-07T09:00:00Z", ""}}},
		{"last friday spans midnight", berlin(lastFriday), "2026-11-23T12:00:00Z", 3, []span{
			{"2026-11-27T21:00:00Z", "2026-11-28T00:00:00Z", ""},
			{"2026-12-25T21:00:00Z", "2026-12-26T00:00:00Z", ""},
			{"2027-01-29T21:00:00Z", "2027-01-30T00:00:00Z", ""}}},
		{"still open after midnight", berlin(lastFriday), "2026-11-27T23:30:00Z", 1, []span{
			{"2026-11-27T21:00:00Z", "2026-11-28T00:00:00Z", ""}}},
		{"fifth sunday skips months without one", berlin(Window{Every: "month", Week: "5", Weekday: "sunday", Start: "04:00", Duration: time.Hour}), "2026-11-23T00:00:00Z", 2, []span{
			{"2026-11-29T03:00:00Z", "2026-11-29T04:00:00Z", ""},
			{"2027-01-31T03:00:00Z", "2027-01-31T04:00:00Z", ""}}},
		{"weekly", berlin(sundayWeekly), "2026-11-23T12:00:00Z", 3, []span{
			{"2026-11-29T02:00:00Z", "2026-11-29T03:00:00Z", ""},
			{"2026-12-06T02:00:00Z", "2026-12-06T03:00:00Z", ""},
			{"2026-12-13T02:00:00Z", "2026-12-13T03:00:00Z", ""}}},
		{"two windows merge in time order", berlin(secondTuesday, sundayWeekly), "2026-12-01T00:00:00Z", 3, []span{
			{"2026-12-06T02:00:00Z", "2026-12-06T03:00:00Z", ""},
			{"2026-12-08T01:00:00Z", "2026-12-08T03:00:00Z", ""},
			{"2026-12-13T02:00:00Z", "2026-12-13T03:00:00Z", ""}}},
		// 2026-03-29: Berlin clocks jump from 02:00 CET to 03:00 CEST (01:00 UTC).
		{"Berlin spring forward: a start in the gap moves to the gap's end", berlin(Window{Every: "month", Week: "last", Weekday: "sunday", Start: "02:30", Duration: 2 * time.Hour}), "2026-03-01T00:00:00Z", 2, []span{
			{"2026-03-29T01:00:00Z", "2026-03-29T03:00:00Z", "N"},
			{"2026-04-26T00:30:00Z", "2026-04-26T02:30:00Z", ""}}},
		{"Berlin spring forward: duration is elapsed time", berlin(Window{Every: "week", Weekday: "saturday", Start: "23:00", Duration: 4 * time.Hour}), "2026-03-27T00:00:00Z", 1, []span{
			{"2026-03-28T22:00:00Z", "2026-03-29T02:00:00Z", ""}}},
		// 2026-10-25: Berlin clocks go back from 03:00 CEST to 02:00 CET (01:00 UTC).
		{"Berlin fall back: a repeated time uses its first showing", berlin(Window{Every: "month", Week: "last", Weekday: "sunday", Start: "02:30", Duration: 2 * time.Hour}), "2026-10-01T00:00:00Z", 1, []span{
			{"2026-10-25T00:30:00Z", "2026-10-25T02:30:00Z", "N"}}},
		{"Berlin fall back: 02:00 is repeated too", berlin(Window{Every: "week", Weekday: "sunday", Start: "02:00", Duration: time.Hour}), "2026-10-24T00:00:00Z", 1, []span{
			{"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "N"}}},
		{"Berlin fall back: 03:00 happens once, in CET", berlin(Window{Every: "week", Weekday: "sunday", Start: "03:00", Duration: time.Hour}), "2026-10-24T00:00:00Z", 1, []span{
			{"2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z", ""}}},
		// 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC); 2026-11-01 02:00 EDT -> 01:00 EST (06:00 UTC).
		{"New York spring forward", Config{Timezone: "America/New_York", Windows: []Window{{Every: "month", Week: "2", Weekday: "sunday", Start: "02:15", Duration: time.Hour}}}, "2026-03-01T00:00:00Z", 2, []span{
			{"2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z", "N"},
			{"2026-04-12T06:15:00Z", "2026-04-12T07:15:00Z", ""}}},
		{"New York fall back", Config{Timezone: "America/New_York", Windows: []Window{{Every: "month", Week: "1", Weekday: "sunday", Start: "01:30", Duration: time.Hour}}}, "2026-10-15T00:00:00Z", 2, []span{
			{"2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "N"},
			{"2026-12-06T06:30:00Z", "2026-12-06T07:30:00Z", ""}}},
		{"a window's own time zone wins", berlin(Window{Every: "month", Week: "2", Weekday: "tuesday", Start: "02:00", Duration: time.Hour, Timezone: "America/New_York"}), "2026-11-23T00:00:00Z", 1, []span{
			{"2026-12-08T07:00:00Z", "2026-12-08T08:00:00Z", ""}}},
		{"freeze skips whole openings, its last day included", Config{Timezone: "Europe/Berlin", Windows: []Window{sundayWeekly}, Freeze: []Freeze{holidays}}, "2026-12-14T00:00:00Z", 2, []span{
			{"2026-12-20T02:00:00Z", "2026-12-20T03:00:00Z", "S"},
			{"2026-12-27T02:00:00Z", "2026-12-27T03:00:00Z", "S"},
			{"2027-01-03T02:00:00Z", "2027-01-03T03:00:00Z", "S"},
			{"2027-01-10T02:00:00Z", "2027-01-10T03:00:00Z", ""},
			{"2027-01-17T02:00:00Z", "2027-01-17T03:00:00Z", ""}}},
		{"an opening ending as a freeze starts is usable", Config{Timezone: "Europe/Berlin", Windows: []Window{lastFriday}, Freeze: []Freeze{{From: "2026-11-28 01:00", To: "2026-11-29"}}}, "2026-11-23T00:00:00Z", 1, []span{
			{"2026-11-27T21:00:00Z", "2026-11-28T00:00:00Z", ""}}},
		{"an opening running past midnight into a frozen day is skipped", Config{Timezone: "Europe/Berlin", Windows: []Window{lastFriday}, Freeze: []Freeze{{From: "2026-11-28", To: "2026-11-28"}}}, "2026-11-23T00:00:00Z", 1, []span{
			{"2026-11-27T21:00:00Z", "2026-11-28T00:00:00Z", "S"},
			{"2026-12-25T21:00:00Z", "2026-12-26T00:00:00Z", ""}}},
		{"zero asked, none given", berlin(sundayWeekly), "2026-11-23T00:00:00Z", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustNew(t, tt.cfg).Next(at(t, tt.now), tt.n)
			var gotSpans []span
			for _, o := range got {
				flags := ""
				if o.Skipped() {
					flags += "S"
				}
				if o.Note != "" {
					flags += "N"
				}
				gotSpans = append(gotSpans, span{o.Start.UTC().Format(time.RFC3339), o.End.UTC().Format(time.RFC3339), flags})
			}
			if fmt.Sprint(gotSpans) != fmt.Sprint(tt.want) {
				t.Errorf("got  %v\nwant %v", gotSpans, tt.want)
			}
		})
	}
}

// The local times shown to operators must be the wall-clock times asked
// for, except where a clock change makes that impossible.
func TestNextLocalTimes(t *testing.T) {
	s := mustNew(t, Config{Timezone: "Europe/Berlin", Windows: []Window{{Every: "week", Weekday: "sunday", Start: "02:30", Duration: time.Hour}}})
	got := s.Next(at(t, "2026-03-20T00:00:00Z"), 2)
	want := []string{"2026-03-22 02:30 CET", "2026-03-29 03:00 CEST"}
	for i, o := range got {
		if s := o.Start.Format("2006-01-02 15:04 MST"); s != want[i] {
			t.Errorf("opening %d starts %s, want %s", i, s, want[i])
		}
	}
	if !strings.Contains(got[1].Note, "02:30 does not exist on 2026-03-29") {
		t.Errorf("note %q does not explain the clock change", got[1].Note)
	}
}

func TestNextEverythingFrozen(t *testing.T) {
	s := mustNew(t, Config{Windows: []Window{sundayWeekly}, Freeze: []Freeze{{From: "2026-01-01", To: "2099-12-31", Reason: "forever"}}})
	got := s.Next(at(t, "2026-11-23T00:00:00Z"), 3)
	if len(got) == 0 {
		t.Fatal("no openings listed: the skipped ones should explain why")
	}
	for _, o := range got {
		if !o.Skipped() {
			t.Fatalf("usable opening %v inside a freeze", o.Start)
		}
	}
	if last := got[len(got)-1].Start; last.Sub(at(t, "2026-11-23T00:00:00Z")) > horizon {
		t.Errorf("search went past the horizon to %v", last)
	}
}

func TestInWindow(t *testing.T) {
	s := mustNew(t, Config{Timezone: "Europe/Berlin", Windows: []Window{secondTuesday, lastFriday}, Freeze: []Freeze{holidays}})
	tests := []struct {
		now    string
		window string // "" = not in a usable window
	}{
		{"2026-12-08T01:00:00Z", "monthly"}, // start is inclusive
		{"2026-12-08T02:59:59Z", "monthly"},
		{"2026-12-08T03:00:00Z", ""}, // end is exclusive
		{"2026-11-27T23:59:00Z", "late"},
		{"2026-11-28T00:00:00Z", ""},
		{"2026-12-25T22:00:00Z", ""}, // last friday of December, frozen
		{"2026-11-23T12:00:00Z", ""},
	}
	for _, tt := range tests {
		o, ok := s.InWindow(at(t, tt.now))
		if (tt.window != "") != ok || o.Window != tt.window {
			t.Errorf("InWindow(%s) = %q, %v; want %q", tt.now, o.Window, ok, tt.window)
		}
	}
}

func TestDefault(t *testing.T) {
	s := Default(time.UTC)
	if s.MinReleaseAge() != 72*time.Hour {
		t.Errorf("soak %v, want 72h", s.MinReleaseAge())
	}
	if sev, act := s.Emergency(); sev != "high" || act != ActionOpenWindow {
		t.Errorf("emergency %s/%s, want high/open_window", sev, act)
	}
	got := s.Next(at(t, "2026-11-23T00:00:00Z"), 1)
	if len(got) != 1 || !got[0].Start.Equal(at(t, "2026-12-08T02:00:00Z")) || got[0].End.Sub(got[0].Start) != 2*time.Hour {
		t.Errorf("default schedule's next window = %v, want second Tuesday 2026-12-08 02:00-04:00", got)
	}
}

func BenchmarkNext(b *testing.B) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	s, err := New(Config{Windows: []Window{secondTuesday, sundayWeekly, lastFriday}, Freeze: []Freeze{holidays}}, loc)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for b.Loop() {
		s.Next(now, 5)
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", 72 * time.Hour: "72h", 90 * time.Minute: "1h30m", 45 * time.Minute: "45m", 10 * time.Hour: "10h", 30 * time.Second: "30s"} {
		if got := ShortDuration(d); got != want {
			t.Errorf("ShortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
