package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/units"
)

// newFlagSet returns a FlagSet whose --help prints a synopsis, a
// description and the flags to env.Stdout, and whose errors go to Stderr.
func newFlagSet(env *cliEnv, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet("wootguard "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: wootguard %s %s\n\n%s\n", name, synopsis, strings.TrimSpace(description))
		if hasFlags(fs) {
			fmt.Fprint(out, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseFlags parses args, allowing flags after positional arguments
// ("audit Gemfile.lock --db DIR"), and returns the positional arguments.
// ok is false when the caller must return code at once: 0 after --help
// (printed on stdout), 2 on a usage error (printed on stderr).
func parseFlags(env *cliEnv, fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	// --help anywhere (before "--") prints to stdout and succeeds, even
	// after positional arguments, where the flag package would not see it.
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(env.Stdout)
			fs.Usage()
			return nil, 0, false
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, 2, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, 0, true
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(positional, rest...), 0, true
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// parseNoArgs is parseFlags for commands that take no positional
// arguments: a stray one is a usage error (exit 2), never silently ignored.
func parseNoArgs(env *cliEnv, fs *flag.FlagSet, args []string) (code int, ok bool) {
	pos, code, ok := parseFlags(env, fs, args)
	if ok && len(pos) > 0 {
		fmt.Fprintf(env.Stderr, "%s: unexpected argument %q\n", fs.Name(), pos[0])
		return 2, false
	}
	return code, ok
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// durationFlag is a duration flag in wootguard's one syntax
// (internal/units: 30s 5m 1h 1d 1w), the same as in the config file.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return units.FormatDuration(*f.d)
}

func (f durationFlag) Set(s string) error {
	d, err := units.ParseDuration(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// durationVar defines a duration flag read with units.ParseDuration.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var(durationFlag{p}, name, usage)
}
