package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/replay"
)

func init() {
	register(&command{Name: "replay", Summary: "run access logs through a config: who would have been refused", Run: runReplay})
	register(&command{Name: "tune", Summary: "propose throttle limits from the traffic in access logs", Run: runTune})
}

// logFlags are the flags replay and tune share.
type logFlags struct {
	config, format, fields string
	quiet, strict, unmask  bool
	top                    int
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.config, "config", "", "config file (YAML), loaded as serve loads it; without it, defaults and the chatwoot preset")
	fs.StringVar(&l.format, "log-format", replay.FormatAuto, "auto, combined (nginx combined and variants, wootguard combined) or json (JSON lines)")
	fs.StringVar(&l.fields, "json-fields", "", "JSON field names over the defaults, e.g. time=@timestamp,peer=remote_addr,uri=request_uri")
	fs.BoolVar(&l.quiet, "quiet", false, "no progress bar")
	fs.BoolVar(&l.strict, "strict", false, "stop at the first line that cannot be read")
	fs.BoolVar(&l.unmask, "unmask", false, "show keys (emails, tokens) as they are instead of masked")
	fs.IntVar(&l.top, "top", 10, "keys shown per rule")
}

func (l *logFlags) options(env *cliEnv) (replay.Options, error) {
	switch l.format {
	case replay.FormatAuto, replay.FormatCombined, replay.FormatJSON:
	default:
		return replay.Options{}, fmt.Errorf("unknown --log-format %q: want auto, combined or json", l.format)
	}
	fields, err := replay.ParseFields(l.fields)
	if err != nil {
		return replay.Options{}, err
	}
	o := replay.Options{Read: replay.ReadOptions{Format: l.format, Fields: fields, Strict: l.strict}, Top: l.top, Unmask: l.unmask}
	if !l.quiet && isTerminal(env.Stderr) {
		o.Progress = env.Stderr
	}
	return o, nil
}

func loadReplayConfig(env *cliEnv, path string) (replay.Config, error) {
	cfg, err := config.Load(path, env.Getenv)
	if err != nil {
		return replay.Config{}, err
	}
	name := path
	if name == "" {
		name = "defaults (chatwoot preset)"
	}
	return replay.Config{Name: name, Gateway: cfg}, nil
}

func sources(logs []string) []replay.Source {
	var out []replay.Source
	for _, l := range logs {
		out = append(out, replay.Source{Name: l, Reader: os.Stdin})
	}
	return out
}

func runReplay(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "replay", "--config wootguard.yaml [flags] LOG...", `
Run access logs through the real rule engine, with the log's own
timestamps as the clock, and report per rule: requests counted, refused
(throttled, blocked, banned), keys affected, the top keys, first and last
refusal, and refusals over time. Dry-run rules are reported as if
enforced, marked DRY-RUN. Nothing is sent anywhere.

LOG is nginx combined (also with $request_time or $http_x_forwarded_for
appended), wootguard's own access log (combined or json), or JSON lines;
plain or gzipped; "-" reads stdin. Where the log lacks what a rule reads
(a login email in the request body), the report says how many requests
that rule could not evaluate, and why.

Exit status: 0 when the replay ran, whatever it found; 1 on errors; 3
when --fail-on-refused is exceeded.

Examples:
  wootguard replay --config wootguard.yaml /var/log/nginx/access.log*
  wootguard replay --config old.yaml --compare new.yaml --html report.html access.log.gz`)
	var lf logFlags
	lf.register(fs)
	compare := fs.String("compare", "", "a second config: show what changes between the two")
	format := fs.String("format", "text", "text or json")
	htmlOut := fs.String("html", "", "also write a self-contained HTML report (chart and tables) to this file")
	bucket := fs.String("bucket", "", "timeline bucket (e.g. 1m, 1h); default: fits the log's span")
	failOn := fs.Int64("fail-on-refused", -1, "exit 3 when the (first) config refuses more requests than this")
	logs, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(logs) == 0 {
		fmt.Fprintln(env.Stderr, "wootguard replay: name at least one log file (or - for stdin)")
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(env.Stderr, "wootguard replay: unknown --format %q: want text or json\n", *format)
		return 2
	}
	o, err := lf.options(env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "wootguard replay:", err)
		return 2
	}
	if *bucket != "" {
		d, err := time.ParseDuration(*bucket)
		if err != nil || d < time.Second {
			fmt.Fprintf(env.Stderr, "wootguard replay: bad --bucket %q: want e.g. 1m or 1h\n", *bucket)
			return 2
		}
		o.Bucket = d
	}
	cfgs := []string{lf.config}
	if *compare != "" {
		cfgs = append(cfgs, *compare)
	}
	var configs []replay.Config
	for _, p := range cfgs {
		c, err := loadReplayConfig(env, p)
		if err != nil {
			fmt.Fprintln(env.Stderr, err)
			return 1
		}
		configs = append(configs, c)
	}
	rep, err := replay.Run(ctx, configs, sources(logs), o)
	if err != nil {
		fmt.Fprintln(env.Stderr, "wootguard replay:", err)
		return 1
	}
	if *htmlOut != "" {
		if err := writeFileWith(*htmlOut, rep.WriteHTML); err != nil {
			fmt.Fprintln(env.Stderr, "wootguard replay:", err)
			return 1
		}
	}
	if *format == "json" {
		err = replay.WriteJSON(env.Stdout, rep)
	} else {
		err = rep.WriteText(env.Stdout)
		if err == nil && *htmlOut != "" {
			fmt.Fprintf(env.Stdout, "HTML report: %s\n", *htmlOut)
		}
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "wootguard replay:", err)
		return 1
	}
	if *failOn >= 0 && rep.Configs[0].Refused > *failOn {
		fmt.Fprintf(env.Stderr, "wootguard replay: %d requests refused, more than --fail-on-refused %d\n", rep.Configs[0].Refused, *failOn)
		return 3
	}
	return 0
}

