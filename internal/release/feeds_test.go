package release

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tags(rs []Release) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Tag)
	}
	return out
}

func TestParseReleasesFixtures(t *testing.T) {
	for _, name := range []string{"chatwoot-releases.json", "chatwoot-releases.atom"} {
		rs, err := ParseReleases(readTestdata(t, name), false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		latest, ok := Latest(rs)
		if !ok || latest.Tag != "v4.13.0" || latest.URL != "https://github.com/chatwoot/chatwoot/releases/tag/v4.13.0" {
			t.Errorf("%s: latest = %+v", name, latest)
		}
		if latest.Published.IsZero() {
			t.Errorf("%s: no publication time", name)
		}
	}
	rs, _ := ParseReleases(readTestdata(t, "chatwoot-releases.json"), false)
	if got := tags(rs); !reflect.DeepEqual(got, []string{"v4.13.0", "v4.11.2"}) {
		t.Errorf("JSON tags = %v", got)
	}
}

func TestParseReleasesFiltering(t *testing.T) {
	feed := `[
	 {"tag_name":"v4.16.0","draft":true,"prerelease":false},
	 {"tag_name":"v4.16.0-rc1","draft":false,"prerelease":true},
	 {"tag_name":"v4.15.1","draft":false,"prerelease":false},
	 {"tag_name":"4.15.1","draft":false,"prerelease":false},
	 {"tag_name":"nightly","draft":false,"prerelease":false},
	 {"tag_name":"v4.15.0","draft":false,"prerelease":false}]`
	tests := []struct {
		includePre bool
		want       []string
	}{
		{false, []string{"v4.15.1", "4.15.1", "v4.15.0"}},
		{true, []string{"v4.16.0-rc1", "v4.15.1", "4.15.1", "v4.15.0"}},
	}
	for _, tt := range tests {
		rs, err := ParseReleases([]byte(feed), tt.includePre)
		if err != nil {
			t.Fatal(err)
		}
		if got := tags(rs); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("includePre=%v: %v, want %v", tt.includePre, got, tt.want)
		}
	}
	rs, _ := ParseReleases([]byte(feed), false)
	// v4.15.1 and 4.15.1 are one release.
	if n := len(Newer(rs, MustParseVersion("4.14.0"))); n != 2 {
		t.Errorf("Newer than 4.14.0: %d distinct releases, want 2", n)
	}
}

