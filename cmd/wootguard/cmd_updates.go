package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/release"
	"github.com/wootguard/wootguard/internal/schedule"
)

func init() {
	register(&command{
		Name:    "updates status",
		Summary: "how exposed is this Chatwoot: releases behind, advisories, what to do",
		Run:     runUpdatesStatus,
	})
	register(&command{
		Name:    "updates watch",
		Summary: "watch for new Chatwoot releases and advisories and notify (loop or --once)",
		Run:     runUpdatesWatch,
	})
}

func runUpdatesStatus(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "updates status", "(--chatwoot URL | --version X | --dir DIR) [--releases SRC] [--advisories SRC] [--osv SRC] [--format json] [--config FILE]", `
Compare the running Chatwoot with the latest stable release and with the
published security advisories, and recommend ONE action.

Chatwoot supports only its latest release and ships fixes only there, so
every release behind is unsupported; an advisory affecting the running
version calls for an update now (critical/high) or in the next window
(medium/low).
`+exposureSources+`

Example:
  wootguard updates status --chatwoot http://127.0.0.1:3000
  wootguard updates status --version 4.10.0 --releases releases.json --advisories advisories.json --format json

Exit codes: 0 up to date, 10 behind (no advisory affects you), 20 exposed
(an advisory affects the running version), 3 data unavailable/unknown,
2 usage or config error.`)
	o := newExposureFlags(fs)
	fs.StringVar(&o.format, "format", "text", "output format: text or json (stable shape, see docs/exposure.md)")
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	if err := o.resolve(env, false); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard updates status: %v\n", err)
		return 2
	}
	rep := o.check(ctx)
	if o.format == "json" {
		out, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintln(env.Stdout, string(out))
	} else {
		printReport(env.Stdout, rep)
	}
	return rep.ExitCode
}

func printReport(w io.Writer, rep release.Report) {
	st := rep.Status
	if st.Running != "" {
		fmt.Fprintf(w, "Running:   Chatwoot %s (from %s)\n", st.Running, rep.RunningSource)
	}
	if st.Latest != "" {
		support := "supported (Chatwoot supports only the latest release)"
		if !st.Supported {
			support = "NOT supported: Chatwoot fixes only the latest release"
		}
		fmt.Fprintf(w, "Latest:    %s\n", st.Latest)
		if st.Behind > 0 {
			fmt.Fprintf(w, "Behind:    %d release%s (%s)\n", st.Behind, pluralS(st.Behind), strings.Join(st.Newer, ", "))
		}
		fmt.Fprintf(w, "Support:   %s\n", support)
	}
	if len(st.Findings) > 0 {
		fmt.Fprintf(w, "\nAdvisories affecting %s:\n", st.Running)
		for _, f := range st.Findings {
			ids := f.ID
			if len(f.Aliases) > 0 {
				ids += " (" + strings.Join(f.Aliases, ", ") + ")"
			}
			cvss := ""
			if f.CVSS > 0 {
				cvss = fmt.Sprintf(" CVSS %.1f", f.CVSS)
			}
			fixed := "no fix released yet"
			if f.FixedIn != "" {
				fixed = "fixed in " + f.FixedIn
			}
			fmt.Fprintf(w, "  %-8s %s%s, %s\n", strings.ToUpper(f.Severity), ids, cvss, fixed)
			if f.Summary != "" {
				fmt.Fprintf(w, "           %s\n", f.Summary)
			}
			if f.URL != "" {
				fmt.Fprintf(w, "           %s\n", f.URL)
			}
		}
	}
	for _, u := range st.Unchecked {
		fmt.Fprintf(w, "CHECK BY HAND: %s\n", u)
	}
	fmt.Fprintln(w, "\nFeeds:")
	for _, f := range rep.Feeds {
		switch {
		case f.OK && f.FromCache:
			fmt.Fprintf(w, "  %-10s WARNING: feed unreachable, using the cached copy from %s ago (%s)\n             reason: %s\n",
				f.Name, age(f.AgeSeconds), f.FetchedAt.UTC().Format(time.RFC3339), f.Problem)
		case f.OK && f.Stale:
			fmt.Fprintf(w, "  %-10s STALE: %s, data age %s\n", f.Name, f.Source, age(f.AgeSeconds))
		case f.OK:
			fmt.Fprintf(w, "  %-10s ok, %s (data age %s)\n", f.Name, f.Source, age(f.AgeSeconds))
		default:
			fmt.Fprintf(w, "  %-10s UNAVAILABLE: %s\n", f.Name, f.Problem)
		}
	}
	for _, u := range st.Unknown {
		fmt.Fprintf(w, "Unknown:   %s\n", u)
	}
	fmt.Fprintf(w, "\nStatus:    %s\nAction:    %s\n", strings.ToUpper(st.State), st.Action)
}

