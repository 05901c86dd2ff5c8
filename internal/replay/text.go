package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes v (a Report or a TuneReport) as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

const stamp = "2006-01-02 15:04:05Z07:00"

// WriteText writes the report for a person at a terminal.
func (r *Report) WriteText(w io.Writer) error {
	p := &printer{w: w}
	p.f("Replayed %d requests from %s (%s) in %.2fs.\n", r.Requests, strings.Join(r.Files, ", "), span(r.From, r.To), r.Elapsed)
	writeBad(p, r.BadLines, r.BadExamples)
	if r.OutOfOrder > 0 {
		p.f("%d lines were more than a second older than the line before (logs out of order?): they were replayed where they stand.\n", r.OutOfOrder)
	}
	for _, c := range r.Configs {
		p.f("\n== %s ==\n", c.Config)
		p.f("%s refused (%s): %d throttled, %d blocked; %d safelisted, %d passed.\n",
			plural(c.Refused, "request"), plural(c.RefusedClients, "client"), c.Decisions["throttle"], c.Decisions["block"], c.Decisions["safelist"], c.Decisions["pass"])
		if c.StoreEvictions > 0 {
			p.f("warning: the memory store evicted %d live counters (store.max_keys): counts may be low.\n", c.StoreEvictions)
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tTYPE\tMODE\tLIMIT\tCOUNTED\tREFUSED\tBANS\tKEYS\tFIRST REFUSAL\tLAST REFUSAL\tNOT EVALUATED")
		for _, rr := range c.Rules {
			if rr.Counted == 0 && rr.Refused == 0 && rr.NotEvaluated == 0 && rr.BansStarted == 0 {
				continue
			}
			mode := rr.Mode
			if rr.DryRun {
				mode = "DRY-RUN"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%d\n", rr.Name, rr.Type, mode, dashIf(rr.Limit),
				rr.Counted, rr.Refused, rr.BansStarted, rr.KeysAffected, when(rr.FirstRefusal), when(rr.LastRefusal), rr.NotEvaluated)
		}
		tw.Flush()
		quiet := 0
		for _, rr := range c.Rules {
			if rr.Counted == 0 && rr.Refused == 0 && rr.NotEvaluated == 0 && rr.BansStarted == 0 {
				quiet++
			}
		}
		if quiet > 0 {
			word := "rules"
			if quiet == 1 {
				word = "rule"
			}
			p.f("(%d more %s saw no matching request)\n", quiet, word)
		}
		for _, rr := range c.Rules {
			if rr.Refused == 0 && rr.NotEvaluated == 0 && rr.Assumed == 0 && rr.OverLimit == 0 {
				continue
			}
			dry := ""
			if rr.DryRun {
				dry = " (dry-run: would have refused)"
			}
			p.f("\n%s %s%s\n", rr.Type, rr.Name, dry)
			if rr.Refused > 0 {
				p.f("  refused %s from %s; per %s: %s\n", plural(rr.Refused, "request"), plural(int64(rr.KeysAffected), "key"), bucketName(r.BucketSeconds), sparkline(rr.Timeline))
				for _, k := range rr.TopKeys {
					p.f("    %-40s %6d  %s → %s\n", k.Key, k.Refused, k.First.Format(stamp), k.Last.Format(stamp))
				}
			}
			for _, why := range rr.NotEvaluatedWhy {
				p.f("  not evaluated for %d requests: %s\n", why.Requests, why.Reason)
			}
			if rr.OverLimit > 0 {
				p.f("  over its limit for %s (a track: reported, never refused)\n", plural(rr.OverLimit, "request"))
			}
			for _, why := range rr.AssumedWhy {
				p.f("  evaluated on an assumption for %d requests: %s\n", why.Requests, why.Reason)
			}
		}
	}
	for _, c := range r.Compare {
		p.f("\n== %s compared with %s ==\n", c.Config, c.Baseline)
		p.f("%d requests newly refused, %d no longer refused.\n", c.NewlyRefused, c.NoLonger)
		for _, k := range c.NewlyClients {
			p.f("  newly refused  %-40s %d\n", k.Key, k.Refused)
		}
		for _, k := range c.NoLongerClient {
			p.f("  no longer      %-40s %d\n", k.Key, k.Refused)
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tTYPE\tCHANGE\tREFUSED BEFORE\tREFUSED AFTER\tKEYS BEFORE\tKEYS AFTER")
		for _, rc := range c.Rules {
			if rc.Change == "" && rc.Baseline == rc.Config {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\n", rc.Name, rc.Type, dashIf(rc.Change), rc.Baseline, rc.Config, rc.BaselineKeys, rc.ConfigKeys)
		}
		tw.Flush()
	}
	if r.Masked {
		p.f("\nKeys are masked; --unmask shows them.\n")
	}
	return p.err
}

func writeBad(p *printer, n int64, examples []BadLine) {
	if n == 0 {
		return
	}
	verb := "were"
	if n == 1 {
		verb = "was"
	}
	p.f("%s could not be read and %s skipped; the first:\n", plural(n, "line"), verb)
	for _, b := range examples {
		p.f("  %s:%d: %s: %s\n", b.File, b.Line, b.Reason, b.Text)
	}
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func dashIf(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(stamp)
}

// sparkline draws counts with block characters, squeezed to 60 columns.
func sparkline(counts []int64) string {
	if len(counts) == 0 {
		return ""
	}
	const cols = 60
	if len(counts) > cols {
		squeezed := make([]int64, cols)
		for i, c := range counts {
			squeezed[i*cols/len(counts)] += c
		}
		counts = squeezed
	}
	var top int64
	for _, c := range counts {
		top = max(top, c)
	}
	blocks := []rune(" ▁▂▃▄▅▆▇█")
	var b strings.Builder
	for _, c := range counts {
		i := 0
		if c > 0 {
			i = 1 + int(c*7/max(top, 1))
		}
		b.WriteRune(blocks[i])
	}
	return "[" + b.String() + "]"
}

func span(from, to time.Time) string {
	if from.IsZero() {
		return "no requests in the log"
	}
	return from.UTC().Format(stamp) + " → " + to.UTC().Format(stamp)
}
