// Package testsvc lets a test find a real service (Redis, Chromium, a Ruby
// oracle, Docker...) that ./scripts/test started and named in an
// environment variable.
//
// Without the variable the test is skipped when run by hand (plain
// `go test`), but fails under ./scripts/test (WOOTGUARD_TEST_SERVICES=1)
// or CI: the suite must never pass by silently skipping what it was meant
// to test.
package testsvc

import (
	"os"
	"testing"
)

// Env returns the value of the environment variable name, which
// ./scripts/test sets when it has started the service described by what.
func Env(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if Required() {
		t.Fatalf("%s is not set: ./scripts/test should have started %s", name, what)
	}
	t.Skipf("%s not set: run ./scripts/test to test against %s", name, what)
	return ""
}

// Required reports whether missing services are errors (under
// ./scripts/test or CI) rather than reasons to skip.
func Required() bool {
	return os.Getenv("WOOTGUARD_TEST_SERVICES") != "" || os.Getenv("CI") != ""
}
