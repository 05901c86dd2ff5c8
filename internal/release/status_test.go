package release

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func fixtureInput(t *testing.T, running string) Input {
	t.Helper()
	rels, err := ParseReleases([]byte(`[
	 {"tag_name":"v4.18.0"},{"tag_name":"v4.17.1"},{"tag_name":"v4.17.0"},{"tag_name":"v4.16.0"},
	 {"tag_name":"v4.15.1"},{"tag_name":"v4.13.0"},{"tag_name":"v4.11.2"},{"tag_name":"4.11.2"},
	 {"tag_name":"v4.19.0-rc1","prerelease":true}]`), false)
	if err != nil {
		t.Fatal(err)
	}
	advs, err := ParseGitHubAdvisories(readTestdata(t, "chatwoot-security-advisories.json"))
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Releases: rels, ReleasesKnown: true, Advisories: advs, AdvisoriesKnown: true}
	if running != "" {
		in.Running = MustParseVersion(running)
	}
	return in
}

func TestCompute(t *testing.T) {
	noFix := Advisory{ID: "GHSA-nofx-0000-0001", Severity: "critical", Affected: []Range{mustRange(t, ">= 4.0.0")}}
	tests := []struct {
		name      string
		in        func() Input
		state     string
		behind    int
		supported bool
		findings  []string
		action    string
	}{
		{"current", func() Input { return fixtureInput(t, "4.18.0") }, StateCurrent, 0, true, nil, "up to date"},
		{"current -ce tag", func() Input { return fixtureInput(t, "v4.18.0-ce") }, StateCurrent, 0, true, nil, "up to date"},
		{"newer than latest (pre-release build)", func() Input { return fixtureInput(t, "4.19.0-rc1") }, StateCurrent, 0, true, nil, "up to date"},
		{"behind, no advisory", func() Input { return fixtureInput(t, "4.15.1") }, StateBehind, 4, false, nil,
			"4 releases behind: schedule an update to v4.18.0 in the next maintenance window"},
		{"one behind", func() Input { return fixtureInput(t, "4.17.1") }, StateBehind, 1, false, nil,
			"1 release behind: schedule an update to v4.18.0"},
		{"medium only: next window", func() Input { return fixtureInput(t, "4.12.0") }, StateExposed, 6, false, []string{"GHSA-8qxm-4p4p-cfhm"},
			"medium advisory GHSA-8qxm-4p4p-cfhm fixed in 4.13.0: update in the next maintenance window to v4.18.0"},
		{"high: emergency", func() Input { return fixtureInput(t, "4.10.0") }, StateExposed, 7, false, []string{"GHSA-9pgm-75gg-6948", "GHSA-8qxm-4p4p-cfhm"},
			"high advisory GHSA-9pgm-75gg-6948 (and 1 more) fixed in 4.11.2: emergency update now to v4.18.0"},
		{"critical first", func() Input { return fixtureInput(t, "3.0.0") }, StateExposed, 7, false,
			[]string{"GHSA-g8f9-hh83-rcq9", "GHSA-9pgm-75gg-6948", "GHSA-8qxm-4p4p-cfhm", "GHSA-x288-jh8j-348c"},
			"critical advisory GHSA-g8f9-hh83-rcq9 (and 3 more) fixed in 3.16.0: emergency update now to v4.18.0"},
		{"no releases feed: unknown, never up to date", func() Input {
			in := fixtureInput(t, "4.18.0")
			in.Releases, in.ReleasesKnown = nil, false
			return in
		}, StateUnknown, 0, false, nil, "cannot tell"},
		{"no advisory feed: unknown even if behind", func() Input {
			in := fixtureInput(t, "4.15.1")
			in.Advisories, in.AdvisoriesKnown = nil, false
			return in
		}, StateUnknown, 4, false, nil, "4 release(s) behind, advisories unknown"},
		{"empty release list", func() Input {
			in := fixtureInput(t, "4.15.1")
			in.Releases = []Release{}
			return in
		}, StateUnknown, 0, false, nil, "cannot tell"},
		{"running unknown", func() Input { return fixtureInput(t, "") }, StateUnknown, 0, false, nil, "version-probe"},
		{"exposed even without a release feed", func() Input {
			in := fixtureInput(t, "4.10.0")
			in.Releases, in.ReleasesKnown = nil, false
			return in
		}, StateExposed, 0, false, []string{"GHSA-9pgm-75gg-6948", "GHSA-8qxm-4p4p-cfhm"},
			"high advisory GHSA-9pgm-75gg-6948 (and 1 more) fixed in 4.11.2: emergency update now to v4.13.0"},
		{"stale feed: unknown, never up to date", func() Input {
			in := fixtureInput(t, "4.18.0")
			in.Stale = []string{"the releases feed's data is 30 days old"}
			return in
		}, StateUnknown, 0, true, nil, "cannot tell"},
		{"stale feed: a known advisory still wins", func() Input {
			in := fixtureInput(t, "4.10.0")
			in.Stale = []string{"the releases feed's data is 30 days old"}
			return in
		}, StateExposed, 7, false, []string{"GHSA-9pgm-75gg-6948", "GHSA-8qxm-4p4p-cfhm"}, "emergency update now"},
		{"running newer than the feed's latest: the feed is behind", func() Input { return fixtureInput(t, "4.19.0") }, StateUnknown, 0, true, nil, "cannot tell"},
		{"no fix released", func() Input {
			in := fixtureInput(t, "4.18.0")
			in.Advisories = append(in.Advisories, noFix)
			return in
		}, StateExposed, 0, true, []string{"GHSA-nofx-0000-0001"}, "no release fixes it yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Compute(tt.in())
			var ids []string
			for _, f := range st.Findings {
				ids = append(ids, f.ID)
			}
			if st.State != tt.state || st.Behind != tt.behind || st.Supported != tt.supported || !reflect.DeepEqual(ids, tt.findings) {
				t.Errorf("got state=%s behind=%d supported=%v findings=%v", st.State, st.Behind, st.Supported, ids)
			}
			if !strings.Contains(st.Action, tt.action) {
				t.Errorf("action %q, want it to contain %q", st.Action, tt.action)
			}
			if st.State == StateUnknown && (st.Action == "up to date" || len(st.Unknown) == 0) {
				t.Errorf("unknown state must say why: %+v", st)
			}
		})
	}
}

