package rollout

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Plan describes, as text, every step of an update of t to version and
// the exact commands it runs, including the rollback commands. current maps
// roles to their running versions where known.
func Plan(cfg Config, t *Target, version string, current map[string]string) string {
	var b strings.Builder
	dir := cfg.StateDirOrDefault()
	fmt.Fprintf(&b, "Update plan: target %q (%s) to v%s\n", t.Name, t.Kind, version)
	fmt.Fprintf(&b, "State: %s, journal: %s, lock: %s\n", filepath.Join(dir, "state.json"), filepath.Join(dir, "journal.jsonl"), filepath.Join(dir, "update.lock"))
	if t.Staging == nil {
		b.WriteString("WARNING: no staging instance is configured: production is updated directly.\n")
	}
	n := 0
	stepf := func(name, format string, args ...any) {
		n++
		fmt.Fprintf(&b, "\n%2d. %-20s %s\n", n, name, fmt.Sprintf(format, args...))
	}
	cmds := func(cs []Command) {
		if len(cs) == 0 {
			b.WriteString("      (no command)\n")
		}
		for _, c := range cs {
			b.WriteString("      $ " + c.String() + "\n")
			if c.WriteFile != "" {
				b.WriteString("        | " + strings.ReplaceAll(strings.TrimRight(c.Content, "\n"), "\n", "\n        | ") + "\n")
			}
		}
	}
	prev := func(role string) string {
		if v := current[role]; v != "" {
			return v
		}
		return "PREVIOUS"
	}
	stepf(kindPreflight, "take the update lock; for each instance:")
	for _, inst := range t.Instances() {
		o := inst.BackupOptions()
		fmt.Fprintf(&b, "      %s: free disk in %s >= %s and >= 2x its last dump; smoke tests at %s; running version (now %s)\n",
			inst.Role(), o.Dir, cfg.MinFreeDisk, inst.URL(), orWord(current[inst.Role()], "unknown"))
		if c, ok := inst.(preflightChecker); ok {
			for _, check := range c.preflightChecks() {
				b.WriteString("      " + check.What + "\n")
			}
		}
		if p, ok := inst.(preflighter); ok {
			for _, c := range p.preflightCommands(version) {
				b.WriteString("      $ " + c.String() + "\n")
			}
		}
	}
	for _, inst := range t.Instances() {
		role := inst.Role()
		o := inst.BackupOptions()
		what := "pg_dump -Fc of " + redactURL(o.DatabaseURL)
		if len(o.ToolPrefix) > 0 {
			what += " run inside: " + Command{Argv: o.ToolPrefix}.String()
		}
		if o.StorageDir != "" {
			what += ", storage " + o.StorageDir
		}
		if o.EnvFile != "" {
			what += ", env file " + o.EnvFile
		}
		stepf(role+".backup", "%s into %s", what, o.Dir)
		stepf(role+".verify", "restore the dump into a scratch database; compare row counts and table checksums (a failure stops here, nothing changed)")
		stepf(role+".deploy", "")
		cmds(inst.Deploy(version))
		stepf(role+".migrate", "")
		cmds(inst.Migrate(version))
		stepf(role+".smoke", "%s", smokeText(cfg, inst.URL(), version))
		if role == Staging {
			stepf(role+".soak", "wait %s, then run the smoke tests again", cfg.Soak)
		}
	}
	b.WriteString("\nIf a step fails (or resume finds one interrupted) after an instance's deploy began,\nthat instance is rolled back; the other one is not touched:\n")
	for _, inst := range t.Instances() {
		o := inst.BackupOptions()
		fmt.Fprintf(&b, "\n    %s rollback to v%s:\n", inst.Role(), prev(inst.Role()))
		cmds(inst.Stop())
		fmt.Fprintf(&b, "      restore the verified backup from %s: drop and recreate %s from the dump\n", o.Dir, redactURL(o.DatabaseURL))
		b.WriteString("      compare every table's checksum with the backup manifest\n")
		cmds(inst.Rollback(prev(inst.Role())))
		fmt.Fprintf(&b, "      %s\n", smokeText(cfg, inst.URL(), prev(inst.Role())))
	}
	return b.String()
}

func smokeText(cfg Config, base, version string) string {
	base = strings.TrimRight(base, "/")
	s := fmt.Sprintf("smoke tests: GET %s/health = 200; GET %s/api reports %s with data_services and queue_services ok; GET %s/app/login = 200",
		base, base, version, base)
	for _, c := range cfg.Smoke.Checks {
		s += fmt.Sprintf("; %s %s%s = %d", orWord(strings.ToUpper(c.Method), "GET"), base, c.Path, orInt(c.ExpectStatus, 200))
		if c.ExpectBody != "" {
			s += fmt.Sprintf(" containing %q", c.ExpectBody)
		}
	}
	return s
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(database URL)"
	}
	return u.Redacted()
}
