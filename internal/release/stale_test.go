package release

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A local feed file's age is its modification time: a feed last changed
// long ago answers "unknown" (exit 3) with its age, never "up to date",
// unless a known advisory affects the running version (exit 20).
func TestCheckStaleFileFeed(t *testing.T) {
	dir := t.TempDir()
	rel := filepath.Join(dir, "releases.json")
	adv := filepath.Join(dir, "advisories.json")
	if err := os.WriteFile(rel, []byte(`[{"tag_name":"v4.18.0"},{"tag_name":"v4.10.0"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(adv, readTestdata(t, "chatwoot-security-advisories.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	check := func(running string, maxAge time.Duration) Report {
		return Check(context.Background(), CheckOptions{Running: MustParseVersion(running), RunningSource: "flag",
			Releases: rel, Advisories: adv, MaxFeedAge: maxAge, Fetcher: &Fetcher{Now: func() time.Time { return now }}})
	}
	fresh := now.Add(-time.Hour)
	for _, f := range []string{rel, adv} {
		os.Chtimes(f, fresh, fresh)
	}
	if r := check("4.18.0", 0); r.ExitCode != 0 || r.Feeds[0].Stale {
		t.Fatalf("fresh feeds: exit %d, feeds %+v", r.ExitCode, r.Feeds)
	}
	old := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(rel, old, old)
	r := check("4.18.0", 0)
	if r.ExitCode != 3 || r.State != StateUnknown || !r.Feeds[0].Stale || r.Feeds[1].Stale {
		t.Fatalf("stale releases file: exit %d state %s feeds %+v", r.ExitCode, r.State, r.Feeds)
	}
	if why := strings.Join(r.Unknown, "\n"); !strings.Contains(why, "1430 days old") || !strings.Contains(why, "allowed 1w") {
		t.Errorf("reasons %q: want the age and the allowed age", why)
	}
	if r := check("4.18.0", 5*365*24*time.Hour); r.ExitCode != 0 {
		t.Errorf("with max age 5y: exit %d, want 0", r.ExitCode)
	}
	if r := check("4.10.0", 0); r.ExitCode != 20 {
		t.Errorf("stale feed, affected version: exit %d, want 20 (a known advisory wins)", r.ExitCode)
	}
}
