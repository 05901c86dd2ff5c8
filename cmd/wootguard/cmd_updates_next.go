package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/release"
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
	fs := newFlagSet(env, "updates next", "[--config FILE] [--count 5] [--now TIME] [--chatwoot URL | --version X | --dir DIR [feed flags]] [--release vX.Y.Z --published TIME [--advisory ID --severity LEVEL]...] [--format text|json]", `
Show the next maintenance windows of the update schedule (config section
updates.schedule), in local time and UTC, and which ones a freeze skips.
Given a release, also say what the guardian would do with it and when:
update-now, wait-for-window, wait-for-soak (the release is too new),
frozen (a freeze is in effect or skips the next window), or page (a
serious advisory, and the emergency lane is set to notify only).

The release is found automatically when the running version is known
(--chatwoot, --version, --dir, or updates.chatwoot_url in the config):
the feeds of "updates status" give the latest stable release, its
publication time and the advisories affecting the running version that
it fixes. --release, --published and --advisory/--severity, when given,
win over what the feeds say. Already on the latest release with no
advisory: "up to date: nothing to schedule".

Without a config file the default schedule applies: the second Tuesday
of each month 02:00-04:00 in this machine's time zone (about a week
after Chatwoot's first-Monday releases), 72h soak, and advisories of
severity high or critical update at once. The output says so.

Times (--now, --published) are RFC 3339, e.g. 2026-12-07T09:00:00Z.
Each --advisory pairs with the --severity at the same position (low,
medium, high, critical); an advisory without a severity counts as urgent.
`+exposureSources+`

Example:
  wootguard updates next --config /etc/wootguard.yaml --chatwoot http://127.0.0.1:3000
  wootguard updates next --config /etc/wootguard.yaml \
    --release v4.13.0 --published 2026-12-07T10:00:00Z \
    --advisory GHSA-8qxm-4p4p-cfhm --severity medium

Exit status: 0 shown, 1 the config file is invalid, 2 usage error,
3 the running version or the feeds (and their cache) are unavailable, so
no decision could be made.`)
	o := newExposureFlags(fs)
	o.optional = true
	fs.Lookup("config").Usage = "YAML config `file`: updates.schedule, updates.chatwoot_url, updates.feeds (default $WOOTGUARD_CONFIG; none: the default schedule); flags win"
	count := fs.Int("count", 5, "how many usable windows to show (1-100)")
	nowFlag := fs.String("now", "", "pretend it is this `time` (RFC 3339) instead of now")
	relFlag := fs.String("release", "", "a release `version` to decide about, e.g. v4.13.0 (default: the latest, from the feeds)")
	published := fs.String("published", "", "when the release was published (RFC 3339 `time`; default: from the release feed)")
	fs.StringVar(&o.format, "format", "text", "output format: text or json")
	var advisories, severities stringList
	fs.Var(&advisories, "advisory", "`ID` of an advisory against the running version that the release fixes (repeatable; default: from the feeds)")
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
	if o.format != "text" && o.format != "json" {
		return usageErr("--format must be text or json, not %q", o.format)
	}
	now := time.Now()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return usageErr("bad --now %q: want RFC 3339 like 2026-12-07T09:00:00Z", *nowFlag)
		}
		now = t
	}
	cf, err := parseCandidateFlags(*relFlag, *published, advisories, severities)
	if err != nil {
		return usageErr("%v", err)
	}

	path := o.configFile
	if path == "" {
		path = env.Getenv("WOOTGUARD_CONFIG")
	}
	sched, source, err := loadSchedule(path)
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard updates next: %v\n", err)
		return 1
	}
	if err := o.resolve(env, false); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard updates next: %v\n", err)
		if errors.As(err, new(configError)) {
			return 1
		}
		return 2
	}
	rep := nextReport{Now: now, Source: source, Schedule: sched, Occurrences: sched.Next(now, *count), Count: *count}
	exit := 0
	var cand *schedule.Candidate
	if o.enabled() && !cf.complete() {
		// The feeds fill in what the flags leave out.
		exp := o.check(ctx)
		printFeedWarnings(env.Stderr, exp)
		rep.Exposure = &exp
		cand, rep.Unfixed, rep.Message, exit, err = candidateFromExposure(exp, cf)
		if err != nil {
			return usageErr("%v", err)
		}
	} else if cand, err = cf.candidate(); err != nil {
		return usageErr("%v", err)
	}
	if cand != nil {
		d, err := sched.Decide(now, *cand)
		if err != nil {
			fmt.Fprintf(env.Stderr, "wootguard updates next: %v\n", err)
			return 1
		}
		rep.Candidate, rep.Decision = cand, &d
	}
	if o.format == "json" {
		if code := writeNextJSON(env, rep); code != 0 {
			return code
		}
		return exit
	}
	writeNextText(env.Stdout, rep)
	return exit
}

