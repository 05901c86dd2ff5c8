package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/schedule"
)

func init() {
	register(&command{Name: "updates next", Summary: "show the next maintenance windows and when a release would be installed", Run: runUpdatesNext})
	// check-config checks this section too.
	config.RegisterSection("updates.schedule", func() any { return &schedule.Config{} })
}

const defaultScheduleText = "second Tuesday of each month 02:00-04:00 in this machine's time zone, 72h soak, " +
	"advisories of severity high or critical update at once"

func runUpdatesNext(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "updates next", "[--config FILE] [--count 5] [--now TIME] [--release vX.Y.Z --published TIME [--advisory ID --severity LEVEL]...] [--format text|json]", `
Show the next maintenance windows of the update schedule (config section
updates.schedule), in local time and UTC, and which ones a freeze skips.
Given a release, also say what the guardian would do with it and when:
update-now, wait-for-window, wait-for-soak (the release is too new),
frozen (a freeze is in effect or skips the next window), or page (a
serious advisory, and the emergency lane is set to notify only).

Without a config file the default schedule applies: the second Tuesday
of each month 02:00-04:00 in this machine's time zone (about a week
after Chatwoot's first-Monday releases), 72h soak, and advisories of
severity high or critical update at once. The output says so.

Times (--now, --published) are RFC 3339, e.g. 2026-12-07T09:00:00Z.
Each --advisory pairs with the --severity at the same position (low,
medium, high, critical); an advisory without a severity counts as urgent.

Example:
  wootguard updates next --config /etc/wootguard.yaml \
    --release v4.13.0 --published 2026-12-07T10:00:00Z \
    --advisory GHSA-8qxm-4p4p-cfhm --severity medium

Exit status: 0 shown, 1 the config file is invalid, 2 usage error.`)
	cfgPath := fs.String("config", "", "YAML config `file` with updates.schedule (default $WOOTGUARD_CONFIG; none: the default schedule)")
	count := fs.Int("count", 5, "how many usable windows to show (1-100)")
	nowFlag := fs.String("now", "", "pretend it is this `time` (RFC 3339) instead of now")
	release := fs.String("release", "", "a release `version` to decide about, e.g. v4.13.0")
	published := fs.String("published", "", "when the release was published (RFC 3339 `time`)")
	format := fs.String("format", "text", "output format: text or json")
	var advisories, severities stringList
	fs.Var(&advisories, "advisory", "`ID` of an advisory against the running version that the release fixes (repeatable)")
	fs.Var(&severities, "severity", "`level` of the advisory at the same position: low, medium, high or critical (repeatable)")
	pos, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "wootguard updates next: "+format+"\n", a...)
		return 2
	}
	if len(pos) > 0 {
		return usageErr("unexpected argument %q", pos[0])
	}
	if *count < 1 || *count > 100 {
		return usageErr("--count must be between 1 and 100")
	}
	if *format != "text" && *format != "json" {
		return usageErr("--format must be text or json, not %q", *format)
	}
	now := time.Now()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return usageErr("bad --now %q: want RFC 3339 like 2026-12-07T09:00:00Z", *nowFlag)
		}
		now = t
	}
	cand, err := candidateFromFlags(*release, *published, advisories, severities)
	if err != nil {
		return usageErr("%v", err)
	}

	path := *cfgPath
	if path == "" {
		path = env.Getenv("WOOTGUARD_CONFIG")
	}
	sched, source, err := loadSchedule(path)
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard updates next: %v\n", err)
		return 1
	}
	rep := nextReport{Now: now, Source: source, Schedule: sched, Occurrences: sched.Next(now, *count), Count: *count}
	if cand != nil {
		d, err := sched.Decide(now, *cand)
		if err != nil {
			fmt.Fprintf(env.Stderr, "wootguard updates next: %v\n", err)
			return 1
		}
		rep.Candidate, rep.Decision = cand, &d
	}
	if *format == "json" {
		return writeNextJSON(env, rep)
	}
	writeNextText(env.Stdout, rep)
	return 0
}