func runTune(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "tune", "--config wootguard.yaml [flags] LOG...", `
Propose a limit for every throttle from the per-key request counts in
access logs (same log formats as replay).

For each throttle, every key's count in every window of the rule's period
is measured (all throttles counted, none enforced). Keys whose busiest
window is more than --abuse-factor times the median key's busiest window,
and over the current limit, are excluded as obviously abusive. The
proposal is the --percentile of the remaining per-key window counts, times
--headroom, rounded up; for Chatwoot's login and password-reset rules never
below Chatwoot's default unless --below-default.

The output is a YAML fragment for wootguard.yaml and a diff against the
effective rules; each value says how many requests and keys it would have
refused in these logs. Exit status: 0 when the run worked, 1 on errors,
2 on usage errors.

Example:
  wootguard tune --config wootguard.yaml /var/log/nginx/access.log.*.gz`)
	var lf logFlags
	lf.register(fs)
	headroom := fs.Float64("headroom", 2, "factor over the observed percentile")
	pct := fs.Float64("percentile", 99.9, "percentile of per-key counts per window")
	abuse := fs.Float64("abuse-factor", 10, "exclude keys busier than this × the median key")
	below := fs.Bool("below-default", false, "allow proposals below Chatwoot's defaults for login and password-reset rules")
	format := fs.String("format", "text", "text (YAML + diff) or json")
	var only stringList
	fs.Var(&only, "rule", "only this throttle (repeatable)")
	logs, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(logs) == 0 {
		fmt.Fprintln(env.Stderr, "wootguard tune: name at least one log file (or - for stdin)")
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(env.Stderr, "wootguard tune: unknown --format %q: want text or json\n", *format)
		return 2
	}
	o, err := lf.options(env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "wootguard tune:", err)
		return 2
	}
	topts := replay.TuneOptions{Options: o, Headroom: *headroom,
		Percentile: *pct, AbuseFactor: *abuse, BelowDefault: *below, Rules: only}
	// An explicit 0 is a usage error here; only the library reads 0 as "default".
	if *headroom == 0 || *pct == 0 || *abuse == 0 {
		fmt.Fprintln(env.Stderr, "wootguard tune: --headroom, --percentile and --abuse-factor must not be 0")
		return 2
	}
	if err := topts.Check(); err != nil {
		fmt.Fprintln(env.Stderr, "wootguard tune:", err)
		return 2
	}
	cfg, err := loadReplayConfig(env, lf.config)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return 1
	}
	if err := replay.CheckTuneRules(cfg, only); err != nil {
		fmt.Fprintln(env.Stderr, "wootguard tune:", err)
		return 2
	}
	tr, err := replay.Tune(ctx, cfg, sources(logs), topts)
	if err != nil {
		fmt.Fprintln(env.Stderr, "wootguard tune:", err)
		return 1
	}
	if *format == "json" {
		err = replay.WriteJSON(env.Stdout, tr)
	} else {
		err = tr.WriteText(env.Stdout)
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "wootguard tune:", err)
		return 1
	}
	return 0
}
