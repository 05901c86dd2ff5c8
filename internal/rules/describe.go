package rules

import (
	"fmt"
	"strings"
)

// Row describes one rule for people (`wootguard rules`, the admin API).
type Row struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Match  string `json:"match"`
	Key    string `json:"key,omitempty"`
	Limit  string `json:"limit,omitempty"` // "5 / 5m", "maxretry 5 in 10m, ban 1h"
	Mode   string `json:"mode"`
	Source string `json:"source"`
}

// Describe lists a Spec's rules in evaluation order.
func Describe(s Spec) []Row {
	var rows []Row
	for _, r := range s.Safelists {
		rows = append(rows, listRow("safelist", r))
	}
	for _, r := range s.Blocklists {
		rows = append(rows, listRow("blocklist", r))
	}
	for _, group := range []struct {
		typ   string
		rules []BanRule
	}{{"fail2ban", s.Fail2Ban}, {"allow2ban", s.Allow2Ban}} {
		for _, r := range group.rules {
			lim := ""
			if r.MaxRetry != nil {
				lim = fmt.Sprintf("maxretry %d in %s, ban %s", *r.MaxRetry, r.FindTime, r.BanTime)
			}
			m := describeMatch(r.Match)
			if r.Failure != nil && len(r.Failure.Status) > 0 {
				m += fmt.Sprintf("; counts upstream status %v", r.Failure.Status)
			}
			m, lim = describeBanExtras(r, m, lim)
			rows = append(rows, Row{Type: group.typ, Name: r.Name, Match: m, Key: strings.Join(r.Key, " + "),
				Limit: lim, Mode: mode(r.Mode), Source: r.Source})
		}
	}
	for _, r := range s.Throttles {
		rows = append(rows, Row{Type: "throttle", Name: r.Name, Match: describeMatch(r.Match) + describeExempt(r), Key: strings.Join(r.Key, " + "),
			Limit: limitPeriod(r.Limit, r.Period), Mode: mode(r.Mode), Source: r.Source})
	}
	for _, r := range s.Tracks {
		rows = append(rows, Row{Type: "track", Name: r.Name, Match: describeMatch(r.Match), Key: strings.Join(r.Key, " + "),
			Limit: limitPeriod(r.Limit, r.Period), Mode: "report", Source: r.Source})
	}
	return rows
}

func listRow(typ string, r ListRule) Row {
	m := describeMatch(r.Match)
	if len(r.IP) > 0 {
		ip := "ip in " + strings.Join(r.IP, ",")
		if m == "any request" {
			m = ip
		} else {
			m = ip + " and " + m
		}
	}
	return Row{Type: typ, Name: r.Name, Match: m, Mode: mode(r.Mode), Source: r.Source}
}

func limitPeriod(l *int64, p Duration) string {
	if l == nil {
		return ""
	}
	return fmt.Sprintf("%d / %s", *l, p)
}

func mode(m string) string {
	if m == "" {
		return ModeEnforce
	}
	return m
}

func describeMatch(m *Match) string {
	if m == nil {
		return "any request"
	}
	var parts []string
	if len(m.Method) > 0 {
		parts = append(parts, strings.Join(m.Method, "|"))
	}
	if len(m.Path) > 0 {
		parts = append(parts, strings.Join(m.Path, "|"))
	}
	for _, p := range m.PathPrefix {
		parts = append(parts, p+"*")
	}
	if m.PathRegex != "" {
		parts = append(parts, "~"+m.PathRegex)
	}
	for _, p := range m.ParamPresent {
		parts = append(parts, "with "+p)
	}
	for _, p := range m.ParamAbsent {
		parts = append(parts, "without "+p)
	}
	for _, p := range m.StringParamPresent {
		parts = append(parts, "with string "+p)
	}
	for _, p := range m.StringParamAbsent {
		parts = append(parts, "without string "+p)
	}
	switch m.Extensions {
	case "keep":
		parts = append(parts, "(whole path)")
	case "exact":
		parts = append(parts, "(exact path, not decoded)")
	}
	for k, v := range m.Header {
		parts = append(parts, "header "+k+"="+v)
	}
	if len(m.IP) > 0 {
		parts = append(parts, "ip in "+strings.Join(m.IP, ","))
	}
	if len(m.NotIP) > 0 {
		parts = append(parts, "ip not in "+strings.Join(m.NotIP, ","))
	}
	if len(m.Any) > 0 {
		var alts []string
		for i := range m.Any {
			alts = append(alts, describeMatch(&m.Any[i]))
		}
		parts = append(parts, "("+strings.Join(alts, ") or (")+")")
	}
	if len(parts) == 0 {
		return "any request"
	}
	return strings.Join(parts, " ")
}
