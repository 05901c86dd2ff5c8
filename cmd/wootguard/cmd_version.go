package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

func init() {
	register(&command{Name: "version", Summary: "print wootguard's version and the commit it was built from", Run: runVersion})
}

func runVersion(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "version", "", `
Print the module version and the VCS commit wootguard was built from (from
the Go build info), e.g. "wootguard v1.2.0 (commit 4fe560c1a2b3, go1.26.8)".
Also: wootguard --version.`)
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	fmt.Fprintln(env.Stdout, versionString())
	return 0
}

// Set with -ldflags "-X main.buildVersion=v1.2.0 -X main.buildCommit=abc123"
// when the build has no VCS information (a container build without .git).
var buildVersion, buildCommit string

// versionString describes this binary from its build info: the module
// version ("(devel)" for a plain go build in a checkout), the commit and
// whether the tree had local changes.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "wootguard (no build info)"
	}
	return describeBuild(bi)
}

func describeBuild(bi *debug.BuildInfo) string {
	version := bi.Main.Version
	if buildVersion != "" {
		version = buildVersion
	}
	if version == "" {
		version = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev == "" {
		rev = buildCommit
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		rev = "unknown"
	}
	return fmt.Sprintf("wootguard %s (commit %s%s, %s)", version, rev, modified, bi.GoVersion)
}
