package release

import (
	"fmt"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/notify"
)

// Events turns a status into the notifications `updates watch` sends:
// one "release.new" when a stable release newer than the running version
// exists (keyed by its tag, so each new release is announced once), and
// one "advisory.new" per advisory affecting the running version (keyed by
// its id). Delivery through notify.Once makes them at-most-once.
func Events(st Status, now time.Time) []notify.Event {
	var out []notify.Event
	for _, f := range st.Findings {
		sev := "warning"
		if f.Severity == "critical" || f.Severity == "high" || f.Severity == "unknown" {
			sev = "critical"
		}
		fields := map[string]string{"advisory": f.ID, "severity": f.Severity, "running": st.Running}
		if len(f.Aliases) > 0 {
			fields["aliases"] = strings.Join(f.Aliases, ", ")
		}
		if f.CVSS > 0 {
			fields["cvss"] = fmt.Sprintf("%.1f", f.CVSS)
		}
		if f.FixedIn != "" {
			fields["fixed_in"] = f.FixedIn
		}
		if f.URL != "" {
			fields["url"] = f.URL
		}
		text := f.Summary
		if text != "" {
			text += "\n"
		}
		out = append(out, notify.Event{
			Kind: "advisory.new", Key: "advisory.new:" + f.ID, Severity: sev,
			Title:  fmt.Sprintf("%s advisory %s affects your Chatwoot %s", f.Severity, f.ID, st.Running),
			Text:   text + "Recommended: " + st.Action,
			Fields: fields, Time: now,
		})
	}
	if st.Behind > 0 && st.Latest != "" {
		out = append(out, notify.Event{
			Kind: "release.new", Key: "release.new:" + st.Latest, Severity: "info",
			Title: fmt.Sprintf("Chatwoot %s is out (you run %s, %d release%s behind)", st.Latest, st.Running, st.Behind, plural(st.Behind)),
			Text:  "Recommended: " + st.Action,
			Fields: map[string]string{"latest": st.Latest, "running": st.Running,
				"releases_behind": fmt.Sprint(st.Behind), "newer_releases": strings.Join(st.Newer, ", ")},
			Time: now,
		})
	}
	return out
}
