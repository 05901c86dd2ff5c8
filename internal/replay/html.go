package replay

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
)

//go:embed assets/report.html
var reportHTML string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"when":  when,
	"stamp": func(t time.Time) string { return t.Format(stamp) },
}).Parse(reportHTML))

// seriesColors tell rules apart in the chart (colour-blind-friendly set).
var seriesColors = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#7f7f7f", "#000000"}

// WriteHTML writes the report as one self-contained page: an inline SVG
// chart of refusals per rule over time, and the tables.
func (r *Report) WriteHTML(w io.Writer) error {
	type configView struct {
		C     ConfigReport
		Chart template.HTML
	}
	data := struct {
		R                      *Report
		Title, Files, From, To string
		Bucket                 string
		Configs                []configView
	}{R: r, Files: strings.Join(r.Files, ", "), From: r.From.UTC().Format(stamp), To: r.To.UTC().Format(stamp),
		Bucket: bucketName(r.BucketSeconds)}
	// One colour per rule across every chart, so configs compare at a glance.
	colors := map[string]string{}
	for _, c := range r.Configs {
		for _, rr := range c.Rules {
			if _, seen := colors[rr.Name]; !seen && rr.Refused > 0 {
				colors[rr.Name] = seriesColors[len(colors)%len(seriesColors)]
			}
		}
	}
	var names []string
	for i, c := range r.Configs {
		names = append(names, c.Config)
		data.Configs = append(data.Configs, configView{C: c, Chart: r.chart(i, c, colors)})
	}
	data.Title = strings.Join(names, " vs ")
	return reportTmpl.Execute(w, data)
}

// chart draws one line per refusing rule (the seven busiest; the rest
// summed as "other rules") over the report's buckets.
func (r *Report) chart(idx int, c ConfigReport, colors map[string]string) template.HTML {
	type series struct {
		name  string
		dry   bool
		total int64
		vals  []int64
	}
	var all []series
	for _, rr := range c.Rules {
		if rr.Refused > 0 && len(rr.Timeline) > 0 {
			all = append(all, series{name: rr.Name, dry: rr.DryRun, total: rr.Refused, vals: rr.Timeline})
		}
	}
	if len(all) == 0 {
		return template.HTML(`<p class="meta" id="no-refusals">No rule refused a request in this log.</p>`)
	}
	// busiest first
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && all[j].total > all[j-1].total; j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	if len(all) > 8 {
		other := series{name: fmt.Sprintf("%d other rules", len(all)-7), vals: make([]int64, r.Buckets)}
		for _, s := range all[7:] {
			other.total += s.total
			for i, v := range s.vals {
				other.vals[i] += v
			}
		}
		all = append(all[:7], other)
	}
	const W, H, left, right, top, bottom = 960.0, 280.0, 48.0, 12.0, 12.0, 36.0
	var peak int64 = 1
	for _, s := range all {
		for _, v := range s.vals {
			peak = max(peak, v)
		}
	}
	n := max(r.Buckets, 1)
	x := func(i int) float64 {
		if n == 1 {
			return left + (W-left-right)/2
		}
		return left + float64(i)*(W-left-right)/float64(n-1)
	}
	y := func(v int64) float64 { return top + (H-top-bottom)*(1-float64(v)/float64(peak)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="refusals-chart-%d" class="refusals-chart" role="img" aria-label="refusals per rule over time" viewBox="0 0 %.0f %.0f" width="100%%">`, idx, W, H)
	// axes and grid
	for _, frac := range []float64{0, 0.5, 1} {
		v := int64(frac * float64(peak))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eceff4"/>`, left, y(v), W-right, y(v))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%d</text>`, left-6, y(v)+4, v)
	}
	ticks := min(n, 6)
	for k := 0; k < ticks; k++ {
		i := 0
		if ticks > 1 {
			i = k * (n - 1) / (ticks - 1)
		}
		t := r.TimelineStart.Add(time.Duration(int64(i)*r.BucketSeconds) * time.Second)
		anchor := "middle"
		if ticks > 1 && k == 0 {
			anchor = "start"
		} else if ticks > 1 && k == ticks-1 {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, x(i), H-bottom+16, anchor, t.UTC().Format("01-02 15:04"))
	}
	colorOf := func(name string) string {
		if c, ok := colors[name]; ok {
			return c
		}
		return "#7f7f7f" // "other rules"
	}
	for _, s := range all {
		color := colorOf(s.name)
		dash := ""
		if s.dry {
			dash = ` stroke-dasharray="5 3"`
		}
		var pts []string
		for i, v := range s.vals {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		fmt.Fprintf(&b, `<polyline class="series" data-rule="%s" fill="none" stroke="%s" stroke-width="2"%s points="%s"><title>%s: %d refused</title></polyline>`,
			template.HTMLEscapeString(s.name), color, dash, strings.Join(pts, " "), template.HTMLEscapeString(s.name), s.total)
		if n == 1 {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"/>`, x(0), y(s.vals[0]), color)
		}
	}
	b.WriteString(`</svg><p class="legend">`)
	for _, s := range all {
		label := s.name
		if s.dry {
			label += " (dry-run)"
		}
		fmt.Fprintf(&b, `<span style="margin-right:14px"><span class="chip" style="background:%s"></span>%s: %d</span>`,
			colorOf(s.name), template.HTMLEscapeString(label), s.total)
	}
	b.WriteString(`</p>`)
	return template.HTML(b.String())
}

func bucketName(seconds int64) string {
	return rules.Duration(time.Duration(seconds) * time.Second).String()
}
