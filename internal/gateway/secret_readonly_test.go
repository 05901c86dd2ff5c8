package gateway_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// Engine (replay's) reads the installation's key secret but never creates
// one: a replay run as another user must not leave a secret file the
// gateway then cannot read.
func TestEngineNeverCreatesTheKeySecret(t *testing.T) {
	dir := t.TempDir()
	for _, store := range []string{"store: {key_secret_file: secret}\n", "store: {snapshot: snap}\n"} {
		path := filepath.Join(dir, "wootguard.yaml")
		if err := os.WriteFile(path, []byte("preset: none\n"+store), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		st := memory.New(memory.Options{SweepEvery: -1})
		if _, err := gateway.Engine(cfg, st); err != nil {
			t.Fatalf("%s: %v", store, err)
		}
		st.Close()
		for _, f := range []string{"secret", "snap.key"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				t.Fatalf("%s: Engine created %s", store, f)
			}
		}
	}
}
