package advisory

import (
	"strings"
	"testing"
	"time"
)

func TestIgnoreListWithExpiry(t *testing.T) {
	dir := writeDB(t, map[string]string{
		".bundler-audit.yml": "---\nignore:\n  - CVE-2026-33168\n",
		".wootguard-ignore.yml": `ignore:
  - id: CVE-2026-32700          # devise, still in force on the test day
    reason: we do not use the confirmable module
    expires: 2026-12-31
  - id: GHSA-9wjq-cp2p-hrgf     # loofah, expired the day before
    reason: waiting for the sanitizer upgrade
    expires: 2026-11-22
  - id: GHSA-353f-x4gh-cqq8     # a GHSA that ruby-advisory-db files under its own id
    reason: alias test
  - id: CVE-1999-0001
    reason: matches nothing
`,
	})
	var l IgnoreList
	if err := l.LoadBundlerAuditConfig(dir + "/.bundler-audit.yml"); err != nil {
		t.Fatal(err)
	}
	if err := l.LoadIgnoreFile(dir+"/.wootguard-ignore.yml", true); err != nil {
		t.Fatal(err)
	}
	// Merged with command-line ids, unlike bundler-audit where --ignore
	// replaces the file. Ignoring a GHSA id ignores its CVE-named file.
	l.Add("--ignore", "ghsa-gjh7-p2fx-99vx") // rack CVE-2025-46727's GHSA, lower-case
	today := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	rep := auditFile(t, loadTestDB(t), "00457f1c.Gemfile.lock", Options{Ignore: &l, Today: today})

	var ignored []string
	for _, f := range rep.Ignored {
		ignored = append(ignored, f.Gem+" "+f.Advisory.ID+" by "+f.Ignored.ID)
	}
	want := "actionview CVE-2026-33168 by CVE-2026-33168|devise CVE-2026-32700 by CVE-2026-32700|" +
		"nokogiri GHSA-353f-x4gh-cqq8 by GHSA-353f-x4gh-cqq8|rack CVE-2025-46727 by ghsa-gjh7-p2fx-99vx"
	if got := strings.Join(ignored, "|"); got != want {
		t.Errorf("ignored:\n%s\nwant:\n%s", got, want)
	}
	if len(rep.Findings) != 86-4 {
		t.Errorf("%d findings left, want 82", len(rep.Findings))
	}
	if len(rep.ExpiredIgnores) != 1 || rep.ExpiredIgnores[0].ID != "GHSA-9wjq-cp2p-hrgf" {
		t.Errorf("expired = %+v", rep.ExpiredIgnores)
	}
	for _, f := range rep.Findings {
		if f.Advisory.ID == "GHSA-9wjq-cp2p-hrgf" {
			goto loofahReported
		}
	}
	t.Error("an expired rule still hides loofah GHSA-9wjq-cp2p-hrgf")
loofahReported:
	if len(rep.UnusedIgnores) != 1 || rep.UnusedIgnores[0].ID != "CVE-1999-0001" {
		t.Errorf("unused = %+v", rep.UnusedIgnores)
	}
	// On its last day the rule still holds.
	last := Options{Ignore: &l, Today: time.Date(2026, 11, 22, 23, 59, 0, 0, time.UTC)}
	if rep := auditFile(t, loadTestDB(t), "00457f1c.Gemfile.lock", last); len(rep.ExpiredIgnores) != 0 {
		t.Errorf("rule expired on its last day: %+v", rep.ExpiredIgnores)
	}
}

func TestIgnoreFileErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"no reason", "ignore:\n  - id: CVE-2026-1\n", "has no reason"},
		{"no id", "ignore:\n  - reason: x\n", "without id"},
		{"bad date", "ignore:\n  - id: CVE-2026-1\n    reason: x\n    expires: next week\n", "not a date"},
		{"unknown key", "ignore:\n  - id: CVE-2026-1\n    reason: x\n    until: 2026-01-01\n", `line 4: unknown key "until"`},
		{"top-level typo", "ignores:\n  - id: CVE-2026-1\n", "ignores"},
		{"scalar entry", "ignore:\n  - CVE-2026-1\n", "must be a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDB(t, map[string]string{"i.yml": tt.body})
			var l IgnoreList
			err := l.LoadIgnoreFile(dir+"/i.yml", true)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	var l IgnoreList
	if err := l.LoadIgnoreFile(t.TempDir()+"/missing.yml", false); err != nil {
		t.Errorf("optional missing file: %v", err)
	}
	if err := l.LoadIgnoreFile(t.TempDir()+"/missing.yml", true); err == nil {
		t.Error("required missing file accepted")
	}
	dir := writeDB(t, map[string]string{"b.yml": "ignore: CVE-2026-1\n", "c.yml": "ignore:\n  - [x]\n"})
	for _, f := range []string{"b.yml", "c.yml"} {
		if err := l.LoadBundlerAuditConfig(dir + "/" + f); err == nil {
			t.Errorf("%s accepted", f)
		}
	}
}
