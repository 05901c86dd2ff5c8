package main

import (
	"context"
	"strings"
	"testing"
)

func TestHashToken(t *testing.T) {
	old := tokenInput
	defer func() { tokenInput = old }()
	for _, c := range []struct {
		in, out string
		code    int
	}{
		// sha256("abc")
		{"abc\n", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n", 0},
		{"abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n", 0},
		{"\n", "", 1},
	} {
		tokenInput = strings.NewReader(c.in)
		env, out, _ := testEnv(nil)
		if code := run(context.Background(), env, []string{"hash-token"}); code != c.code || out.String() != c.out {
			t.Errorf("%q: code %d out %q, want %d %q", c.in, code, out.String(), c.code, c.out)
		}
	}
}

// A token given as an argument is a usage error that says where the token
// goes instead, and prints no hash (it is already in the shell history).
func TestHashTokenArgument(t *testing.T) {
	env, out, errb := testEnv(nil)
	if code := run(context.Background(), env, []string{"hash-token", "abc"}); code != 2 || out.String() != "" ||
		!strings.Contains(errb.String(), "standard input") {
		t.Errorf("code %d out %q err %q", code, out, errb)
	}
}