func age(seconds int64) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d < time.Minute:
		return d.String()
	case d < 48*time.Hour:
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func runUpdatesWatch(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "updates watch", "(--chatwoot URL | --version X | --dir DIR) [--once] [--interval 1h] [--config FILE] ...", `
Check releases and advisories every --interval (or once, with --once, for
cron and systemd timers) and notify: "release.new" when a stable release
newer than the running version appears, "advisory.new" for each advisory
that affects the running version. Each is delivered once ever per channel
(remembered in --state-file); a failed delivery is retried next round.
Channels come from updates.notify in --config (webhooks, slack, smtp); the
events are also printed. SIGINT/SIGTERM stop the loop cleanly.

With updates.schedule in the config, the events carry the schedule's
decision for the latest release (as "updates next" shows it): in the
emergency lane (update-now because of an advisory, or page) the advisory
event is critical and states the decision; otherwise the events say in
which window the release will be installed.
`+exposureSources+`

Example:
  wootguard updates watch --config /etc/wootguard.yml --interval 6h
  wootguard updates watch --once --version 4.15.1 --config /etc/wootguard.yml   # from cron

Exit codes (--once): 0 round done, 1 a notification could not be delivered
(retried next run), 3 data unavailable, 2 usage or config error. The loop
exits 0 when stopped by a signal.`)
	o := newExposureFlags(fs)
	o.format = "text"
	once := fs.Bool("once", false, "run one round and exit")
	var intervalD time.Duration
	interval := &intervalD
	durationVar(fs, interval, "interval", time.Hour, "time between rounds (at least 1m)")
	stateFile := fs.String("state-file", "", "delivered-notifications `file` (config: updates.notify.state_file; default CACHE_DIR/notify-state.json)")
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	if *interval < time.Minute {
		fmt.Fprintln(env.Stderr, "wootguard updates watch: --interval must be at least 1m (GitHub allows 60 unauthenticated requests an hour)")
		return 2
	}
	if err := o.resolve(env, true); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard updates watch: %v\n", err)
		return 2
	}
	if sched, source, err := loadSchedule(o.configFile); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard updates watch: %v\n", err)
		return 2
	} else if strings.HasSuffix(source, "(updates.schedule)") {
		o.sched = sched
	}
	if *stateFile != "" {
		o.notify.StateFile = *stateFile
	}
	if o.notify.StateFile == "" {
		if o.cacheDir == "" {
			fmt.Fprintln(env.Stderr, "wootguard updates watch: no state file: give --state-file or --cache-dir (HOME is not set)")
			return 2
		}
		o.notify.StateFile = filepath.Join(o.cacheDir, "notify-state.json")
	}
	// Printing is one more channel with the same once-only memory, so a
	// cron job's output shows each event once.
	sender, err := notify.FromConfigEnv(o.notify, env.Getenv, notify.Channel{ID: "stdout", Sender: printSender{env.Stdout}})
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard updates watch: %v\n", err)
		return 2
	}
	if o.notify.Empty() {
		fmt.Fprintln(env.Stderr, "wootguard updates watch: no notification channel in updates.notify: events are only printed")
	}
	for {
		code := watchRound(ctx, env, o, sender)
		if *once {
			return code
		}
		t := time.NewTimer(*interval)
		select {
		case <-ctx.Done():
			t.Stop()
			fmt.Fprintln(env.Stderr, "wootguard updates watch: stopped")
			return 0
		case <-t.C:
		}
	}
}