func TestComputeUnreadableAdvisoryIsReported(t *testing.T) {
	in := fixtureInput(t, "4.18.0")
	in.Advisories = append(in.Advisories, Advisory{ID: "GHSA-odd0", Unreadable: []string{"GHSA-odd0: vulnerable_version_range: bad"}})
	st := Compute(in)
	if len(st.Unchecked) != 1 || st.State != StateCurrent {
		t.Errorf("%+v", st)
	}
}

func TestExitCode(t *testing.T) {
	for state, want := range map[string]int{StateCurrent: 0, StateBehind: 10, StateExposed: 20, StateUnknown: 3, "": 3} {
		if got := ExitCode(state); got != want {
			t.Errorf("ExitCode(%q) = %d, want %d", state, got, want)
		}
	}
}

func TestEvents(t *testing.T) {
	now := time.Date(2026, 6, 20, 0, 0, 0, 0, time.UTC)
	st := Compute(fixtureInput(t, "4.10.0"))
	evs := Events(st, now)
	var keys, sevs []string
	for _, e := range evs {
		keys = append(keys, e.Key)
		sevs = append(sevs, e.Severity)
	}
	wantKeys := []string{"advisory.new:GHSA-9pgm-75gg-6948", "advisory.new:GHSA-8qxm-4p4p-cfhm", "release.new:v4.18.0"}
	if !reflect.DeepEqual(keys, wantKeys) || !reflect.DeepEqual(sevs, []string{"critical", "warning", "info"}) {
		t.Errorf("keys %v severities %v", keys, sevs)
	}
	if evs[0].Fields["fixed_in"] != "4.11.2" || evs[0].Fields["cvss"] != "8.5" || !evs[0].Time.Equal(now) {
		t.Errorf("advisory event: %+v", evs[0])
	}
	if n := len(Events(Compute(fixtureInput(t, "4.18.0")), now)); n != 0 {
		t.Errorf("up to date: %d events", n)
	}
}

func mustRange(t *testing.T, s string) Range {
	t.Helper()
	r, err := ParseRange(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
