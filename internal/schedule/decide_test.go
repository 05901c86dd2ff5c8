package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	soak := func(d time.Duration) *time.Duration { return &d }
	monthly := Config{Timezone: "Europe/Berlin", Windows: []Window{secondTuesday}, Freeze: []Freeze{holidays}}
	weekly := Config{Timezone: "Europe/Berlin", Windows: []Window{sundayWeekly}, Freeze: []Freeze{holidays}}
	paging := weekly
	paging.Emergency = Emergency{MinSeverity: "critical", Action: ActionPage}
	noSoak := monthly
	noSoak.MinReleaseAge = soak(0)
	crit := []Advisory{{ID: "GHSA-g8f9-hh83-rcq9", Severity: "critical"}}

	tests := []struct {
		name       string
		cfg        Config
		now        string
		published  string
		advisories []Advisory
		action     string
		when       string // "" = now
		reason     string // a part of the reason
	}{
		{"soaked release waits for the next window", monthly, "2026-11-23T12:00:00Z", "2026-11-02T10:00:00Z", nil,
			WaitForWindow, "2026-12-08T01:00:00Z", `waits for window "monthly" at Tue 2026-12-08 02:00 CET`},
		{"soaked release inside a window goes now", monthly, "2026-12-08T01:30:00Z", "2026-11-02T10:00:00Z", nil,
			UpdateNow, "", `window "monthly" is open until Tue 2026-12-08 04:00 CET`},
		{"soak pushes the update to the following window", monthly, "2026-12-07T12:00:00Z", "2026-12-06T10:00:00Z", nil,
			WaitForSoak, "2027-01-12T01:00:00Z", "ends Wed 2026-12-09 11:00 CET"},
		{"soak ending inside a window starts it then", monthly, "2026-12-07T12:00:00Z", "2026-12-05T01:30:00Z", nil,
			WaitForSoak, "2026-12-08T01:30:00Z", "soak is 72h"},
		{"no soak: the next window", noSoak, "2026-12-07T12:00:00Z", "2026-12-07T11:00:00Z", nil,
			WaitForWindow, "2026-12-08T01:00:00Z", "soak is 0s"},
		{"in a freeze", weekly, "2026-12-22T12:00:00Z", "2026-12-01T00:00:00Z", nil,
			Frozen, "2027-01-10T02:00:00Z", "freeze 2026-12-20 – 2027-01-03 (holidays) is in effect"},
		{"a freeze ahead skips the next openings", weekly, "2026-12-18T12:00:00Z", "2026-12-01T00:00:00Z", nil,
			Frozen, "2027-01-10T02:00:00Z", `skips window "weekly" at Sun 2026-12-20 03:00 CET`},
		{"soak and freeze: the soak would not have mattered", weekly, "2026-12-18T12:00:00Z", "2026-12-18T00:00:00Z", nil,
			Frozen, "2027-01-10T02:00:00Z", "skips"},
		{"emergency opens a window during a freeze", weekly, "2026-12-22T12:00:00Z", "2026-12-22T11:00:00Z", crit,
			UpdateNow, "", "GHSA-g8f9-hh83-rcq9 (critical), at or above the emergency threshold \"high\": update now"},
		{"an advisory below the threshold takes the normal lane", weekly, "2026-12-22T12:00:00Z", "2026-12-22T11:00:00Z", []Advisory{{ID: "GHSA-8qxm-4p4p-cfhm", Severity: "medium"}},
			Frozen, "2027-01-10T02:00:00Z", "is in effect"},
		{"an advisory of unknown severity counts as urgent", weekly, "2026-11-23T12:00:00Z", "2026-11-23T11:00:00Z", []Advisory{{ID: "CVE-2026-1"}},
			UpdateNow, "", "CVE-2026-1 (severity unknown)"},
		{"emergency page keeps the normal schedule", paging, "2026-12-22T12:00:00Z", "2026-12-22T11:00:00Z", crit,
			Page, "2027-01-10T02:00:00Z", "page the operator; the normal schedule still applies: freeze"},
		{"page threshold critical ignores high", paging, "2026-11-23T12:00:00Z", "2026-11-01T11:00:00Z", []Advisory{{ID: "GHSA-9pgm-75gg-6948", Severity: "high"}},
			WaitForWindow, "2026-11-29T02:00:00Z", "waits for window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := at(t, tt.now)
			d, err := mustNew(t, tt.cfg).Decide(now, Candidate{Version: "v4.13.0", PublishedAt: at(t, tt.published), Advisories: tt.advisories})
			if err != nil {
				t.Fatal(err)
			}
			want := now
			if tt.when != "" {
				want = at(t, tt.when)
			}
			if d.Action != tt.action || !d.When.Equal(want) || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("got %s at %v: %s\nwant %s at %v, reason containing %q", d.Action, d.When.UTC(), d.Reason, tt.action, want.UTC(), tt.reason)
			}
			if strings.Count(d.Reason, ". ") > 0 || !strings.HasSuffix(d.Reason, ".") {
				t.Errorf("reason is not one sentence: %q", d.Reason)
			}
		})
	}
}

func TestDecideBadInput(t *testing.T) {
	s := mustNew(t, Config{Windows: []Window{sundayWeekly}, Freeze: []Freeze{{From: "2026-01-01", To: "2099-12-31"}}})
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	if _, err := s.Decide(now, Candidate{Version: "v4.13.0"}); err == nil || !strings.Contains(err.Error(), "publication time unknown") {
		t.Errorf("zero PublishedAt: err = %v", err)
	}
	if _, err := s.Decide(now, Candidate{Version: "v4.13.0", PublishedAt: now.AddDate(0, -1, 0)}); err == nil || !strings.Contains(err.Error(), "no usable window") {
		t.Errorf("everything frozen: err = %v", err)
	}
	// The emergency lane still works when freezes cover everything.
	d, err := s.Decide(now, Candidate{Version: "v4.13.0", PublishedAt: now, Advisories: []Advisory{{ID: "X", Severity: "critical"}}})
	if err != nil || d.Action != UpdateNow {
		t.Errorf("emergency under a permanent freeze: %+v, %v", d, err)
	}
}

func BenchmarkDecide(b *testing.B) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	s, err := New(Config{Windows: []Window{secondTuesday, sundayWeekly}, Freeze: []Freeze{holidays}}, loc)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 12, 18, 12, 0, 0, 0, time.UTC)
	c := Candidate{Version: "v4.13.0", PublishedAt: now.Add(-time.Hour)}
	for b.Loop() {
		if _, err := s.Decide(now, c); err != nil {
			b.Fatal(err)
		}
	}
}
