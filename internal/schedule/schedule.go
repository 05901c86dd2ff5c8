package schedule

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Schedule is a checked Config.
type Schedule struct {
	loc         *time.Location
	windows     []window
	freezes     []FreezePeriod
	soak        time.Duration
	minSeverity string
	action      string
}

// FreezePeriod is a freeze as instants: From inclusive, To exclusive.
type FreezePeriod struct {
	From, To time.Time
	Reason   string
	label    string // the bounds as written in the config
}

func (f FreezePeriod) String() string {
	s := "freeze " + f.label
	if f.label == "" {
		s = fmt.Sprintf("freeze %s – %s", f.From.Format(dayLayout), f.To.Format(dayLayout))
	}
	if f.Reason != "" {
		s += fmt.Sprintf(" (%s)", f.Reason)
	}
	return s
}

// Occurrence is one opening of a window.
type Occurrence struct {
	Window string
	Start  time.Time // in the window's time zone; use .UTC() for UTC
	End    time.Time // Start plus the duration as elapsed time
	// Note explains a start moved by a clock change, or is empty.
	Note string
	// Freeze is the freeze this opening intersects, in which case the
	// whole opening is skipped; nil when it is usable.
	Freeze *FreezePeriod
}

// Skipped reports an opening cancelled by a freeze.
func (o Occurrence) Skipped() bool { return o.Freeze != nil }

const (
	lastWeek  = -1
	dayLayout = "Mon 2006-01-02 15:04 MST"
	// horizon bounds every search, so that a freeze over all windows ends
	// the search instead of looping.
	horizon = 3 * 366 * 24 * time.Hour
)

// window is a checked Window.
type window struct {
	name      string
	monthly   bool
	week      int // 1..5 or lastWeek
	weekday   time.Weekday
	hour, min int
	dur       time.Duration
	loc       *time.Location
}

// Location is the schedule's time zone (freezes are read in it).
func (s *Schedule) Location() *time.Location { return s.loc }

// MinReleaseAge is the soak time of normal updates.
func (s *Schedule) MinReleaseAge() time.Duration { return s.soak }

// Emergency returns the lane's threshold severity and action.
func (s *Schedule) Emergency() (minSeverity, action string) { return s.minSeverity, s.action }

// Freezes returns the freeze periods.
func (s *Schedule) Freezes() []FreezePeriod { return append([]FreezePeriod(nil), s.freezes...) }

// Windows describes each window in words, e.g. "monthly: every month on
// the second Tuesday, 02:00 for 2h (Europe/Berlin)".
func (s *Schedule) Windows() []string {
	out := make([]string, len(s.windows))
	for i, w := range s.windows {
		out[i] = w.String()
	}
	return out
}

func (w window) String() string {
	when := "every " + w.weekday.String()
	if w.monthly {
		ord := [...]string{"", "first", "second", "third", "fourth", "fifth"}
		week := "last"
		if w.week > 0 {
			week = ord[w.week]
		}
		when = fmt.Sprintf("every month on the %s %s", week, w.weekday)
	}
	zone := w.loc.String()
	if w.loc == time.Local {
		zone = "local time"
	}
	return fmt.Sprintf("%s: %s, %02d:%02d for %s (%s)", w.name, when, w.hour, w.min, ShortDuration(w.dur), zone)
}

