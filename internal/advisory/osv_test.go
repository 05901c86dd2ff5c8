package advisory

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/gemlock"
	"github.com/wootguard/wootguard/internal/gemversion"
)

// writeZip builds an OSV export zip (name -> JSON) in a temp dir.
func writeZip(t *testing.T, files map[string]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "all.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// The OSV spec's own RubyGems example, as a document.
const osvBundler = `{
  "schema_version": "1.7.5", "id": "GHSA-fj7f-vq84-fh43", "modified": "2026-01-01T00:00:00Z",
  "published": "2021-02-26T00:00:00Z", "aliases": ["CVE-2020-36327"],
  "summary": "Dependency confusion in bundler",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H"}],
  "affected": [{
    "package": {"ecosystem": "RubyGems", "name": "bundler", "purl": "pkg:gem/bundler"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.14.0"}, {"fixed": "2.1.0"}]}],
    "versions": ["1.15.0.pre.1", "1.14.0", "2.0.0"]
  }],
  "references": [{"type": "WEB", "url": "https://example.com/web"}, {"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2020-36327"}]
}`

func TestOSVRanges(t *testing.T) {
	tests := []struct {
		name   string
		events string
		list   string
		yes    []string
		no     []string
	}{
		{"introduced/fixed", `[{"introduced": "1.14.0"}, {"fixed": "2.1.0"}]`, "",
			[]string{"1.14.0", "1.15.0.pre.1", "2.0.9", "2.1.0.rc1"}, []string{"1.13.9", "1.14.0.rc1", "2.1.0", "3.0"}},
		{"zero/last_affected", `[{"introduced": "0"}, {"last_affected": "1.2.3"}]`, "",
			[]string{"0.0.1", "1.2.3", "1.2.3.0"}, []string{"1.2.3.1", "1.2.4"}},
		{"two windows, unsorted", `[{"fixed": "5.2.8"}, {"introduced": "6.0.0"}, {"introduced": "0"}, {"fixed": "6.1.7.1"}]`, "",
			[]string{"5.2.7", "6.0.0", "6.1.7"}, []string{"5.2.8", "5.9", "6.1.7.1", "7.0"}},
		{"open ended", `[{"introduced": "2.0.0-rc.1"}]`, "",
			[]string{"2.0.0.pre.rc.1", "2.0.0", "99"}, []string{"2.0.0.beta"}},
		{"limit", `[{"introduced": "1.0"}, {"limit": "2.0"}]`, "",
			[]string{"1.5"}, []string{"2.0", "0.9"}},
		{"versions only", `[]`, `"1.0.0", "1.0.2"`,
			[]string{"1.0", "1.0.2"}, []string{"1.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ranges := `[{"type": "ECOSYSTEM", "events": ` + tt.events + `}]`
			if tt.events == "[]" {
				ranges = "[]"
			}
			doc := `{"id": "OSV-1", "modified": "2026-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "RubyGems", "name": "g"},
				"ranges": ` + ranges + `, "versions": [` + tt.list + `]}]}`
			as, err := parseOSV("x.json", []byte(doc))
			if err != nil || len(as) != 1 {
				t.Fatalf("parse: %v %v", as, err)
			}
			for _, v := range tt.yes {
				if !as[0].Vulnerable(gemversion.MustParse(v)) {
					t.Errorf("%s should be affected", v)
				}
			}
			for _, v := range tt.no {
				if as[0].Vulnerable(gemversion.MustParse(v)) {
					t.Errorf("%s should not be affected", v)
				}
			}
		})
	}
}

func TestOSVZipAndDedupe(t *testing.T) {
	files := map[string]string{
		"GHSA-fj7f-vq84-fh43.json": osvBundler,
		// The same advisory as ruby-advisory-db's nokogiri
		// GHSA-5prr-v3j2-97mh, under its CVE id: must merge.
		"CVE-dup.json": `{"id": "GHSA-5prr-v3j2-97mh", "modified": "2026-01-01T00:00:00Z", "aliases": ["CVE-2099-0007"],
			"summary": "dup", "affected": [{"package": {"ecosystem": "RubyGems", "name": "nokogiri"},
			"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.19.4"}]}]}]}`,
		"withdrawn.json": `{"id": "GHSA-wwww-wwww-wwww", "modified": "2026-01-01T00:00:00Z", "withdrawn": "2026-02-01T00:00:00Z",
			"affected": [{"package": {"ecosystem": "RubyGems", "name": "rack"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}`,
		"pypi.json": `{"id": "PYSEC-1", "modified": "2026-01-01T00:00:00Z",
			"affected": [{"package": {"ecosystem": "PyPI", "name": "rack"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}`,
		"moderate.json": `{"id": "GHSA-mmmm-mmmm-mmmm", "modified": "2026-01-01T00:00:00Z", "database_specific": {"severity": "MODERATE"},
			"affected": [{"package": {"ecosystem": "RubyGems", "name": "rack"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.2.99"}]}]}]}`,
		"dir/": "",
	}
	db := loadTestDB(t)
	base := db.Len()
	if err := db.AddOSVZip(writeZip(t, files)); err != nil {
		t.Fatal(err)
	}
	if db.Len() != base+3 {
		t.Errorf("added %d advisories, want 3 (withdrawn and PyPI skipped)", db.Len()-base)
	}
	b := db.ForGem("bundler")
	if len(b) != 1 || b[0].Criticality() != "high" || b[0].URL != "https://nvd.nist.gov/vuln/detail/CVE-2020-36327" ||
		b[0].CVE != "2020-36327" || b[0].GHSA != "fj7f-vq84-fh43" || b[0].Title != "Dependency confusion in bundler" {
		t.Errorf("bundler advisory = %+v", b)
	}
	lock := `GEM
  remote: https://rubygems.org/
  specs:
    bundler (2.0.0)
    nokogiri (1.19.3)
    nokogiri (1.19.3-x86_64-linux-gnu)
    rack (2.2.13)
`
	lf, err := gemlock.Parse([]byte(lock))
	if err != nil {
		t.Fatal(err)
	}
	rep := Audit(lf, db, Options{})
	count := map[string]int{}
	for _, f := range rep.Findings {
		count[f.Gem]++
		switch f.Advisory.ID {
		case "GHSA-5prr-v3j2-97mh":
			if f.Advisory.Feed != FeedRubySec || len(f.Also) != 1 || f.Also[0].Feed != FeedOSV {
				t.Errorf("dedupe: primary %s, also %d", f.Advisory.Feed, len(f.Also))
			}
			if ids := strings.Join(f.Identifiers(), ","); !strings.Contains(ids, "CVE-2099-0007") {
				t.Errorf("merged identifiers %s lack the OSV alias", ids)
			}
		case "GHSA-fj7f-vq84-fh43":
			if f.Fix != "update bundler to >= 2.1.0" {
				t.Errorf("OSV fix = %q", f.Fix)
			}
		case "GHSA-mmmm-mmmm-mmmm":
			if f.Criticality != "medium" {
				t.Errorf("GHSA severity MODERATE -> %s", f.Criticality)
			}
		}
	}
	// nokogiri: 8 ruby-advisory-db findings for 1.19.3 and no extra one
	// for the OSV duplicate.
	if count["nokogiri"] != 8 || count["bundler"] != 1 || count["rack"] != 20 {
		t.Errorf("findings per gem = %v", count)
	}
}

func TestOSVZipErrors(t *testing.T) {
	tests := map[string]string{
		"not json":       `{"id": `,
		"no id":          `{"modified": "2026-01-01T00:00:00Z"}`,
		"bad version":    `{"id": "X", "modified": "m", "affected": [{"package": {"ecosystem": "RubyGems", "name": "g"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "one"}]}]}]}`,
		"no introduced":  `{"id": "X", "modified": "m", "affected": [{"package": {"ecosystem": "RubyGems", "name": "g"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "1.0"}]}]}]}`,
		"two keys":       `{"id": "X", "modified": "m", "affected": [{"package": {"ecosystem": "RubyGems", "name": "g"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1.0"}]}]}]}`,
		"unknown event":  `{"id": "X", "modified": "m", "affected": [{"package": {"ecosystem": "RubyGems", "name": "g"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"patched": "1.0"}]}]}]}`,
		"unknown range":  `{"id": "X", "modified": "m", "affected": [{"package": {"ecosystem": "RubyGems", "name": "g"}, "ranges": [{"type": "CALVER", "events": [{"introduced": "0"}]}]}]}`,
		"bad versions[]": `{"id": "X", "modified": "m", "affected": [{"package": {"ecosystem": "RubyGems", "name": "g"}, "versions": ["1..0"]}]}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			db := NewDB()
			err := db.AddOSVZip(writeZip(t, map[string]string{"e.json": doc}))
			if err == nil || !strings.Contains(err.Error(), "all.zip!e.json") {
				t.Errorf("err = %v, want one naming all.zip!e.json", err)
			}
		})
	}
	db := NewDB()
	bad := filepath.Join(t.TempDir(), "x.zip")
	os.WriteFile(bad, []byte("not a zip"), 0o644)
	if err := db.AddOSVZip(bad); err == nil {
		t.Error("a non-zip file was accepted")
	}
}
