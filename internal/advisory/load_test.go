package advisory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodAdvisory = `---
gem: demo
cve: 2099-1234
ghsa: abcd-efgh-ijkl
url: https://example.com/a
title: Demo flaw
date: 2099-01-02
description: |
  A demo.
cvss_v3: 7.5
patched_versions:
  - ">= 1.2.3"
`

// writeDB writes files (relative path -> content) under a temp dir.
func writeDB(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDirFields(t *testing.T) {
	db := loadTestDB(t)
	var a *Advisory
	for _, x := range db.ForGem("nokogiri") {
		if x.ID == "CVE-2020-26247" {
			a = x
		}
	}
	if a == nil {
		t.Fatal("nokogiri CVE-2020-26247 not loaded")
	}
	if a.CVE != "2020-26247" || a.GHSA != "vr8q-g5c7-m54m" || a.CVSSv3 == nil || *a.CVSSv3 != 2.6 ||
		!a.Date.Equal(time.Date(2020, 12, 30, 0, 0, 0, 0, time.UTC)) || len(a.PatchedVersions) != 1 {
		t.Errorf("fields: %+v", a)
	}
	if got := strings.Join(a.Identifiers(), ","); got != "CVE-2020-26247,GHSA-vr8q-g5c7-m54m" {
		t.Errorf("identifiers = %s", got)
	}
	// No patched_versions: the malicious active-support gem.
	for _, x := range db.ForGem("active-support") {
		if len(x.Patched()) != 0 {
			t.Errorf("active-support has patched versions %v", x.PatchedVersions)
		}
	}
	// The hyphenated prerelease bound parses as RubyGems reads it.
	found := false
	for _, as := range db.byGem {
		for _, x := range as {
			for _, r := range x.unaffected {
				if r.String() == "< 3.0.0.pre.rc.1" {
					found = true
				}
			}
			for _, r := range x.patched {
				if r.String() == "< 3.0.0.pre.rc.1" {
					found = true
				}
			}
		}
	}
	if !found {
		t.Error(`"< 3.0.0-rc.1" not read as "< 3.0.0.pre.rc.1"`)
	}
	if newest := db.Newest(); newest.Year() < 2026 {
		t.Errorf("newest advisory date %v", newest)
	}
}

func TestLoadDirErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no gems dir", map[string]string{"README.md": "x"}, "no gems/ directory"},
		{"empty", map[string]string{"gems/.keep": ""}, "no advisories"},
		{"bad file name", map[string]string{"gems/demo/advisory.yml": goodAdvisory}, "is not CVE-YYYY-NNNN"},
		{"id mismatch", map[string]string{"gems/demo/CVE-2099-9999.yml": goodAdvisory}, "does not match the advisory's cve"},
		{"ghsa mismatch", map[string]string{"gems/demo/GHSA-zzzz-zzzz-zzzz.yml": goodAdvisory}, "does not match"},
		{"gem mismatch", map[string]string{"gems/other/CVE-2099-1234.yml": goodAdvisory}, `does not match its directory "other"`},
		{"bad date", map[string]string{"gems/demo/CVE-2099-1234.yml": strings.Replace(goodAdvisory, "2099-01-02", "someday", 1)}, "not a date"},
		{"missing title", map[string]string{"gems/demo/CVE-2099-1234.yml": strings.Replace(goodAdvisory, "title: Demo flaw\n", "", 1)}, "missing title"},
		{"bad requirement", map[string]string{"gems/demo/CVE-2099-1234.yml": strings.Replace(goodAdvisory, ">= 1.2.3", ">> 1.2.3", 1)}, "ill-formed requirement"},
		{"blank requirement", map[string]string{"gems/demo/CVE-2099-1234.yml": strings.Replace(goodAdvisory, `">= 1.2.3"`, `""`, 1)}, "empty requirement"},
		{"cvss out of range", map[string]string{"gems/demo/CVE-2099-1234.yml": strings.Replace(goodAdvisory, "7.5", "75", 1)}, "outside 0-10"},
		{"not yaml", map[string]string{"gems/demo/CVE-2099-1234.yml": "gem: [unclosed"}, "CVE-2099-1234.yml"},
		{"wrong type", map[string]string{"gems/demo/CVE-2099-1234.yml": strings.Replace(goodAdvisory, "cvss_v3: 7.5", "cvss_v3: high", 1)}, "line 10: cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadDir(writeDB(t, tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := LoadDir(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "--update") {
		t.Errorf("missing dir: err = %v, want a hint to --update", err)
	}
	// Valid files load; the gem dir comparison is case-insensitive.
	db, err := LoadDir(writeDB(t, map[string]string{
		"gems/Demo/CVE-2099-1234.yml": goodAdvisory,
		"gems/Demo/notes.txt":         "ignored",
	}))
	if err != nil || db.Len() != 1 {
		t.Fatalf("valid db: %v", err)
	}
}
