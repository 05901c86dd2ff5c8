package main

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestParseFlagsInterspersed(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		db   string
	}{
		{[]string{"Gemfile.lock", "--db", "x"}, []string{"Gemfile.lock"}, "x"},
		{[]string{"--db", "x", "a", "b"}, []string{"a", "b"}, "x"},
		{[]string{"a", "--", "--db", "y"}, []string{"a", "--db", "y"}, ""},
		{nil, nil, ""},
	}
	for _, tt := range tests {
		env := &cliEnv{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
		fs := newFlagSet(env, "t", "", "")
		db := fs.String("db", "", "")
		pos, _, ok := parseFlags(env, fs, tt.args)
		if !ok || !reflect.DeepEqual(pos, tt.pos) || *db != tt.db {
			t.Errorf("%q: got %q db=%q ok=%v, want %q db=%q", tt.args, pos, *db, ok, tt.pos, tt.db)
		}
	}
}

// Every command must explain itself to someone who never read the code.
func TestEveryCommandHasHelp(t *testing.T) {
	for name := range commands {
		var out, errb bytes.Buffer
		env := &cliEnv{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		code := run(context.Background(), env, append(strings.Fields(name), "--help"))
		if code != 0 {
			t.Errorf("%s --help: exit %d, stderr %q", name, code, errb.String())
		}
		if !strings.Contains(out.String(), "Usage: wootguard "+name) || len(out.String()) < 80 {
			t.Errorf("%s --help: too little help:\n%s", name, out.String())
		}
	}
}

func TestStrayArgumentsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"serve", "wootguard.yaml"}, {"rules", "extra"}, {"version-probe", "x"}} {
		var out, errb bytes.Buffer
		env := &cliEnv{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		if code := run(context.Background(), env, args); code != 2 || !strings.Contains(errb.String(), "unexpected argument") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
}
