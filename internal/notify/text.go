package notify

import (
	"fmt"
	"sort"
	"strings"
)

// SlackText renders e for Slack: a bold title with a severity marker,
// the text, then the fields sorted by name.
func SlackText(e Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s *%s*", severityMark(e.Severity), e.Title)
	if e.Text != "" {
		b.WriteString("\n" + e.Text)
	}
	for _, k := range sortedKeys(e.Fields) {
		fmt.Fprintf(&b, "\n• %s: %s", k, e.Fields[k])
	}
	return b.String()
}

// PlainText renders e for email: the text, the fields, the kind and time.
func PlainText(e Event) string {
	var b strings.Builder
	if e.Text != "" {
		b.WriteString(e.Text + "\n\n")
	}
	for _, k := range sortedKeys(e.Fields) {
		fmt.Fprintf(&b, "%s: %s\n", k, e.Fields[k])
	}
	fmt.Fprintf(&b, "\nevent: %s, severity: %s", e.Kind, orDash(e.Severity))
	if !e.Time.IsZero() {
		fmt.Fprintf(&b, ", time: %s", e.Time.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	b.WriteString("\n-- \nwootguard\n")
	return b.String()
}

func severityMark(s string) string {
	switch s {
	case "critical":
		return ":rotating_light: [CRITICAL]"
	case "warning":
		return ":warning: [WARNING]"
	}
	return ":information_source:"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
