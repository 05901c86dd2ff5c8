package gateway_test

import (
	"os"
	"testing"

	"github.com/wootguard/wootguard/internal/rules"
)

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustEmptyEngine(t *testing.T) *rules.Engine {
	e, err := rules.Compile(rules.Spec{}, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
