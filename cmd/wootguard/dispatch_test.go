package main

import (
	"context"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		env, out, errb := testEnv(nil)
		if code := run(context.Background(), env, args); code != 0 || !strings.HasPrefix(out.String(), "wootguard ") || strings.Contains(out.String(), "Usage") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out.String(), errb.String())
		}
	}
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "4fe560c1a2b3c4d5e6f7"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := describeBuild(bi), "wootguard v1.2.0 (commit 4fe560c1a2b3, modified, go1.26.8)"; got != want {
		t.Errorf("describeBuild = %q, want %q", got, want)
	}
	if got := describeBuild(&debug.BuildInfo{GoVersion: "go1.26.8"}); got != "wootguard (devel) (commit unknown, go1.26.8)" {
		t.Errorf("describeBuild without info = %q", got)
	}
}

func TestDidYouMean(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"updates", "apply"}, "did you mean 'wootguard update apply'?"},
		{[]string{"backup", "creat"}, "did you mean 'wootguard backup create'?"},
		{[]string{"chek-config", "x.yaml"}, "did you mean 'wootguard check-config'?"},
		{[]string{"rulez"}, "did you mean 'wootguard rules'?"},
		{[]string{"updat"}, "did you mean 'wootguard update'?"},
		{[]string{"updaets", "status"}, "did you mean 'wootguard updates'?"}, // two letters swapped: one typo
	}
	for _, tt := range tests {
		env, _, errb := testEnv(nil)
		if code := run(context.Background(), env, tt.args); code != 2 || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, code, errb.String(), tt.want)
		}
	}
	env, _, errb := testEnv(nil)
	if run(context.Background(), env, []string{"frobnicate"}); strings.Contains(errb.String(), "did you mean") {
		t.Errorf("a far-off word got a suggestion: %q", errb.String())
	}
}

// Usage errors exit 2 for every command, as the help says.
func TestUsageErrorsExit2Everywhere(t *testing.T) {
	for name := range commands {
		env, _, errb := testEnv(nil)
		if code := run(context.Background(), env, append(strings.Fields(name), "--no-such-flag")); code != 2 {
			t.Errorf("%s --no-such-flag: exit %d, want 2 (stderr %q)", name, code, errb.String())
		}
	}
}
