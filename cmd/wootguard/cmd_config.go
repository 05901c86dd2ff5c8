package main

import (
	"context"
	"fmt"

	"github.com/wootguard/wootguard/internal/config"
)

func init() {
	register(&command{Name: "check-config", Summary: "check a config file and report every problem as file:line", Run: runCheckConfig})
}

func runCheckConfig(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "check-config", "[--config] FILE", `
Read a wootguard config file the way 'serve' does and report every
problem as "file:line: reason", all of them in one pass: unknown keys,
wrong types, bad sizes and durations, bad CIDRs and regular expressions,
rules without a key or on an unknown HTTP method, and every value of the
updates: and audit: sections that a later command would refuse (target
kinds, database URLs, feed URLs, notification channels, schedule...).
Exit status 0 when the file is good, 1 when it is not, 2 on a usage
error. Use it before 'kill -HUP', a restart or an update.`)
	cfgPath := fs.String("config", "", "config file (may also be given as the argument)")
	pos, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	path := *cfgPath
	if path == "" && len(pos) == 1 {
		path = pos[0]
	}
	if path == "" || len(pos) > 1 {
		fmt.Fprintln(env.Stderr, "wootguard check-config: give one config file")
		return 2
	}
	cfg, err := config.CheckFile(path, env.lookup())
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		if es, ok := err.(config.Errors); ok && len(es) > 1 {
			fmt.Fprintf(env.Stderr, "%s: %d problems\n", path, len(es))
		}
		return 1
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(env.Stderr, "%s: warning: %s\n", path, w)
	}
	fmt.Fprintf(env.Stdout, "%s: ok (%d safelists, %d blocklists, %d throttles, %d fail2ban, %d allow2ban, %d tracks)\n", path,
		len(cfg.Spec.Safelists), len(cfg.Spec.Blocklists), len(cfg.Spec.Throttles), len(cfg.Spec.Fail2Ban), len(cfg.Spec.Allow2Ban), len(cfg.Spec.Tracks))
	return 0
}
