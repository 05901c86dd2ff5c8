// Command wootguard hardens a self-hosted Chatwoot: a rate-limiting gateway
// in front of it, and an update guardian beside it.
//
// This package is only the command line: each subcommand parses its flags
// and calls into internal/... packages. Subcommands live in their own files
// and add themselves with register, so that the dispatcher stays small.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/wootguard/wootguard/internal/editdist"
)

// command is one subcommand. Name may hold two words ("backup create"):
// the dispatcher tries the two-word form first.
type command struct {
	Name    string
	Summary string // one line for the command list
	// Run receives the arguments after the command name. It returns the
	// process exit code; 2 means a usage error.
	Run func(ctx context.Context, env *cliEnv, args []string) int
}

// cliEnv is what a subcommand may touch of the outside world; tests pass
// buffers instead of the process streams.
type cliEnv struct {
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// LookupEnv tells an empty variable from an unset one (nil: Getenv,
	// empty meaning unset).
	LookupEnv func(string) (string, bool)
}

// lookup is LookupEnv, or Getenv with "" as unset.
func (e *cliEnv) lookup() func(string) (string, bool) {
	if e.LookupEnv != nil {
		return e.LookupEnv
	}
	return func(k string) (string, bool) {
		v := e.Getenv(k)
		return v, v != ""
	}
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.Name]; dup {
		panic("wootguard: command registered twice: " + c.Name)
	}
	commands[c.Name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &cliEnv{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, LookupEnv: os.LookupEnv}
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the exit code.
func run(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return run(ctx, env, append(args[1:], "--help"))
		}
		usage(env.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" || args[0] == "-v" {
		fmt.Fprintln(env.Stdout, versionString())
		return 0
	}
	if len(args) >= 2 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			return c.Run(ctx, env, args[2:])
		}
	}
	if c, ok := commands[args[0]]; ok {
		return c.Run(ctx, env, args[1:])
	}
	// A group word alone ("backup") or with --help lists its subcommands.
	if group := subcommandsOf(args[0]); len(group) > 0 {
		fmt.Fprintf(env.Stdout, "wootguard %s: subcommands:\n", args[0])
		for _, c := range group {
			fmt.Fprintf(env.Stdout, "  %-22s %s\n", c.Name, c.Summary)
		}
		fmt.Fprintf(env.Stdout, "\nRun 'wootguard %s SUBCOMMAND --help' for details.\n", args[0])
		if len(args) > 1 && (args[1] == "-h" || args[1] == "--help") {
			return 0
		}
		if len(args) > 1 {
			fmt.Fprintf(env.Stderr, "wootguard %s: unknown subcommand %q%s\n", args[0], args[1], didYouMean(args[0]+" "+args[1]))
		}
		return 2
	}
	typed := args[0]
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		typed += " " + args[1]
	}
	fmt.Fprintf(env.Stderr, "wootguard: unknown command %q%s (run 'wootguard --help')\n", args[0], didYouMean(typed))
	return 2
}

// didYouMean names the command closest to what was typed ("updates apply"
// → "update apply"), or returns "" when nothing is close.
func didYouMean(typed string) string {
	words := strings.Fields(typed)
	best, bestD := "", 3
	names := map[string]bool{}
	for name := range commands {
		names[name] = true
		if group, _, ok := strings.Cut(name, " "); ok {
			names[group] = true
		}
	}
	for name := range names {
		cand := typed
		if len(words) > 1 && names[words[0]] && !strings.Contains(name, " ") {
			continue // the group is right: only its subcommands are candidates
		}
		if !strings.Contains(name, " ") && len(words) > 1 {
			cand = words[0] // a one-word command is compared with the first word
		}
		if d := editdist.Distance(cand, name); d < bestD || (d == bestD && best != "" && name < best) {
			best, bestD = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean 'wootguard %s'?)", best)
}

func subcommandsOf(group string) []*command {
	var out []*command
	for name, c := range commands {
		if strings.HasPrefix(name, group+" ") {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func usage(w io.Writer) {
	fmt.Fprint(w, `wootguard hardens a self-hosted Chatwoot.

Usage: wootguard COMMAND [flags]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-22s %s\n", n, commands[n].Summary)
	}
	fmt.Fprint(w, `
Run 'wootguard COMMAND --help' for the flags of one command,
'wootguard --version' for the version. Exit status 2 is a usage error.
Quick start: wootguard serve --upstream http://127.0.0.1:3000
`)
}
