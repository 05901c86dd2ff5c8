package advisory

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/gemlock"
)

// reportWithEverything audits a lockfile that has a vulnerable gem with
// platform variants, an insecure source and an ignored advisory.
func reportWithEverything(t *testing.T) *Report {
	t.Helper()
	lf, err := gemlock.Parse([]byte(`GIT
  remote: git://github.com/example/x.git
  revision: abc
  specs:
    x (1.0)

GEM
  remote: https://rubygems.org/
  specs:
    active-support (5.2.0)
    nokogiri (1.19.3)
    nokogiri (1.19.3-x86_64-linux-gnu)
    rack (3.1.0)
`))
	if err != nil {
		t.Fatal(err)
	}
	lf.Path = "Gemfile.lock"
	var l IgnoreList
	l.Add("--ignore", "GHSA-5prr-v3j2-97mh")
	return Audit(lf, loadTestDB(t), Options{Ignore: &l, Today: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)})
}

func TestWriteJSONShape(t *testing.T) {
	rep := reportWithEverything(t)
	var buf bytes.Buffer
	now := time.Date(2026, 11, 22, 22, 18, 41, 0, time.UTC)
	if err := WriteJSON(&buf, rep, "1.2.3", now); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	if doc["version"] != "1.2.3" || doc["created_at"] != "2026-11-22 22:18:41 +0000" {
		t.Errorf("version/created_at = %v %v", doc["version"], doc["created_at"])
	}
	results := doc["results"].([]any)
	types := map[string]int{}
	advisoryKeys := []string{"path", "id", "url", "title", "date", "description", "cvss_v2", "cvss_v3", "cvss_v4",
		"cve", "osvdb", "ghsa", "unaffected_versions", "patched_versions", "criticality"}
	for _, r := range results {
		m := r.(map[string]any)
		types[m["type"].(string)]++
		switch m["type"] {
		case "unpatched_gem":
			gem := m["gem"].(map[string]any)
			if _, ok := gem["name"].(string); !ok || gem["version"] == nil || len(gem) != 2 {
				t.Errorf("gem = %v", gem)
			}
			adv := m["advisory"].(map[string]any)
			for _, k := range advisoryKeys {
				if _, ok := adv[k]; !ok {
					t.Errorf("advisory lacks %q", k)
				}
			}
			if len(adv) != len(advisoryKeys) {
				t.Errorf("advisory has %d keys, bundler-audit has %d", len(adv), len(advisoryKeys))
			}
			if _, ok := adv["patched_versions"].([]any); !ok {
				t.Errorf("patched_versions = %#v, want a list", adv["patched_versions"])
			}
			if adv["id"] == "CVE-2018-3779" && (adv["criticality"] != nil || adv["cvss_v3"] != nil || len(adv["patched_versions"].([]any)) != 0) {
				t.Errorf("active-support advisory = %v", adv)
			}
			if d, _ := adv["date"].(string); len(d) != 10 {
				t.Errorf("date %q is not YYYY-MM-DD", d)
			}
		case "insecure_source":
			if m["source"] != "git://github.com/example/x.git" {
				t.Errorf("insecure source = %v", m)
			}
		default:
			t.Errorf("unknown result type %v", m["type"])
		}
	}
	if types["insecure_source"] != 1 || types["unpatched_gem"] != len(rep.Findings) || len(rep.Findings) == 0 {
		t.Errorf("result types = %v (findings %d)", types, len(rep.Findings))
	}
	ext := doc["wootguard"].(map[string]any)
	ignored := ext["ignored"].([]any)
	if len(ignored) != 1 || ignored[0].(map[string]any)["id"] != "GHSA-5prr-v3j2-97mh" {
		t.Errorf("wootguard.ignored = %v", ignored)
	}
	for _, f := range ext["findings"].([]any) {
		m := f.(map[string]any)
		if m["gem"] == "nokogiri" && len(m["platforms"].([]any)) != 2 {
			t.Errorf("nokogiri platforms = %v", m["platforms"])
		}
	}
}

func TestWriteSARIF(t *testing.T) {
	rep := reportWithEverything(t)
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, rep, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name    string `json:"name"`
					Version string `json:"version"`
					Rules   []struct {
						ID               string            `json:"id"`
						ShortDescription map[string]string `json:"shortDescription"`
						Properties       map[string]any    `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string            `json:"ruleId"`
				RuleIndex int               `json:"ruleIndex"`
				Level     string            `json:"level"`
				Message   map[string]string `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
						Region           struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif") || len(log.Runs) != 1 {
		t.Fatalf("header: %s %s runs=%d", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name == "" || run.Tool.Driver.Version != "1.2.3" {
		t.Errorf("driver = %+v", run.Tool.Driver)
	}
	if len(run.Results) != len(rep.Findings)+1 {
		t.Errorf("%d results, want %d findings + 1 insecure source", len(run.Results), len(rep.Findings))
	}
	levels := map[string]string{"critical": "error", "high": "error", "medium": "warning", "unknown": "warning", "low": "note", "none": "note"}
	for i, r := range run.Results {
		rule := run.Tool.Driver.Rules[r.RuleIndex]
		if rule.ID != r.RuleID || rule.ShortDescription["text"] == "" || r.Message["text"] == "" || len(r.Locations) != 1 {
			t.Errorf("result %d = %+v (rule %+v)", i, r, rule)
		}
		loc := r.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != "Gemfile.lock" || loc.Region.StartLine < 1 {
			t.Errorf("location = %+v", loc)
		}
		if i < len(rep.Findings) {
			f := rep.Findings[i]
			if r.Level != levels[f.Criticality] {
				t.Errorf("%s: level %s for %s", r.RuleID, r.Level, f.Criticality)
			}
			if loc.Region.StartLine != f.Lines[0] {
				t.Errorf("%s: line %d, spec is on %d", r.RuleID, loc.Region.StartLine, f.Lines[0])
			}
		}
		if r.RuleID == "GHSA-5v8h-3h3q-446p" && loc.Region.StartLine != 11 {
			t.Errorf("nokogiri result on line %d, want 11", loc.Region.StartLine)
		}
	}
}

func TestWriteText(t *testing.T) {
	rep := reportWithEverything(t)
	var buf bytes.Buffer
	if err := WriteText(&buf, rep); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Name:        nokogiri\nVersion:     1.19.3\nPlatforms:   ruby, x86_64-linux-gnu\n",
		"Advisory:    GHSA-5v8h-3h3q-446p",
		"Solution:    update nokogiri to >= 1.19.4\n",
		"Solution:    remove or disable this gem until a patch is available\n",
		"Advisory:    CVE-2018-3779, GHSA-2j55-pcw5-x4h2\nCriticality: Unknown\n",
		"Insecure Source URI found: git://github.com/example/x.git (GIT section, line 1)",
		"Ignored: nokogiri 1.19.3 GHSA-5prr-v3j2-97mh (no reason given; --ignore)",
		"Vulnerabilities found!",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q\n%s", want, out)
		}
	}
	buf.Reset()
	WriteText(&buf, &Report{Specs: 3, Advisories: 144})
	if !strings.Contains(buf.String(), "No vulnerabilities found (3 gems checked against 144 advisories)") {
		t.Errorf("clean output = %q", buf.String())
	}
}
