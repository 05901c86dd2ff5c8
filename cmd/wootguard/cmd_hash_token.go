package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wootguard/wootguard/internal/rules"
)

// tokenInput is where hash-token reads the token (a test swaps it).
var tokenInput io.Reader = os.Stdin

func init() {
	register(&command{Name: "hash-token", Summary: "print the sha256:... form of an API access token for exempt_tokens", Run: runHashToken})
}

func runHashToken(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "hash-token", "< token", `
Read one Chatwoot API access token from standard input (so that it stays
out of your shell history) and print "sha256:<hex>", the form
profile.exempt_tokens and a throttle's exempt_tokens hold. The config then
never contains the token itself. Example:

  printf '%s' "$INTEGRATION_TOKEN" | wootguard hash-token`)
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		io.WriteString(env.Stderr, "wootguard hash-token: give the token on standard input, not as an argument (it would stay in your shell history):\n"+
			"  printf '%s' \"$INTEGRATION_TOKEN\" | wootguard hash-token\n")
		return 2
	}
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	line, err := bufio.NewReader(tokenInput).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintln(env.Stderr, "hash-token:", err)
		return 1
	}
	tok := strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(tok) == "" {
		fmt.Fprintln(env.Stderr, "hash-token: no token on standard input")
		return 1
	}
	if tok != strings.TrimSpace(tok) {
		fmt.Fprintln(env.Stderr, "hash-token: warning: the token has leading or trailing spaces; they are part of the hash")
	}
	fmt.Fprintln(env.Stdout, rules.HashToken(tok))
	return 0
}
