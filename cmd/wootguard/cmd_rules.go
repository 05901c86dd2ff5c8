package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wootguard/wootguard/internal/rules"
)

func init() {
	register(&command{Name: "rules", Summary: "print the effective rule table (preset + config)", Run: runRules})
}

func runRules(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "rules", "[--config FILE] [--format text|json]", `
Print every rule the gateway would enforce, in evaluation order: the
Chatwoot preset as your environment variables (ENABLE_RACK_ATTACK,
RACK_ATTACK_LIMIT, RATE_LIMIT_*, ...) tune it, with your config file's
rules merged in (a rule with a preset rule's name replaces it). Columns:
type, name, what it matches, the key it counts by, limit/period, mode and
where it comes from. On a terminal the table fits its width ($COLUMNS,
else the terminal's, else 100; long cells end in "…"); piped, each rule is one complete
line. JSON gives limit and period_seconds as numbers.`)
	cfgPath := fs.String("config", "", "config file")
	format := fs.String("format", "text", "text or json")
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	cfg, err := loadGatewayConfig(env, *cfgPath, "", "")
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return 1
	}
	rows := rules.Describe(cfg.Spec)
	switch *format {
	case "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rulesJSON(cfg.Spec))
	case "text":
		var table [][]string
		for _, r := range rows {
			table = append(table, []string{r.Type, r.Name, r.Match, r.Key, r.Limit, r.Mode, r.Source})
		}
		width := 0 // piped: one complete line per rule
		if isTerminal(env.Stdout) {
			width = terminalWidth(env.Stdout, env.Getenv)
		}
		// SOURCE gives way first, then LIMIT (a ban's summary is long),
		// MATCH and KEY; NAME, which says which rule a row is, goes last.
		writeTable(env.Stdout, []string{"TYPE", "NAME", "MATCH", "KEY", "LIMIT", "MODE", "SOURCE"}, table, width,
			[][2]int{{6, 8}, {4, 16}, {2, 16}, {3, 12}, {4, 10}, {2, 8}, {3, 8}, {1, 20}, {1, 8}})
		for _, w := range cfg.Warnings {
			fmt.Fprintf(env.Stderr, "warning: %s\n", w)
		}
		if cfg.Profile != "" && !cfg.ProfileEnforce {
			fmt.Fprintf(env.Stderr, "note: profile %s runs in dry-run: its rules log what they would do and block nothing; "+
				"set profile: {name: %s, enforce: true} once the logs look right\n", cfg.Profile, cfg.Profile)
		}
	default:
		fmt.Fprintf(env.Stderr, "wootguard rules: unknown format %q\n", *format)
		return 2
	}
	return 0
}