// candidateFlags is what --release, --published, --advisory and
// --severity say; each part, when given, wins over the feeds.
type candidateFlags struct {
	version    string
	published  time.Time
	advisories []schedule.Advisory // nil: none given
}

// complete reports whether the flags say everything, so the feeds are
// not needed.
func (cf candidateFlags) complete() bool {
	return cf.version != "" && !cf.published.IsZero() && cf.advisories != nil
}

func parseCandidateFlags(version, published string, ids, severities []string) (candidateFlags, error) {
	cf := candidateFlags{version: version}
	if published != "" {
		t, err := time.Parse(time.RFC3339, published)
		if err != nil {
			return cf, fmt.Errorf("bad --published %q: want RFC 3339 like 2026-12-01T10:00:00Z", published)
		}
		cf.published = t
	}
	if len(ids) > 0 && len(severities) > 0 && len(ids) != len(severities) {
		return cf, fmt.Errorf("%d --advisory but %d --severity: give one severity per advisory, in the same order", len(ids), len(severities))
	}
	for i := range max(len(ids), len(severities)) {
		var a schedule.Advisory
		if i < len(ids) {
			a.ID = ids[i]
		}
		if i < len(severities) {
			switch a.Severity = strings.ToLower(severities[i]); a.Severity {
			case "low", "medium", "moderate", "high", "critical":
			default:
				return cf, fmt.Errorf("unknown --severity %q: want low, medium, high or critical", severities[i])
			}
		}
		cf.advisories = append(cf.advisories, a)
	}
	return cf, nil
}

// candidate is the release the flags alone describe (nil: none).
func (cf candidateFlags) candidate() (*schedule.Candidate, error) {
	if cf.version == "" {
		if !cf.published.IsZero() || cf.advisories != nil {
			return nil, fmt.Errorf("--published, --advisory and --severity describe a --release: give --release too")
		}
		return nil, nil
	}
	if cf.published.IsZero() {
		return nil, fmt.Errorf("--release needs --published (when the release was published, RFC 3339)")
	}
	return &schedule.Candidate{Version: cf.version, PublishedAt: cf.published, Advisories: cf.advisories}, nil
}

