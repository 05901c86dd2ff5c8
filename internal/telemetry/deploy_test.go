package telemetry_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/testsvc"
)

const deployDir = "../../deploy"

func TestAlertRulesPassPromtool(t *testing.T) {
	promtool := testsvc.Env(t, "WOOTGUARD_TEST_PROMTOOL", "promtool (Debian's prometheus package)")
	out, err := exec.Command(promtool, "check", "rules", filepath.Join(deployDir, "prometheus", "wootguard-alerts.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

var metricName = regexp.MustCompile(`\b(?:wootguard|process|go)_[a-z_]+\b`)

// Every metric the shipped dashboard and alert rules name is one the
// gateway exports (after traffic that touches every series).
func TestDeployFilesNameOnlyExistingMetrics(t *testing.T) {
	gw, m := rig(t)
	send(t, gw, "GET", "/a", "192.0.2.1", "")
	send(t, gw, "POST", "/auth/sign_in", "192.0.2.3", "")
	send(t, gw, "POST", "/auth/sign_in", "192.0.2.3", "")
	send(t, gw, "POST", "/x", "192.0.2.6", strings.Repeat("email=x&", 5))
	m.Reloaded(false)
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range fams {
		n := f.GetName()
		have[n] = true
		if f.GetType().String() == "HISTOGRAM" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				have[n+s] = true
			}
		}
	}
	named := map[string][]string{}
	files, _ := filepath.Glob(filepath.Join(deployDir, "*", "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".json") && !json.Valid(data) {
			t.Errorf("%s is not valid JSON", f)
		}
		for _, n := range metricName.FindAllString(string(data), -1) {
			named[n] = append(named[n], filepath.Base(f))
		}
	}
	if len(named) < 10 {
		t.Fatalf("only %d metric names found in %v", len(named), files)
	}
	var missing []string
	for n, where := range named {
		if !have[n] {
			missing = append(missing, n+" ("+where[0]+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("named but not exported: %v", missing)
	}
}
