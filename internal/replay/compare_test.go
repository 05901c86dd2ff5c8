package replay

import (
	"context"
	"strings"
	"testing"
)

// --compare: a looser login/ip and req/ip refuse fewer requests; the
// difference, request by request and per rule, is what the model says.
func TestCompareTwoConfigs(t *testing.T) {
	reqs := traffic(30)
	baseStats, baseRefused := simulate(reqs, 5, 120)
	otherStats, otherRefused := simulate(reqs, 50, 200)
	var newly, gone int64
	for i := range reqs {
		switch {
		case otherRefused[i] && !baseRefused[i]:
			newly++
		case baseRefused[i] && !otherRefused[i]:
			gone++
		}
	}
	if gone == 0 {
		t.Fatal("scenario: the looser config should refuse less")
	}
	looser := strings.Replace(strings.Replace(trafficConfig, "limit: 5, period: 5m", "limit: 50, period: 5m", 1),
		"limit: 120, period: 1m", "limit: 200, period: 1m", 1)
	base, other := loadConfig(t, trafficConfig), loadConfig(t, looser)
	other.Name = "looser.yaml"
	rep, err := Run(context.Background(), []Config{base, other}, []Source{{Name: writeLog(t, "access.log", writeCombined(reqs, false))}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Compare) != 1 {
		t.Fatalf("%d comparisons, want 1", len(rep.Compare))
	}
	c := rep.Compare[0]
	if c.NewlyRefused != newly || c.NoLonger != gone {
		t.Errorf("newly refused %d, no longer %d; want %d, %d", c.NewlyRefused, c.NoLonger, newly, gone)
	}
	for _, rc := range c.Rules {
		b, o := baseStats[rc.Name], otherStats[rc.Name]
		var wb, wo int64
		if b != nil {
			wb = b.refused
		}
		if o != nil {
			wo = o.refused
		}
		if rc.Baseline != wb || rc.Config != wo {
			t.Errorf("%s: refused %d → %d, want %d → %d", rc.Name, rc.Baseline, rc.Config, wb, wo)
		}
		wantChange := ""
		if rc.Name == "login/ip" || rc.Name == "req/ip" {
			wantChange = "changed"
		}
		if rc.Change != wantChange {
			t.Errorf("%s: change %q, want %q", rc.Name, rc.Change, wantChange)
		}
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "looser.yaml compared with wootguard.yaml") {
		t.Errorf("text report has no comparison:\n%s", text.String())
	}
}