// ShortDuration prints d without zero parts: "72h", "1h30m", "45m".
func ShortDuration(d time.Duration) string {
	s := d.String() // "72h0m0s", "1h30m0s", "45m0s", "0s"
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Next returns the next n usable openings whose end is after now (one
// open at now included), with the openings skipped by a freeze in between
// so that callers can say why. Fewer are returned when freezes cover every
// window within three years.
func (s *Schedule) Next(now time.Time, n int) []Occurrence {
	if n <= 0 {
		return nil
	}
	var out []Occurrence
	for _, h := range []time.Duration{70 * 24 * time.Hour, 400 * 24 * time.Hour, horizon} {
		out = out[:0]
		usable := 0
		for _, o := range s.occurrences(now, now.Add(h), true) {
			out = append(out, o)
			if !o.Skipped() {
				if usable++; usable == n {
					return out
				}
			}
		}
	}
	return out
}

// InWindow returns the usable opening that contains now, if any.
func (s *Schedule) InWindow(now time.Time) (Occurrence, bool) {
	for _, o := range s.occurrences(now, now.Add(time.Nanosecond), true) {
		if !o.Skipped() {
			return o, true
		}
	}
	return Occurrence{}, false
}

// FreezeAt returns the freeze in effect at t, if any.
func (s *Schedule) FreezeAt(t time.Time) (FreezePeriod, bool) {
	for _, f := range s.freezes {
		if !t.Before(f.From) && t.Before(f.To) {
			return f, true
		}
	}
	return FreezePeriod{}, false
}

// firstSlot is the earliest instant at or after from that lies inside a
// usable opening (ignoring freezes when withFreeze is false).
func (s *Schedule) firstSlot(from time.Time, withFreeze bool) (time.Time, Occurrence, bool) {
	for _, h := range []time.Duration{70 * 24 * time.Hour, horizon} {
		for _, o := range s.occurrences(from, from.Add(h), withFreeze) {
			if !o.Skipped() {
				return later(o.Start, from), o, true
			}
		}
	}
	return time.Time{}, Occurrence{}, false
}

// occurrences lists every opening with End after from and Start before
// until, in order of start.
func (s *Schedule) occurrences(from, until time.Time, withFreeze bool) []Occurrence {
	var out []Occurrence
	for _, w := range s.windows {
		// Date ranges in the window's zone, widened so that an opening
		// that started days ago and is still open is found.
		first := civil(from.In(w.loc)).AddDate(0, 0, -int(w.dur/(24*time.Hour))-2)
		last := civil(until.In(w.loc)).AddDate(0, 0, 1)
		for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
			if !w.startsOn(d) {
				continue
			}
			start, note := wallTime(d.Year(), d.Month(), d.Day(), w.hour, w.min, w.loc)
			o := Occurrence{Window: w.name, Start: start, End: start.Add(w.dur), Note: note}
			if !o.End.After(from) || !o.Start.Before(until) {
				continue
			}
			if withFreeze {
				for i, f := range s.freezes {
					if o.Start.Before(f.To) && f.From.Before(o.End) {
						o.Freeze = &s.freezes[i]
						break
					}
				}
			}
			out = append(out, o)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// startsOn reports whether the window opens on calendar day d (a UTC
// midnight standing for a date).
func (w window) startsOn(d time.Time) bool {
	if d.Weekday() != w.weekday {
		return false
	}
	if !w.monthly {
		return true
	}
	if w.week == lastWeek {
		return d.AddDate(0, 0, 7).Month() != d.Month()
	}
	return (d.Day()-1)/7+1 == w.week
}

// civil is t's calendar date as a UTC midnight, so that date arithmetic
// is free of clock changes.
func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// wallTime is the instant at which clocks in loc show the given date and
// time. A time skipped by a clock change (02:30 when clocks jump from
// 02:00 to 03:00) becomes the first instant after the gap; a time shown
// twice (clocks going back) is its first showing. note says which applied.
func wallTime(y int, mo time.Month, d, h, mi int, loc *time.Location) (time.Time, string) {
	t := time.Date(y, mo, d, h, mi, 0, 0, loc)
	want := time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
	got := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
	clock := fmt.Sprintf("%02d:%02d", h, mi)
	day := want.Format("2006-01-02")
	if !got.Equal(want) {
		start, end := t.ZoneBounds()
		gapEnd := end
		if got.After(want) {
			gapEnd = start
		}
		return gapEnd, fmt.Sprintf("%s does not exist on %s (clocks go forward): starts at %s", clock, day, gapEnd.Format("15:04 MST"))
	}
	if start, _ := t.ZoneBounds(); !start.IsZero() {
		_, off := t.Zone()
		_, prevOff := start.Add(-time.Second).Zone()
		if earlier := t.Add(-time.Duration(prevOff-off) * time.Second); prevOff > off && earlier.Before(start) {
			return earlier, fmt.Sprintf("%s happens twice on %s (clocks go back): starts at the first, %s", clock, day, earlier.Format("15:04 MST"))
		}
		// t may itself be the first of two showings: then it is right.
		if _, next := t.ZoneBounds(); !next.IsZero() {
			_, nextOff := next.Zone()
			if nextOff < off && next.Sub(t) <= time.Duration(off-nextOff)*time.Second {
				return t, fmt.Sprintf("%s happens twice on %s (clocks go back): starts at the first, %s", clock, day, t.Format("15:04 MST"))
			}
		}
	}
	return t, ""
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