// candidateFromExposure builds the candidate from an exposure report,
// with the flags winning part by part: the latest stable release, its
// publication time, and the advisories affecting the running version
// that it fixes (unfixed: those it does not fix). Without a candidate,
// msg says why; exit is 3 when data is missing. err is a usage error.
func candidateFromExposure(exp release.Report, cf candidateFlags) (c *schedule.Candidate, unfixed []release.Finding, msg string, exit int, err error) {
	if len(exp.Unknown) > 0 {
		return nil, nil, fmt.Sprintf("cannot decide: %s (%s)", strings.Join(exp.Unknown, "; "), exp.Action), 3, nil
	}
	version, published := cf.version, cf.published
	if version == "" {
		if exp.Behind == 0 {
			if !cf.published.IsZero() || cf.advisories != nil {
				return nil, nil, "", 0, fmt.Errorf("--published, --advisory and --severity describe a --release, and Chatwoot %s is the latest release: give --release too", exp.Running)
			}
			if len(exp.Findings) == 0 {
				return nil, nil, "up to date: nothing to schedule", 0, nil
			}
			return nil, nil, "nothing to schedule: " + exp.Action, 0, nil
		}
		version = exp.Latest
	}
	if published.IsZero() {
		v, perr := release.ParseVersion(version)
		if perr != nil || v.Compare(release.MustParseVersion(exp.Latest)) != 0 {
			return nil, nil, "", 0, fmt.Errorf("--release %s is not the latest release (%s): give --published too", version, exp.Latest)
		}
		if published = exp.LatestPublished; published.IsZero() {
			return nil, nil, fmt.Sprintf("cannot decide: the release feed does not say when %s was published (give --published)", exp.Latest), 3, nil
		}
	}
	c, unfixed = candidateFor(exp.Status, version, published)
	if c == nil {
		return nil, nil, "", 0, fmt.Errorf("--release %q is not a version", version)
	}
	c.PublishedAt = published
	if cf.advisories != nil {
		c.Advisories, unfixed = cf.advisories, nil
	}
	return c, unfixed, "", 0, nil
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
	Exposure    *release.Report   // nil: no running version given, or the flags said everything
	Unfixed     []release.Finding // advisories affecting the running version that the candidate does not fix
	Message     string            // why there is no decision, when the exposure gives none
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
	if e := r.Exposure; e != nil {
		fmt.Fprintf(w, "\nRunning: %s\n", exposureLine(*e, s.Location()))
	}
	if r.Message != "" {
		fmt.Fprintf(w, "  %s\n", r.Message)
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
		for _, f := range r.Unfixed {
			fixed := "no fixed release known"
			if f.FixedIn != "" {
				fixed = "fixed in " + f.FixedIn
			}
			fmt.Fprintf(w, "  not fixed by %s: %s (%s, %s)\n", c.Version, f.ID, f.Severity, fixed)
		}
	}
}

// exposureLine sums up the exposure report the candidate came from:
// "Chatwoot 4.10.0 (from api), latest v4.13.0 (published …), 2 releases
// behind, 2 advisories affect it".
func exposureLine(e release.Report, loc *time.Location) string {
	line := "unknown"
	if e.Running != "" {
		line = fmt.Sprintf("Chatwoot %s (from %s)", e.Running, e.RunningSource)
	}
	if e.Latest != "" {
		line += ", latest " + e.Latest
		if !e.LatestPublished.IsZero() {
			line += " (published " + e.LatestPublished.In(loc).Format(clockLayout) + ")"
		}
		if e.Behind > 0 {
			line += fmt.Sprintf(", %d release%s behind", e.Behind, pluralS(e.Behind))
		}
	}
	switch n := len(e.Findings); {
	case n == 1:
		line += ", 1 advisory affects it"
	case n > 1:
		line += fmt.Sprintf(", %d advisories affect it", n)
	}
	return line
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
		Exposure *exposureJSON `json:"exposure,omitempty"`
	}
	// exposureJSON is the `updates status --format json` shape, plus the
	// latest release's publication time and what the schedule made of it.
	exposureJSON struct {
		*release.Report
		LatestPublished *time.Time `json:"latest_published,omitempty"`
		Unfixed         []string   `json:"unfixed,omitempty"` // advisory IDs the decided release does not fix
		Message         string     `json:"message,omitempty"` // why there is no decision
	}
	advisoryJSON struct {
		ID       string `json:"id,omitempty"`
		Severity string `json:"severity,omitempty"`
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
		// Advisories are the ones the decision weighed (from the flags or the feeds).
		Advisories []advisoryJSON `json:"advisories,omitempty"`
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
		for _, a := range r.Candidate.Advisories {
			out.Decision.Advisories = append(out.Decision.Advisories, advisoryJSON{ID: a.ID, Severity: a.Severity})
		}
	}
	if e := r.Exposure; e != nil {
		out.Exposure = &exposureJSON{Report: e, Message: r.Message}
		if !e.LatestPublished.IsZero() {
			t := e.LatestPublished.UTC()
			out.Exposure.LatestPublished = &t
		}
		for _, f := range r.Unfixed {
			out.Exposure.Unfixed = append(out.Exposure.Unfixed, f.ID)
		}
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard updates next: %v\n", err)
		return 1
	}
	return 0
}
