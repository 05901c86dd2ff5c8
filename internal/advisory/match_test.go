package advisory

import (
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/gemlock"
	"github.com/wootguard/wootguard/internal/gemversion"
)

func mustAdvisory(t *testing.T, patched, unaffected []string) *Advisory {
	t.Helper()
	a := &Advisory{Feed: FeedRubySec, ID: "CVE-2099-0001", Gem: "demo", PatchedVersions: patched, UnaffectedVersions: unaffected}
	var err error
	if a.patched, err = parseRequirements(patched); err != nil {
		t.Fatal(err)
	}
	if a.unaffected, err = parseRequirements(unaffected); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestVulnerableRule(t *testing.T) {
	// ruby-advisory-db README example plus an unaffected range.
	a := mustAdvisory(t, []string{"~> 5.2.8", "~> 6.1.7, >= 6.1.7.1", ">= 7.0.4.1"}, []string{"< 4.0.0"})
	tests := []struct {
		v    string
		want bool
	}{
		{"3.2.22", false},  // unaffected
		{"4.0.0", true},    // first affected
		{"5.2.7", true},    // below the 5.2 fix
		{"5.2.8", false},   // patched
		{"5.2.8.1", false}, // ~> 5.2.8 covers later 5.2.x
		{"5.3.0", true},    // outside ~> 5.2.8
		{"6.1.7", true},    // ~> 6.1.7 alone is not enough
		{"6.1.7.1", false}, // both clauses hold
		{"6.1.8", false},
		{"6.2.0.a", true}, // prerelease of the next series: ~> compares release
		{"7.0.4", true},
		{"7.0.4.1", false},
		{"8.0.0.beta1", false},
	}
	for _, tt := range tests {
		if got := a.Vulnerable(gemversion.MustParse(tt.v)); got != tt.want {
			t.Errorf("Vulnerable(%s) = %v, want %v", tt.v, got, tt.want)
		}
	}
	// No patched_versions: every version not unaffected is vulnerable.
	none := mustAdvisory(t, nil, nil)
	if !none.Vulnerable(gemversion.MustParse("99.0")) {
		t.Error("an advisory without patched versions must match every version")
	}
}

func TestPlatformApplies(t *testing.T) {
	tests := []struct {
		adv, spec string
		javaLock  bool
		want      bool
	}{
		{"", "", false, true},
		{"", "x86_64-linux", false, true},
		{"jruby", "", false, false}, // MRI-only lockfile: the generic gem runs on MRI
		{"jruby", "", true, true},   // lockfile also resolved for java
		{"jruby", "java", false, true},
		{"jruby", "universal-java-11", false, true},
		{"jruby", "x86_64-linux-gnu", false, false},
		{"JRuby", "java", false, true},
		{"ruby", "java", false, false},
		{"ruby", "arm64-darwin", false, true},
		{"truffleruby", "", false, true}, // unknown value: applied, never missed
	}
	for _, tt := range tests {
		if got := platformApplies(tt.adv, tt.spec, tt.javaLock); got != tt.want {
			t.Errorf("platformApplies(%q, %q, java=%v) = %v, want %v", tt.adv, tt.spec, tt.javaLock, got, tt.want)
		}
	}
}

func TestJRubyAdvisoryOnJavaLockfile(t *testing.T) {
	db := loadTestDB(t)
	lock := `GEM
  remote: https://rubygems.org/
  specs:
    nokogiri (1.19.3)
    nokogiri (1.19.3-java)
    nokogiri (1.19.3-x86_64-linux-gnu)

PLATFORMS
  java
  x86_64-linux
`
	lf, err := gemlock.Parse([]byte(lock))
	if err != nil {
		t.Fatal(err)
	}
	rep := Audit(lf, db, Options{})
	var jruby *Finding
	for _, f := range rep.Findings {
		if f.Advisory.ID == "GHSA-8678-w3jw-xfc2" {
			jruby = f
		} else if strings.Join(f.Platforms, ",") != "ruby,java,x86_64-linux-gnu" {
			t.Errorf("%s platforms = %v", f.Advisory.ID, f.Platforms)
		}
	}
	if jruby == nil {
		t.Fatal("platform: jruby advisory not reported for a java lockfile")
	}
	// Not the native linux build; the generic gem may be installed on JRuby.
	if got := strings.Join(jruby.Platforms, ","); got != "ruby,java" {
		t.Errorf("jruby advisory platforms = %s, want ruby,java", got)
	}
}

func TestInsecureSources(t *testing.T) {
	lock := `GIT
  remote: git://github.com/a/a.git
  revision: 1
  specs:
    a (1.0)

GIT
  remote: http://10.0.0.5/b.git
  revision: 2
  specs:
    b (1.0)

GIT
  remote: https://github.com/c/c.git
  revision: 3
  specs:
    c (1.0)

GIT
  remote: git@github.com:d/d.git
  revision: 4
  specs:
    d (1.0)

PATH
  remote: http-not-a-url/e
  specs:
    e (1.0)

GEM
  remote: http://rubygems.org/
  remote: https://gems.example.com/
  remote: HTTP://unresolvable.invalid/
  specs:
    f (1.0)
`
	lf, err := gemlock.Parse([]byte(lock))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range insecureSources(lf) {
		got = append(got, s.Type+" "+s.Remote)
	}
	// By scheme only: private and unresolvable hosts are flagged too
	// (bundler-audit skips hosts that resolve to private IPs or not at all).
	want := "GIT git://github.com/a/a.git|GIT http://10.0.0.5/b.git|GEM http://rubygems.org/|GEM HTTP://unresolvable.invalid/"
	if strings.Join(got, "|") != want {
		t.Errorf("insecure = %s\nwant       %s", strings.Join(got, "|"), want)
	}
}

func TestFix(t *testing.T) {
	tests := []struct {
		patched []string
		version string
		want    string
	}{
		{[]string{">= 1.19.4"}, "1.19.3", "update demo to >= 1.19.4"},
		{[]string{"~> 5.2.8", "~> 6.1.7, >= 6.1.7.1", ">= 7.0.4.1"}, "6.1.5", "update demo to >= 6.1.7.1, < 6.2 (or a later patched series)"},
		{[]string{"~> 5.2.8", "~> 6.1.7, >= 6.1.7.1", ">= 7.0.4.1"}, "5.2.1", "update demo to >= 5.2.8, < 5.3 (or a later patched series)"},
		{[]string{"~> 5.2.8", "~> 6.1.7, >= 6.1.7.1", ">= 7.0.4.1"}, "7.0.0", "update demo to >= 7.0.4.1"},
		{[]string{"> 2.0.0"}, "1.0", "update demo to > 2.0.0"},
		{nil, "1.0", "remove or disable this gem until a patch is available"},
		{[]string{"~> 1.2.3"}, "2.0.0", "no patched demo release at or above 2.0.0 (patched: ~> 1.2.3): remove or disable this gem, or move to a patched line"},
	}
	for _, tt := range tests {
		a := mustAdvisory(t, tt.patched, nil)
		f := &Finding{Gem: "demo", Version: tt.version, Advisory: a}
		if got := fixFor(f, gemversion.MustParse(tt.version)); got != tt.want {
			t.Errorf("fix(%v, %s) = %q, want %q", tt.patched, tt.version, got, tt.want)
		}
	}
}

func TestCriticality(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	tests := []struct {
		v2, v3, v4 *float64
		severity   string
		want       string
	}{
		{nil, nil, nil, "", "unknown"},
		{nil, f(0), nil, "", "none"},
		{nil, f(0.1), nil, "", "low"},
		{nil, f(3.9), nil, "", "low"},
		{nil, f(4.0), nil, "", "medium"},
		{nil, f(6.9), nil, "", "medium"},
		{nil, f(7.0), nil, "", "high"},
		{nil, f(8.9), nil, "", "high"},
		{nil, f(9.0), nil, "", "critical"},
		{nil, f(10), nil, "", "critical"},
		{f(9.5), nil, nil, "", "high"}, // v2 has no critical band
		{f(3.9), nil, nil, "", "low"},
		{f(4.0), nil, nil, "", "medium"},
		{f(10), f(2.0), nil, "", "low"},     // v3 wins over v2
		{nil, f(9.8), f(5.0), "", "medium"}, // v4 wins over v3
		{nil, nil, nil, "MODERATE", "medium"},
		{nil, f(7.5), nil, "LOW", "high"},
	}
	for _, tt := range tests {
		a := &Advisory{CVSSv2: tt.v2, CVSSv3: tt.v3, CVSSv4: tt.v4, Severity: tt.severity}
		if got := a.Criticality(); got != tt.want {
			t.Errorf("criticality(v2=%v v3=%v v4=%v %q) = %s, want %s", tt.v2, tt.v3, tt.v4, tt.severity, got, tt.want)
		}
	}
}

func TestFailing(t *testing.T) {
	rep := &Report{Findings: []*Finding{{Criticality: "low"}, {Criticality: "high"}, {Criticality: "unknown"}}}
	tests := []struct {
		failOn string
		n      int
		fail   bool
	}{
		{"any", 3, true}, {"low", 2, true}, {"medium", 1, true}, {"high", 1, true}, {"critical", 0, false}, {"none", 0, false},
	}
	for _, tt := range tests {
		got, fail := rep.Failing(tt.failOn)
		if len(got) != tt.n || fail != tt.fail {
			t.Errorf("Failing(%s) = %d, %v; want %d, %v", tt.failOn, len(got), fail, tt.n, tt.fail)
		}
	}
	src := &Report{InsecureSources: []InsecureSource{{Type: "GEM", Remote: "http://x"}}}
	if _, fail := src.Failing("critical"); !fail {
		t.Error("an insecure source must fail --fail-on critical")
	}
	if _, fail := src.Failing("none"); fail {
		t.Error("--fail-on none must never fail")
	}
}