// watchRound computes the status and sends its events; it returns the
// --once exit code.
func watchRound(ctx context.Context, env *cliEnv, o *exposureFlags, sender notify.Sender) int {
	rep := o.check(ctx)
	fmt.Fprintf(env.Stderr, "%s %s: %s\n", rep.CheckedAt.UTC().Format(time.RFC3339), rep.Summary(), rep.Action)
	printFeedWarnings(env.Stderr, rep)
	code := 0
	for _, e := range scheduleEvents(env.Stderr, o.sched, rep, release.Events(rep.Status, rep.CheckedAt)) {
		if err := sender.Send(ctx, e); err != nil {
			fmt.Fprintf(env.Stderr, "  notification %s failed (will retry next round): %v\n", e.Key, err)
			code = 1
		}
	}
	if code == 0 && rep.State == release.StateUnknown {
		return 3
	}
	return code
}

// scheduleEvents adds the schedule's decision for the latest release to
// the events of a round when updates.schedule is configured (sched not
// nil). In the emergency lane ("update-now" because of an advisory, or
// "page") each advisory that triggers it is sent with severity critical
// and the decision sentence; otherwise the events say when the release
// will be installed. Keys are unchanged, so notify.Once still sends each
// advisory once.
func scheduleEvents(log io.Writer, sched *schedule.Schedule, rep release.Report, events []notify.Event) []notify.Event {
	// Missing data (a feed down, no cache) could hide an emergency: no plan
	// rather than a wrong one.
	if sched == nil || rep.Latest == "" || rep.Behind == 0 || len(rep.Unknown) > 0 {
		return events
	}
	cand, _ := candidateFor(rep.Status, rep.Latest, rep.LatestPublished)
	if cand == nil {
		return events
	}
	now := rep.CheckedAt
	d, err := sched.Decide(now, *cand)
	if err != nil {
		fmt.Fprintf(log, "  schedule: %v\n", err)
		return events
	}
	plan := planSentence(sched, d)
	for i := range events {
		e := &events[i]
		switch e.Kind {
		case "release.new":
			e.Text += "\nSchedule: " + plan
		case "advisory.new":
			id := e.Fields["advisory"]
			var adv *schedule.Advisory
			for j := range cand.Advisories {
				if cand.Advisories[j].ID == id {
					adv = &cand.Advisories[j]
				}
			}
			if adv == nil {
				continue // the latest release does not fix it: the plan is no remedy
			}
			// Does this advisory on its own take the emergency lane?
			one, err := sched.Decide(now, schedule.Candidate{Version: cand.Version, PublishedAt: cand.PublishedAt, Advisories: []schedule.Advisory{*adv}})
			if err == nil && emergency(one) {
				e.Severity = "critical"
			}
			e.Text += "\nSchedule: " + plan
		default:
			continue
		}
		e.Fields = maps.Clone(e.Fields)
		e.Fields["decision"] = d.Action
	}
	return events
}

// planSentence words a decision for a notification: the emergency lane
// as the decision itself, the normal lane as "will be installed in the
// window starting …".
func planSentence(sched *schedule.Schedule, d schedule.Decision) string {
	switch {
	case (emergency(d) && d.Action == schedule.UpdateNow) || d.When.IsZero():
		return d.Action + ": " + d.Reason
	case d.Action == schedule.UpdateNow:
		return fmt.Sprintf("will be installed now, in the open window %q: %s", d.Window, d.Reason)
	}
	return fmt.Sprintf("will be installed in the window %q starting %s (%s UTC): %s: %s", d.Window,
		d.When.In(sched.Location()).Format(clockLayout), d.When.UTC().Format("2006-01-02 15:04"), d.Action, d.Reason)
}

// printSender writes events as lines, for logs and cron mail.
type printSender struct{ w io.Writer }

func (p printSender) Send(_ context.Context, e notify.Event) error {
	_, err := fmt.Fprintf(p.w, "%s [%s] %s\n", e.Kind, e.Severity, e.Title)
	return err
}
