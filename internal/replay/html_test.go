package replay

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wootguard/wootguard/internal/testsvc"
)

// htmlReport replays the known traffic through the test config and,
// compared with it, a looser one.
func htmlReport(t *testing.T) (string, *Report) {
	t.Helper()
	reqs := traffic(30)
	looser := loadConfig(t, strings.Replace(trafficConfig, "limit: 120, period: 1m", "limit: 200, period: 1m", 1))
	looser.Name = "looser.yaml"
	rep, err := Run(context.Background(), []Config{loadConfig(t, trafficConfig), looser},
		[]Source{{Name: writeLog(t, "access.log", writeCombined(reqs, false))}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String(), rep
}

// The page loads nothing: no scripts, stylesheets, images or fonts from
// anywhere, and it draws one line per refusing rule.
func TestHTMLSelfContained(t *testing.T) {
	page, rep := htmlReport(t)
	if regexp.MustCompile(`(?i)(src|href)\s*=|@import|url\(`).MatchString(page) {
		t.Fatal("the report references an external resource")
	}
	refusing := 0
	for _, c := range rep.Configs {
		for _, r := range c.Rules {
			if r.Refused > 0 {
				refusing++
				if !strings.Contains(page, `data-rule="`+r.Name+`"`) {
					t.Errorf("no chart line for %s", r.Name)
				}
			}
		}
	}
	if !strings.Contains(page, "looser.yaml compared with wootguard.yaml") {
		t.Error("no comparison section")
	}
	if n := strings.Count(page, `<polyline class="series"`); n != refusing {
		t.Errorf("%d chart lines, want %d", n, refusing)
	}
	if !strings.Contains(page, "DRY-RUN") {
		t.Error("the dry-run rule is not marked")
	}
}

// The report opens in real headless Chromium and its chart is drawn: the
// SVG and its lines exist and have a size on screen.
func TestHTMLReportInChromium(t *testing.T) {
	ctx := testsvc.Browser(t)
	page, rep := htmlReport(t)
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	step, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(step, chromedp.Navigate("file://"+path), chromedp.WaitVisible("#refusals-chart-1")); err != nil {
		t.Fatal(err)
	}
	type drawn struct {
		Charts int     `json:"charts"`
		Lines  int     `json:"lines"`
		Points int     `json:"points"`
		Width  float64 `json:"width"`
		Height float64 `json:"height"`
	}
	got, err := chromedp.Run(step, chromedp.Evaluate[drawn](`(() => {
		const svgs = [...document.querySelectorAll('svg.refusals-chart')], box = svgs[0].getBoundingClientRect();
		const lines = svgs.flatMap(svg => [...svg.querySelectorAll('polyline.series')]);
		return {charts: svgs.length, lines: lines.length, points: lines.reduce((n, l) => n + l.points.numberOfItems, 0), width: box.width, height: box.height};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	refusing := 0
	for _, c := range rep.Configs {
		for _, r := range c.Rules {
			if r.Refused > 0 {
				refusing++
			}
		}
	}
	if got.Charts != 2 || got.Lines != refusing || got.Points != refusing*rep.Buckets || got.Width < 300 || got.Height < 80 {
		t.Errorf("chart drawn as %+v; want 2 charts, %d lines of %d points, a visible size", got, refusing, rep.Buckets)
	}
	png, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(testsvc.Artifact(t, "replay-report.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
