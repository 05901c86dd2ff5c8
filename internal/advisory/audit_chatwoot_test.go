package advisory

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/gemlock"
	"github.com/wootguard/wootguard/internal/gemversion"
)

const testDB = "testdata/ruby-advisory-db"

// Expected findings, one line per gem: "gem ID ID ...". Derived from the
// advisory files with bundler-audit's rule (vulnerable = in no patched
// and no unaffected requirement), checked against real RubyGems and
// Bundler::LockfileParser (Ruby 3.1, RubyGems 3.3.15) by hand, minus
// nokogiri GHSA-8678-w3jw-xfc2, which is "platform: jruby" while both
// lockfiles resolve for MRI only (see TestDifferencesFromBundlerAudit).
var expected00457f1c = []string{
	"actionview CVE-2026-33168",
	"activerecord CVE-2025-55193",
	"activestorage CVE-2025-24293 CVE-2026-33173 CVE-2026-33174 CVE-2026-33195 CVE-2026-33202 CVE-2026-33658 CVE-2026-66066",
	"activesupport CVE-2026-33169 CVE-2026-33170 CVE-2026-33176",
	"addressable CVE-2026-35611",
	"aws-sdk-s3 CVE-2025-14762",
	"bcrypt CVE-2026-33306",
	"concurrent-ruby CVE-2026-54904 CVE-2026-54905 CVE-2026-54906",
	"crass GHSA-6jxj-px6v-747w GHSA-6wmf-3r64-vcwv GHSA-8vfg-2r28-hvhj GHSA-wwpr-jff3-395c",
	"devise CVE-2026-32700 CVE-2026-40295",
	"faraday CVE-2026-25765 CVE-2026-33637 CVE-2026-54297",
	"httparty CVE-2025-68696",
	"jwt CVE-2026-45363",
	"loofah GHSA-9wjq-cp2p-hrgf",
	"mail GHSA-mvxr-6m87-mv2q",
	"msgpack CVE-2026-54522",
	"net-imap CVE-2025-43857 CVE-2026-42245 CVE-2026-42246 CVE-2026-42256 CVE-2026-42257 CVE-2026-42258 CVE-2026-47240 CVE-2026-47241 CVE-2026-47242",
	"nokogiri GHSA-353f-x4gh-cqq8 GHSA-5prr-v3j2-97mh GHSA-5v8h-3h3q-446p GHSA-5w6v-399v-w3cc GHSA-9cv2-cfxc-v4v2 GHSA-c4rq-3m3g-8wgx GHSA-g9g8-vgvw-g3vf GHSA-mrxw-mxhj-p664 GHSA-p67v-3w7g-wjg7 GHSA-phwj-rprq-35pp GHSA-v2fc-qm4h-8hqv GHSA-wfpw-mmfh-qq69 GHSA-wjv4-x9w8-wm3h GHSA-wx95-c6cv-8532",
	"oauth CVE-2026-54605",
	"oauth2 CVE-2026-54603",
	"puma CVE-2026-47736 CVE-2026-47737",
	"rack CVE-2025-32441 CVE-2025-46727 CVE-2025-59830 CVE-2025-61770 CVE-2025-61771 CVE-2025-61772 CVE-2025-61780 CVE-2025-61919 CVE-2026-22860 CVE-2026-25500 CVE-2026-26961 CVE-2026-34230 CVE-2026-34763 CVE-2026-34785 CVE-2026-34786 CVE-2026-34826 CVE-2026-34829 CVE-2026-34830 CVE-2026-34831",
	"rails-html-sanitizer GHSA-cj75-f6xr-r4g7",
	"rexml CVE-2025-58767",
	"sidekiq-cron CVE-2025-67202",
	"uri CVE-2025-61594",
	"websocket-driver CVE-2026-54463 CVE-2026-54464 CVE-2026-54465 CVE-2026-61666",
}

var expectedV4151 = []string{
	"actionview CVE-2026-33168",
	"activestorage CVE-2026-33173 CVE-2026-33174 CVE-2026-33195 CVE-2026-33202 CVE-2026-33658 CVE-2026-66066",
	"activesupport CVE-2026-33169 CVE-2026-33170 CVE-2026-33176",
	"concurrent-ruby CVE-2026-54904 CVE-2026-54905 CVE-2026-54906",
	"crass GHSA-6jxj-px6v-747w GHSA-6wmf-3r64-vcwv GHSA-8vfg-2r28-hvhj GHSA-wwpr-jff3-395c",
	"datadog CVE-2026-50276",
	"devise CVE-2026-32700 CVE-2026-40295",
	"faraday CVE-2026-54297",
	"json CVE-2026-54696",
	"loofah GHSA-9wjq-cp2p-hrgf",
	"mail GHSA-mvxr-6m87-mv2q",
	"msgpack CVE-2026-54522",
	"nokogiri GHSA-5prr-v3j2-97mh GHSA-5v8h-3h3q-446p GHSA-9cv2-cfxc-v4v2 GHSA-g9g8-vgvw-g3vf GHSA-p67v-3w7g-wjg7 GHSA-phwj-rprq-35pp GHSA-wfpw-mmfh-qq69 GHSA-wjv4-x9w8-wm3h",
	"oj CVE-2026-54500 CVE-2026-54502 CVE-2026-54592 CVE-2026-54896 CVE-2026-54897 CVE-2026-54898 CVE-2026-54899 CVE-2026-54900 CVE-2026-54901 CVE-2026-54902 CVE-2026-54903",
	"rails-html-sanitizer GHSA-cj75-f6xr-r4g7",
	"websocket-driver CVE-2026-54463 CVE-2026-54464 CVE-2026-54465 CVE-2026-61666",
}

