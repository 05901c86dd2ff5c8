package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An empty ENABLE_RACK_ATTACK= in Chatwoot's .env switches the preset off,
// as Chatwoot casts it — and check-config and rules say so loudly.
func TestRulesOffAnnounced(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".env"), []byte("ENABLE_RACK_ATTACK=\nRACK_ATTACK_LIMIT=\n"), 0o600)
	cfg := filepath.Join(dir, "wootguard.yaml")
	os.WriteFile(cfg, []byte("chatwoot_env_file: .env\n"), 0o644)
	for _, args := range [][]string{{"check-config", cfg}, {"rules", "--config", cfg}} {
		env, _, errb := testEnv(nil)
		if code := run(context.Background(), env, args); code != 0 || !strings.Contains(errb.String(), "RULES OFF: ENABLE_RACK_ATTACK is set but empty") {
			t.Errorf("%v: %d %q", args, code, errb.String())
		}
	}
	env, _, errb := testEnv(map[string]string{"ENABLE_RACK_ATTACK_WIDGET_API": "f"})
	os.WriteFile(filepath.Join(dir, ".env"), []byte("RACK_ATTACK_LIMIT=\n"), 0o600)
	if code := run(context.Background(), env, []string{"check-config", cfg}); code != 0 ||
		!strings.Contains(errb.String(), `RULES OFF: ENABLE_RACK_ATTACK_WIDGET_API="f"`) || !strings.Contains(errb.String(), `RACK_ATTACK_LIMIT="" is not a whole number`) {
		t.Errorf("widget off: %d %q", code, errb.String())
	}
}
