package schedule

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// New checks c and returns the schedule. local is the zone used when c
// (or a window) names none; callers pass time.Local.
func New(c Config, local *time.Location) (*Schedule, error) {
	return compile(c, local)
}

func compile(c Config, local *time.Location) (*Schedule, error) {
	s, probs := check(c, local)
	if len(probs) > 0 {
		return nil, Error(probs)
	}
	return s, nil
}

// check validates every setting, collecting all problems rather than
// stopping at the first, and builds the schedule when there are none.
func check(c Config, local *time.Location) (*Schedule, []problem) {
	var probs []problem
	bad := func(path, format string, args ...any) {
		probs = append(probs, problem{path, fmt.Sprintf(format, args...)})
	}
	s := &Schedule{loc: local, soak: DefaultMinReleaseAge}
	if c.Timezone != "" {
		loc, err := loadZone(c.Timezone)
		if err != nil {
			bad("timezone", "%v", err)
		} else {
			s.loc = loc
		}
	}
	if len(c.Windows) == 0 {
		bad("windows", "no windows: normal updates would never happen; add at least one, e.g. {every: month, week: 2, weekday: tuesday, start: \"02:00\", duration: 2h}")
	}
	names := map[string]bool{}
	for i, w := range c.Windows {
		at := fmt.Sprintf("windows[%d]", i)
		cw := window{name: w.Name, loc: s.loc, dur: w.Duration}
		if cw.name == "" {
			cw.name = fmt.Sprintf("window %d", i+1)
		}
		if names[cw.name] {
			bad(at+".name", "name %q is used by another window", cw.name)
		}
		names[cw.name] = true
		switch strings.ToLower(w.Every) {
		case "month":
			cw.monthly = true
			if w.Week == "" {
				bad(at+".week", "every: month needs week: 1..5 or last")
			} else if cw.week = parseWeek(w.Week); cw.week == 0 {
				bad(at+".week", "week %q out of range: want 1, 2, 3, 4, 5 (or first..fifth) or last", w.Week)
			}
		case "week":
			if w.Week != "" {
				bad(at+".week", "week applies only to every: month")
			}
		case "":
			bad(at+".every", "missing every: want week or month")
		default:
			bad(at+".every", "unknown every %q: want week or month", w.Every)
		}
		if wd, ok := parseWeekday(w.Weekday); ok {
			cw.weekday = wd
		} else if w.Weekday == "" {
			bad(at+".weekday", "missing weekday: want monday..sunday")
		} else {
			bad(at+".weekday", "unknown weekday %q: want monday, tuesday, wednesday, thursday, friday, saturday or sunday", w.Weekday)
		}
		if h, m, ok := parseClock(w.Start); ok {
			cw.hour, cw.min = h, m
		} else if w.Start == "" {
			bad(at+".start", "missing start: want a wall-clock time HH:MM, e.g. \"02:00\"")
		} else {
			bad(at+".start", "bad start %q: want HH:MM between 00:00 and 23:59", w.Start)
		}
		switch {
		case w.Duration <= 0:
			bad(at+".duration", "duration must be positive, e.g. 2h")
		case w.Duration > maxWindowDuration:
			bad(at+".duration", "duration %v is longer than a week", w.Duration)
		}
		if w.Timezone != "" {
			if loc, err := loadZone(w.Timezone); err != nil {
				bad(at+".timezone", "%v", err)
			} else {
				cw.loc = loc
			}
		}
		s.windows = append(s.windows, cw)
	}
	for i, f := range c.Freeze {
		at := fmt.Sprintf("freeze[%d]", i)
		from, _, errFrom := parseFreezeTime(f.From, s.loc, false)
		if errFrom != nil {
			bad(at+".from", "%v", errFrom)
		}
		to, toDay, errTo := parseFreezeTime(f.To, s.loc, true)
		if errTo != nil {
			bad(at+".to", "%v", errTo)
		}
		if errFrom == nil && errTo == nil && !to.After(from) {
			if toDay {
				bad(at+".to", "to %s is before from %s", f.To, f.From)
			} else {
				bad(at+".to", "to %s must be after from %s", f.To, f.From)
			}
		}
		s.freezes = append(s.freezes, FreezePeriod{From: from, To: to, Reason: f.Reason, label: strings.TrimSpace(f.From) + " – " + strings.TrimSpace(f.To)})
	}
	if c.MinReleaseAge != nil {
		if *c.MinReleaseAge < 0 {
			bad("min_release_age", "must not be negative (0s turns the soak off)")
		}
		s.soak = *c.MinReleaseAge
	}
	s.minSeverity = DefaultMinSeverity
	if c.Emergency.MinSeverity != "" {
		if r := severityRank(c.Emergency.MinSeverity); r < 1 || r > 4 {
			bad("emergency.min_severity", "unknown severity %q: want low, medium, high or critical", c.Emergency.MinSeverity)
		} else {
			s.minSeverity = strings.ToLower(c.Emergency.MinSeverity)
		}
	}
	switch c.Emergency.Action {
	case "":
		s.action = DefaultAction
	case ActionOpenWindow, ActionPage:
		s.action = c.Emergency.Action
	default:
		bad("emergency.action", "unknown action %q: want open_window (update at once) or page (notify only)", c.Emergency.Action)
	}
	return s, probs
}

func loadZone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: want an IANA name such as Europe/Berlin, America/New_York or UTC", name)
	}
	return loc, nil
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if d, ok := weekdays[s]; ok {
		return d, true
	}
	for name, d := range weekdays {
		if len(s) == 3 && strings.HasPrefix(name, s) {
			return d, true
		}
	}
	return 0, false
}

// parseWeek returns 1..5, lastWeek, or 0 when s is not a week.
func parseWeek(s string) int {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, w := range []string{"first", "second", "third", "fourth", "fifth"} {
		if s == w || s == strconv.Itoa(i+1) {
			return i + 1
		}
	}
	if s == "last" {
		return lastWeek
	}
	return 0
}

var clockRE = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

func parseClock(s string) (hour, min int, ok bool) {
	m := clockRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, 0, false
	}
	hour, _ = strconv.Atoi(m[1])
	min, _ = strconv.Atoi(m[2])
	return hour, min, true
}

// parseFreezeTime reads a freeze bound. A bare date as the end bound means
// the end of that day (isDay reports that form).
func parseFreezeTime(s string, loc *time.Location, end bool) (t time.Time, isDay bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false, fmt.Errorf("missing: want a date like 2026-12-20")
	}
	if d, err := time.Parse("2006-01-02", s); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		t, _ = wallTime(d.Year(), d.Month(), d.Day(), 0, 0, loc)
		return t, true, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04"} {
		if d, err := time.Parse(layout, s); err == nil {
			t, _ = wallTime(d.Year(), d.Month(), d.Day(), d.Hour(), d.Minute(), loc)
			return t, false, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("bad date %q: want 2026-12-20, \"2026-12-20 18:00\" or RFC 3339", s)
}

// lineOf finds the line of a path such as "windows[2].start" below n, or
// of the deepest part of it that exists.
func lineOf(n *yaml.Node, path string) int {
	line := n.Line
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			continue
		}
		name, idx := seg, -1
		if i := strings.IndexByte(seg, '['); i >= 0 {
			name = seg[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(seg[i+1:], "]"))
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				line, next = n.Content[i].Line, n.Content[i+1]
			}
		}
		if next == nil {
			return line
		}
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}