func candidateFromFlags(version, published string, ids, severities []string) (*schedule.Candidate, error) {
	if version == "" {
		if published != "" || len(ids)+len(severities) > 0 {
			return nil, fmt.Errorf("--published, --advisory and --severity describe a --release: give --release too")
		}
		return nil, nil
	}
	if published == "" {
		return nil, fmt.Errorf("--release needs --published (when the release was published, RFC 3339)")
	}
	t, err := time.Parse(time.RFC3339, published)
	if err != nil {
		return nil, fmt.Errorf("bad --published %q: want RFC 3339 like 2026-12-01T10:00:00Z", published)
	}
	if len(ids) > 0 && len(severities) > 0 && len(ids) != len(severities) {
		return nil, fmt.Errorf("%d --advisory but %d --severity: give one severity per advisory, in the same order", len(ids), len(severities))
	}
	c := &schedule.Candidate{Version: version, PublishedAt: t}
	for i := range max(len(ids), len(severities)) {
		var a schedule.Advisory
		if i < len(ids) {
			a.ID = ids[i]
		}
		if i < len(severities) {
			switch a.Severity = strings.ToLower(severities[i]); a.Severity {
			case "low", "medium", "moderate", "high", "critical":
			default:
				return nil, fmt.Errorf("unknown --severity %q: want low, medium, high or critical", severities[i])
			}
		}
		c.Advisories = append(c.Advisories, a)
	}
	return c, nil
}

// loadSchedule reads updates.schedule from path, or returns the default
// schedule when there is no file or no such section; source says which.
func loadSchedule(path string) (*schedule.Schedule, string, error) {
	if path == "" {
		return schedule.Default(time.Local), "", nil
	}
	var c schedule.Config
	found, err := config.LoadSection(path, "updates.schedule", &c)
	if err != nil {
		return nil, "", err
	}
	if !found {
		return schedule.Default(time.Local), path, nil
	}
	s, err := schedule.New(c, time.Local)
	if err != nil {
		return nil, "", fmt.Errorf("%s: updates.schedule: %v", path, err)
	}
	return s, path + " (updates.schedule)", nil
}

type nextReport struct {
	Now         time.Time
	Source      string // "" = default, no file; "FILE" = default, file without the section
	Schedule    *schedule.Schedule
	Occurrences []schedule.Occurrence
	Count       int
	Candidate   *schedule.Candidate
	Decision    *schedule.Decision
}

func (r nextReport) isDefault() bool { return !strings.HasSuffix(r.Source, "(updates.schedule)") }

const clockLayout = "Mon 2006-01-02 15:04 MST"

// span prints an opening compactly, "Tue 2026-12-08 02:00–04:00 CET",
// with the end's date only when it differs.
func span(start, end time.Time) string {
	if start.Format("2006-01-02 MST") == end.Format("2006-01-02 MST") {
		return start.Format("Mon 2006-01-02 15:04") + "–" + end.Format("15:04 MST")
	}
	return start.Format(clockLayout) + " – " + end.Format(clockLayout)
}

func writeNextText(w io.Writer, r nextReport) {
	s := r.Schedule
	switch {
	case r.Source == "":
		fmt.Fprintf(w, "Schedule: the default (no --config and no $WOOTGUARD_CONFIG): %s.\n", defaultScheduleText)
		fmt.Fprintf(w, "  (this machine's time zone is %s)\n", machineZone(r.Now))
	case r.isDefault():
		fmt.Fprintf(w, "Schedule: the default (%s has no updates.schedule section): %s.\n", r.Source, defaultScheduleText)
		fmt.Fprintf(w, "  (this machine's time zone is %s)\n", machineZone(r.Now))
	default:
		fmt.Fprintf(w, "Schedule: %s\n", r.Source)
	}
	for _, d := range s.Windows() {
		fmt.Fprintf(w, "  - %s\n", d)
	}
	for _, f := range s.Freezes() {
		fmt.Fprintf(w, "  - %s: no normal updates; a window touching it is skipped whole\n", f)
	}
	sev, action := s.Emergency()
	fmt.Fprintf(w, "  - soak: a release must be %s old before a normal window takes it\n", durationWords(s.MinReleaseAge()))
	if action == schedule.ActionPage {
		fmt.Fprintf(w, "  - emergency: advisories of severity %s or above page the operator; the schedule still applies\n", sev)
	} else {
		fmt.Fprintf(w, "  - emergency: advisories of severity %s or above update at once, ignoring windows, freezes and soak\n", sev)
	}

	fmt.Fprintf(w, "\nNext windows after %s (%s UTC):\n", r.Now.In(s.Location()).Format(clockLayout), r.Now.UTC().Format("2006-01-02 15:04"))
	usable := 0
	for _, o := range r.Occurrences {
		line := fmt.Sprintf("  %-32s = %-30s %s", span(o.Start, o.End), span(o.Start.UTC(), o.End.UTC()), o.Window)
		switch {
		case o.Skipped():
			line += "  SKIPPED: intersects " + o.Freeze.String()
		case !o.Start.After(r.Now):
			line += "  (open now)"
		}
		if !o.Skipped() {
			usable++
		}
		fmt.Fprintln(w, line)
		if o.Note != "" {
			fmt.Fprintf(w, "      note: %s\n", o.Note)
		}
	}
	if usable < r.Count {
		fmt.Fprintf(w, "  (no further usable window within three years: freezes cover them)\n")
	}
	if r.Decision != nil {
		c, d := r.Candidate, r.Decision
		fmt.Fprintf(w, "\nRelease %s, published %s", c.Version, c.PublishedAt.In(s.Location()).Format(clockLayout))
		for i, a := range c.Advisories {
			sep := ", fixes "
			if i > 0 {
				sep = ", "
			}
			fmt.Fprintf(w, "%s%s (%s)", sep, orText(a.ID, "an advisory"), orText(a.Severity, "severity unknown"))
		}
		fmt.Fprintf(w, ":\n  %s", d.Action)
		if d.Action != schedule.UpdateNow && !d.When.IsZero() {
			fmt.Fprintf(w, " until %s (%s UTC)", d.When.In(s.Location()).Format(clockLayout), d.When.UTC().Format("2006-01-02 15:04"))
		}
		fmt.Fprintf(w, ": %s\n", d.Reason)
	}
}