func loadTestDB(t testing.TB) *DB {
	t.Helper()
	db, err := LoadDir(testDB)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func auditFile(t testing.TB, db *DB, name string, opt Options) *Report {
	t.Helper()
	lf, err := gemlock.ParseFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return Audit(lf, db, opt)
}

// byGem renders findings in the expected-table form.
func byGem(fs []*Finding) []string {
	m := map[string][]string{}
	for _, f := range fs {
		m[f.Gem] = append(m[f.Gem], f.Advisory.ID)
	}
	var out []string
	for g, ids := range m {
		sort.Strings(ids)
		out = append(out, g+" "+strings.Join(ids, " "))
	}
	sort.Strings(out)
	return out
}

func TestAuditChatwoot(t *testing.T) {
	db := loadTestDB(t)
	if db.Len() != 144 {
		t.Fatalf("loaded %d advisories, the subset has 144", db.Len())
	}
	tests := []struct {
		file     string
		want     []string
		findings int
	}{
		{"00457f1c.Gemfile.lock", expected00457f1c, 86},
		{"v4.15.1.Gemfile.lock", expectedV4151, 49},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rep := auditFile(t, db, tt.file, Options{})
			got := byGem(rep.Findings)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("findings differ\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
			if len(rep.Findings) != tt.findings {
				t.Errorf("%d findings, want %d", len(rep.Findings), tt.findings)
			}
			if len(rep.InsecureSources) != 0 {
				t.Errorf("insecure sources in an https-only lockfile: %v", rep.InsecureSources)
			}
			// nokogiri's four variants are one finding per advisory.
			for _, f := range rep.Findings {
				if f.Gem == "nokogiri" && strings.Join(f.Platforms, ",") != "ruby,arm64-darwin,x86_64-darwin,x86_64-linux-gnu" {
					t.Errorf("nokogiri %s platforms = %v", f.Advisory.ID, f.Platforms)
				}
				if len(f.Lines) != len(f.Platforms) || f.Lines[0] < 1 {
					t.Errorf("%s %s lines = %v", f.Gem, f.Advisory.ID, f.Lines)
				}
			}
		})
	}
}

// bundlerAuditIDs is bundler-audit 0.9.3's matching, written out
// independently: every spec (platform variants included) against every
// advisory of its gem, "platform:" ignored. It returns distinct
// "gem id" pairs.
func bundlerAuditIDs(t *testing.T, db *DB, name string) map[string]bool {
	lf, err := gemlock.ParseFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, s := range lf.Specs {
		v := gemversion.MustParse(s.Version)
		for _, a := range db.ForGem(s.Name) {
			ok := true
			for _, list := range [][]string{a.PatchedVersions, a.UnaffectedVersions} {
				for _, r := range list {
					req, err := gemversion.NewRequirement(strings.Split(r, ", ")...)
					if err != nil {
						t.Fatal(err)
					}
					if req.SatisfiedBy(v) {
						ok = false
					}
				}
			}
			if ok {
				out[s.Name+" "+a.ID] = true
			}
		}
	}
	return out
}

// TestDifferencesFromBundlerAudit cross-checks against SOURCE.md: 0.9.3
// reported 87 distinct advisories for 00457f1c and 13 more for v4.15.1.
// wootguard differs on purpose in exactly one advisory and in merging
// platform variants.
func TestDifferencesFromBundlerAudit(t *testing.T) {
	db := loadTestDB(t)
	old := bundlerAuditIDs(t, db, "00457f1c.Gemfile.lock")
	cur := bundlerAuditIDs(t, db, "v4.15.1.Gemfile.lock")
	if len(old) != 87 {
		t.Errorf("bundler-audit rule: %d advisories for 00457f1c, SOURCE.md says 87", len(old))
	}
	more := 0
	for k := range cur {
		if !old[k] {
			more++
		}
	}
	if more != 13 {
		t.Errorf("bundler-audit rule: %d more advisories for v4.15.1, SOURCE.md says 13", more)
	}
	for _, tt := range []struct {
		file string
		ba   map[string]bool
	}{{"00457f1c.Gemfile.lock", old}, {"v4.15.1.Gemfile.lock", cur}} {
		rep := auditFile(t, db, tt.file, Options{})
		ours := map[string]bool{}
		for _, f := range rep.Findings {
			ours[f.Gem+" "+f.Advisory.ID] = true
		}
		var onlyBA, onlyUs []string
		for k := range tt.ba {
			if !ours[k] {
				onlyBA = append(onlyBA, k)
			}
		}
		for k := range ours {
			if !tt.ba[k] {
				onlyUs = append(onlyUs, k)
			}
		}
		// The platform: jruby advisory does not apply: no java platform.
		if strings.Join(onlyBA, ",") != "nokogiri GHSA-8678-w3jw-xfc2" || len(onlyUs) != 0 {
			t.Errorf("%s: only bundler-audit %v, only wootguard %v", tt.file, onlyBA, onlyUs)
		}
	}
}