func TestFeedsRejectBrokenInput(t *testing.T) {
	html := "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
	full := string(readTestdata(t, "chatwoot-security-advisories.json"))
	tests := []struct {
		name    string
		parse   func([]byte) error
		body    string
		wantErr string
	}{
		{"releases HTML", releasesParser, html, "HTML page instead of JSON"},
		{"releases truncated", releasesParser, `[{"tag_name":"v4.13.0","dra`, "truncated JSON"},
		{"releases empty", releasesParser, "  ", "empty body"},
		{"releases object", releasesParser, `{"message":"Not Found"}`, "unexpected JSON shape"},
		{"releases not a list of releases", releasesParser, `[{"id":1}]`, "no tag_name"},
		{"releases garbage", releasesParser, `[1,2,}`, "not valid JSON"},
		{"atom truncated", releasesParser, `<?xml version="1.0"?><feed><entry><id>x`, "truncated Atom"},
		{"advisories HTML", advisoriesParser, html, "HTML page"},
		{"advisories truncated", advisoriesParser, full[:len(full)/2], "truncated JSON"},
		{"advisories wrong list", advisoriesParser, `[{"tag_name":"v1.0.0"}]`, "no ghsa_id"},
		{"osv HTML", osvParser, html, "HTML page"},
		{"osv truncated", osvParser, `{"id":"CVE-1","affected":[`, "truncated JSON"},
		{"osv no id", osvParser, `[{"summary":"x"}]`, "has no id"},
	}
	for _, tt := range tests {
		err := tt.parse([]byte(tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func releasesParser(b []byte) error   { _, err := ParseReleases(b, false); return err }
func advisoriesParser(b []byte) error { _, err := ParseGitHubAdvisories(b); return err }
func osvParser(b []byte) error        { _, err := ParseOSV(b); return err }

func TestParseGitHubAdvisoriesFixture(t *testing.T) {
	as, err := ParseGitHubAdvisories(readTestdata(t, "chatwoot-security-advisories.json"))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Advisory{}
	for _, a := range as {
		byID[a.ID] = a
	}
	tests := []struct {
		id, cve, severity string
		cvss              float64
		fixed             string
		affected          []string
		notAffected       []string
	}{
		{"GHSA-g8f9-hh83-rcq9", "CVE-2025-21628", "critical", 9.1, "3.16.0", []string{"3.15.9", "1.0.0"}, []string{"3.16.0", "4.15.1"}},
		{"GHSA-9pgm-75gg-6948", "CVE-2026-44706", "high", 8.5, "4.11.2", []string{"2.2.0", "4.11.1"}, []string{"2.1.9", "4.11.2"}},
		{"GHSA-8qxm-4p4p-cfhm", "CVE-2026-44707", "medium", 6.8, "4.13.0", []string{"2.14.0", "4.12.0"}, []string{"2.13.0", "4.13.0"}},
		{"GHSA-x288-jh8j-348c", "CVE-2026-72719", "medium", 6.7, "4.9.0", []string{"4.8.0"}, []string{"4.9.0"}},
	}
	if len(as) != len(tests) {
		t.Errorf("got %d advisories, want %d", len(as), len(tests))
	}
	for _, tt := range tests {
		a, ok := byID[tt.id]
		if !ok {
			t.Errorf("%s missing", tt.id)
			continue
		}
		if !reflect.DeepEqual(a.Aliases, []string{tt.cve}) || a.Severity != tt.severity || a.CVSS != tt.cvss || a.URL == "" || a.Published.IsZero() {
			t.Errorf("%s: %+v", tt.id, a)
		}
		if len(a.Fixed) != 1 || a.Fixed[0].String() != tt.fixed {
			t.Errorf("%s: fixed %v, want %s", tt.id, a.Fixed, tt.fixed)
		}
		for _, v := range tt.affected {
			if !a.Affects(MustParseVersion(v)) {
				t.Errorf("%s should affect %s", tt.id, v)
			}
		}
		for _, v := range tt.notAffected {
			if a.Affects(MustParseVersion(v)) {
				t.Errorf("%s should not affect %s", tt.id, v)
			}
		}
	}
}

func TestParseGitHubAdvisoriesEdgeCases(t *testing.T) {
	feed := `[
	 {"ghsa_id":"GHSA-wwww-0000-0001","severity":"high","withdrawn_at":"2026-01-01T00:00:00Z",
	  "vulnerabilities":[{"package":{"ecosystem":"other","name":"chatwoot"},"vulnerable_version_range":"< 9.0.0"}]},
	 {"ghsa_id":"GHSA-bad0-0000-0002","severity":"moderate","cvss_severities":{"cvss_v3":null,"cvss_v4":{"score":7.1,"vector_string":"CVSS:4.0/AV:N"}},
	  "vulnerabilities":[{"package":{"ecosystem":"other","name":"chatwoot"},"vulnerable_version_range":"<= x"}]},
	 {"ghsa_id":"GHSA-npm0-0000-0003","severity":"",
	  "cvss":{"score":5.0,"vector_string":"v"},
	  "vulnerabilities":[{"package":{"ecosystem":"npm","name":"left-pad"},"vulnerable_version_range":"< 1.0.0"},
	                     {"package":null,"vulnerable_version_range":">= 4.0.0, < 4.0.5","patched_versions":">= 4.0.5"}]}
	]`
	as, err := ParseGitHubAdvisories([]byte(feed))
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 {
		t.Fatalf("withdrawn advisory kept: %d advisories", len(as))
	}
	bad, npm := as[0], as[1]
	if len(bad.Unreadable) != 1 || !strings.Contains(bad.Unreadable[0], "<= x") || bad.Severity != "medium" || bad.CVSS != 7.1 {
		t.Errorf("unreadable range advisory: %+v", bad)
	}
	if len(npm.Affected) != 1 || !npm.Affects(MustParseVersion("4.0.1")) || npm.Affects(MustParseVersion("0.9.0")) {
		t.Errorf("npm range must be ignored, chatwoot range kept: %+v", npm)
	}
	if npm.Severity != "medium" || len(npm.Fixed) != 1 || npm.Fixed[0].String() != "4.0.5" {
		t.Errorf("severity from CVSS / fixed from patched_versions: %+v", npm)
	}
}

func TestParseOSV(t *testing.T) {
	one, err := ParseOSV(readTestdata(t, "osv-chatwoot-cve.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != 1 || one[0].CVSS != 8.5 || one[0].Severity != "high" || !one[0].Affects(MustParseVersion("4.11.1")) ||
		one[0].Affects(MustParseVersion("4.11.2")) || one[0].Affects(MustParseVersion("2.1.0")) ||
		!strings.Contains(one[0].URL, "GHSA-9pgm") {
		t.Errorf("single record: %+v", one)
	}
	list, err := ParseOSV(readTestdata(t, "osv-list.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("want the 2 Chatwoot records (rack and withdrawn dropped), got %d: %+v", len(list), list)
	}
	git, eco := list[0], list[1]
	tests := []struct {
		a     Advisory
		v     string
		wants bool
	}{
		{git, "4.15.1", true}, {git, "4.16.1", true}, {git, "4.17.0", false}, {git, "4.14.0", false},
		{eco, "2.3.9", true}, {eco, "1.0.0", true}, {eco, "2.4.0", false},
	}
	for _, tt := range tests {
		if got := tt.a.Affects(MustParseVersion(tt.v)); got != tt.wants {
			t.Errorf("%s affects %s = %v, want %v", tt.a.ID, tt.v, got, tt.wants)
		}
	}
	if len(git.Unreadable) != 0 || eco.Severity != "medium" {
		t.Errorf("git: %+v eco: %+v", git, eco)
	}
}

func TestOSVEvents(t *testing.T) {
	tests := []struct {
		events string
		in     []string
		out    []string
		unread bool
	}{
		{`[{"introduced":"0"},{"fixed":"4.9.0"}]`, []string{"1.0.0", "4.8.9"}, []string{"4.9.0"}, false},
		{`[{"introduced":"2.0.0"},{"fixed":"2.5.0"},{"introduced":"3.0.0"},{"fixed":"3.1.0"}]`, []string{"2.0.0", "3.0.5"}, []string{"1.9.0", "2.5.0", "2.9.0", "3.1.0"}, false},
		{`[{"introduced":"4.0.0"}]`, []string{"4.0.0", "9.9.9"}, []string{"3.9.9"}, false},
		{`[{"introduced":"0"},{"last_affected":"4.1.0"}]`, []string{"4.1.0"}, []string{"4.1.1"}, false},
		{`[{"introduced":"banana"},{"fixed":"4.1.0"}]`, nil, []string{"4.0.0"}, true},
	}
	for _, tt := range tests {
		rec := `{"id":"X-1","affected":[{"package":{"purl":"pkg:github/chatwoot/chatwoot"},"ranges":[{"type":"SEMVER","events":` + tt.events + `}]}]}`
		as, err := ParseOSV([]byte(rec))
		if err != nil || len(as) != 1 {
			t.Fatalf("%s: %v %v", tt.events, as, err)
		}
		for _, v := range tt.in {
			if !as[0].Affects(MustParseVersion(v)) {
				t.Errorf("%s should affect %s", tt.events, v)
			}
		}
		for _, v := range tt.out {
			if as[0].Affects(MustParseVersion(v)) {
				t.Errorf("%s should not affect %s", tt.events, v)
			}
		}
		if (len(as[0].Unreadable) > 0) != tt.unread {
			t.Errorf("%s: unreadable = %v", tt.events, as[0].Unreadable)
		}
	}
}

func TestMergeJoinsAliases(t *testing.T) {
	gh, _ := ParseGitHubAdvisories(readTestdata(t, "chatwoot-security-advisories.json"))
	osv, _ := ParseOSV(readTestdata(t, "osv-chatwoot-cve.json"))
	list, _ := ParseOSV(readTestdata(t, "osv-list.json"))
	all := Merge(gh, osv, list)
	if len(all) != 6 { // 4 GHSA (one also in OSV as its CVE) + 2 OSV-only
		t.Fatalf("merged %d advisories, want 6", len(all))
	}
	for _, a := range all {
		if a.ID == "GHSA-9pgm-75gg-6948" {
			if a.Source != "github" || len(a.Aliases) != 1 || a.Aliases[0] != "CVE-2026-44706" || len(a.Affected) != 2 {
				t.Errorf("merged record: %+v", a)
			}
		}
		if a.ID == "CVE-2026-44706" {
			t.Errorf("OSV duplicate of GHSA-9pgm kept")
		}
	}
}