// machineZone names time.Local for people: "Europe/Berlin (CET)", or the
// abbreviation alone when the zone came from /etc/localtime unnamed.
func machineZone(now time.Time) string {
	abbr, _ := now.In(time.Local).Zone()
	if name := time.Local.String(); name != "Local" {
		return name + " (" + abbr + ")"
	}
	return abbr
}

func durationWords(d time.Duration) string {
	if d == 0 {
		return "0s (soak off)"
	}
	return schedule.ShortDuration(d)
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// JSON shapes, stable for scripts (docs/schedule.md).
type (
	nextJSON struct {
		Now      time.Time     `json:"now"`
		Schedule scheduleJSON  `json:"schedule"`
		Windows  []openingJSON `json:"windows"`
		Decision *decisionJSON `json:"decision,omitempty"`
	}
	scheduleJSON struct {
		Default       bool         `json:"default"`
		Source        string       `json:"source,omitempty"`
		Timezone      string       `json:"timezone"`
		Windows       []string     `json:"windows"`
		Freezes       []freezeJSON `json:"freezes"`
		MinReleaseAge string       `json:"min_release_age"`
		MinSeverity   string       `json:"emergency_min_severity"`
		Action        string       `json:"emergency_action"`
	}
	freezeJSON struct {
		From   time.Time `json:"from"`
		To     time.Time `json:"to"` // exclusive
		Reason string    `json:"reason,omitempty"`
	}
	openingJSON struct {
		Window   string    `json:"window"`
		Start    time.Time `json:"start"`
		End      time.Time `json:"end"`
		StartUTC time.Time `json:"start_utc"`
		EndUTC   time.Time `json:"end_utc"`
		OpenNow  bool      `json:"open_now"`
		Skipped  bool      `json:"skipped"`
		Freeze   string    `json:"freeze,omitempty"`
		Note     string    `json:"note,omitempty"`
	}
	decisionJSON struct {
		Release   string    `json:"release"`
		Published time.Time `json:"published"`
		Action    string    `json:"action"`
		When      time.Time `json:"when"`
		Window    string    `json:"window,omitempty"`
		Reason    string    `json:"reason"`
	}
)

func writeNextJSON(env *cliEnv, r nextReport) int {
	s := r.Schedule
	sev, action := s.Emergency()
	out := nextJSON{Now: r.Now, Windows: []openingJSON{}, Schedule: scheduleJSON{
		Default: r.isDefault(), Source: strings.TrimSuffix(r.Source, " (updates.schedule)"), Timezone: s.Location().String(),
		Windows: s.Windows(), Freezes: []freezeJSON{}, MinReleaseAge: s.MinReleaseAge().String(), MinSeverity: sev, Action: action}}
	for _, f := range s.Freezes() {
		out.Schedule.Freezes = append(out.Schedule.Freezes, freezeJSON{From: f.From, To: f.To, Reason: f.Reason})
	}
	for _, o := range r.Occurrences {
		j := openingJSON{Window: o.Window, Start: o.Start, End: o.End, StartUTC: o.Start.UTC(), EndUTC: o.End.UTC(),
			OpenNow: !o.Skipped() && !o.Start.After(r.Now), Skipped: o.Skipped(), Note: o.Note}
		if o.Skipped() {
			j.Freeze = o.Freeze.String()
		}
		out.Windows = append(out.Windows, j)
	}
	if d := r.Decision; d != nil {
		out.Decision = &decisionJSON{Release: r.Candidate.Version, Published: r.Candidate.PublishedAt, Action: d.Action, When: d.When.UTC(), Window: d.Window, Reason: d.Reason}
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard updates next: %v\n", err)
		return 1
	}
	return 0
}
