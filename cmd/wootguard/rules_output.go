package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wootguard/wootguard/internal/rules"
)

// ruleJSON is one rule of `rules --format json`: the text columns plus
// the numbers, so that scripts need not parse "5 / 5m".
type ruleJSON struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Match  string `json:"match"`
	Key    string `json:"key,omitempty"`
	Limit  *int64 `json:"limit"`          // throttles, tracks: the limit; bans: maxretry; null for lists
	Period *int64 `json:"period_seconds"` // throttles, tracks: the period; bans: findtime
	// BanTime is how long a ban lasts (fail2ban, allow2ban only).
	BanTime *int64 `json:"bantime_seconds,omitempty"`
	Summary string `json:"summary,omitempty"` // the LIMIT column: "5 / 5m", "maxretry 5 in 10m, ban 1h"
	Mode    string `json:"mode"`
	Source  string `json:"source"`
}

// rulesJSON lists spec's rules in Describe's order with their numbers.
func rulesJSON(s rules.Spec) []ruleJSON {
	rows := rules.Describe(s)
	type nums struct{ limit, period, ban *int64 }
	var ns []nums
	secs := func(d rules.Duration) *int64 { v := int64(time.Duration(d) / time.Second); return &v }
	for range len(s.Safelists) + len(s.Blocklists) {
		ns = append(ns, nums{})
	}
	for _, group := range [][]rules.BanRule{s.Fail2Ban, s.Allow2Ban} {
		for _, r := range group {
			ns = append(ns, nums{r.MaxRetry, secs(r.FindTime), secs(r.BanTime)})
		}
	}
	for _, r := range s.Throttles {
		ns = append(ns, nums{r.Limit, secs(r.Period), nil})
	}
	for _, r := range s.Tracks {
		n := nums{limit: r.Limit}
		if r.Limit != nil {
			n.period = secs(r.Period)
		}
		ns = append(ns, n)
	}
	out := make([]ruleJSON, len(rows))
	for i, r := range rows {
		out[i] = ruleJSON{Type: r.Type, Name: r.Name, Match: r.Match, Key: r.Key, Summary: r.Limit, Mode: r.Mode, Source: r.Source}
		if i < len(ns) {
			out[i].Limit, out[i].Period, out[i].BanTime = ns[i].limit, ns[i].period, ns[i].ban
		}
	}
	return out
}

// isTerminal reports whether w is a terminal: a character device other
// than /dev/null (cron and "</dev/null" or ">/dev/null" are not
// interactive). Tests replace it.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err == nil && !os.SameFile(st, null)
}

// terminalWidth is $COLUMNS, else the terminal's own width, else 100.
func terminalWidth(w io.Writer, getenv func(string) string) int {
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n >= 40 {
		return n
	}
	if f, ok := w.(*os.File); ok {
		if n := ttyColumns(f); n >= 40 {
			return n
		}
	}
	return 100
}

// pipedPad is the widest cell a column is aligned to when nothing is cut:
// a longer cell (a preset rule's MATCH is 200 characters) is followed by
// the two-space gap only, instead of every row being padded to it.
const pipedPad = 40

// writeTable prints rows as aligned columns. With width > 0 the long
// columns are cut (with "…") until every line fits; with 0 nothing is cut,
// so each rule stays on one complete line (for grep and pipes), and
// columns are aligned only up to pipedPad. shrink lists (column, minimum
// width) in the order the columns give way. Column 1, the rule name, is
// cut in the middle; the others at the end.
func writeTable(w io.Writer, header []string, rows [][]string, width int, shrink [][2]int) {
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			if n := utf8.RuneCountInString(c); width > 0 || n <= pipedPad {
				widths[i] = max(widths[i], n)
			}
		}
	}
	total := func() int {
		t := 2 * (len(widths) - 1)
		for _, x := range widths {
			t += x
		}
		return t
	}
	// Shrink stage by stage: each (column, minimum) gives way before the next.
	for _, st := range shrink {
		for width > 0 && total() > width && widths[st[0]] > st[1] {
			widths[st[0]]--
		}
	}
	for _, r := range append([][]string{header}, rows...) {
		var b strings.Builder
		for i, c := range r {
			switch {
			case width == 0: // nothing is cut
			case i == 1:
				c = cutMiddle(c, widths[i]) // names differ at their ends
			default:
				c = cut(c, widths[i])
			}
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", max(widths[i]-utf8.RuneCountInString(c), 0)+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// cutMiddle shortens s to n runes by replacing its middle with "…": rule
// names such as /api/v1/accounts/:account_id/conversations/meta/user share
// their start, so the end is what tells them apart.
func cutMiddle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	head := (n - 1) / 2
	return string(r[:head]) + "…" + string(r[len(r)-(n-1-head):])
}
