package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wootguard/wootguard/internal/probe"
)

func init() {
	register(&command{
		Name:    "version-probe",
		Summary: "show which Chatwoot version runs (over HTTP or from its directory)",
		Run:     runVersionProbe,
	})
}

func runVersionProbe(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "version-probe", "--chatwoot URL | --dir DIR [--format text|json]", `
Find out which Chatwoot version is running.

With --chatwoot, asks the instance: GET /api (which also reports whether
PostgreSQL and Redis are reachable), and if that does not answer with
Chatwoot's JSON, reads APP_VERSION from the login page (/app/login).
With --dir, reads the installation directory instead: VERSION_CW, else
config/app.yml, plus .git_sha when present (Linux VM: /home/chatwoot/chatwoot;
Docker: copy /app out or run wootguard inside the container).

Example:
  wootguard version-probe --chatwoot http://127.0.0.1:3000
  wootguard version-probe --dir /home/chatwoot/chatwoot --format json

Exit codes: 0 version found, 1 could not find it, 2 usage error.`)
	chatwoot := fs.String("chatwoot", "", "Chatwoot base `URL`, e.g. http://127.0.0.1:3000")
	dir := fs.String("dir", "", "Chatwoot installation `directory`")
	format := fs.String("format", "text", "output format: text or json")
	timeout := new(time.Duration)
	durationVar(fs, timeout, "timeout", probe.DefaultTimeout, "give up after this long (HTTP only)")
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	switch {
	case (*chatwoot == "") == (*dir == ""):
		fmt.Fprintln(env.Stderr, "wootguard version-probe: give exactly one of --chatwoot URL or --dir DIR")
		return 2
	case *format != "text" && *format != "json":
		fmt.Fprintf(env.Stderr, "wootguard version-probe: --format must be text or json, not %q\n", *format)
		return 2
	case *timeout <= 0:
		fmt.Fprintln(env.Stderr, "wootguard version-probe: --timeout must be positive")
		return 2
	}
	var res *probe.Result
	var err error
	if *dir != "" {
		res, err = probe.FromDir(*dir)
	} else {
		pctx, cancel := context.WithTimeout(ctx, *timeout)
		res, err = probe.Probe(pctx, *chatwoot)
		cancel()
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard version-probe: %v\n", err)
		return 1
	}
	if *format == "json" {
		out, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(env.Stdout, string(out))
		return 0
	}
	fmt.Fprintf(env.Stdout, "version: %s\nsource:  %s\n", res.Version, res.Source)
	for _, kv := range [][2]string{{"queue_services", res.QueueServices}, {"data_services", res.DataServices}, {"git_sha", res.GitSHA}} {
		if kv[1] != "" {
			fmt.Fprintf(env.Stdout, "%s: %s\n", kv[0], kv[1])
		}
	}
	return 0
}

// probeRunning is shared with `updates status`.
func probeRunning(ctx context.Context, url string, timeout time.Duration) (*probe.Result, error) {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return probe.Probe(pctx, url)
}
