package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRedisStoreFromChatwootEnv(t *testing.T) {
	chatwoot := map[string]string{"REDIS_URL": "redis://:pw@redis:6379/1", "REDIS_PASSWORD": "other",
		"REDIS_OPENSSL_VERIFY_MODE": "none"}
	// An ambient REDIS_URL never picks the store.
	g, err := load(t, "preset: none\n", chatwoot)
	if err != nil || g.StoreConfig.Kind != "memory" || g.StoreConfig.URL != "" {
		t.Fatalf("memory: %+v %v", g.StoreConfig, err)
	}
	g, err = load(t, "preset: none\nstore: {kind: redis}\n", chatwoot)
	if err != nil {
		t.Fatal(err)
	}
	c := g.StoreConfig
	if c.URL != chatwoot["REDIS_URL"] || c.Password != "other" || !c.TLSSkipVerify || c.Timeout != 50*time.Millisecond ||
		c.OnError != "local" || !reflect.DeepEqual(c.FromEnv, []string{"REDIS_URL", "REDIS_PASSWORD", "REDIS_OPENSSL_VERIFY_MODE"}) {
		t.Fatalf("filled from env: %+v", c)
	}
	// The file wins over the environment.
	g, _ = load(t, "preset: none\nstore: {kind: redis, url: \"redis://127.0.0.1:6390/3\", tls_verify: peer, timeout: 20ms, on_error: deny}\n", chatwoot)
	if c := g.StoreConfig; c.URL != "redis://127.0.0.1:6390/3" || c.TLSSkipVerify || c.Timeout != 20*time.Millisecond || c.OnError != "deny" {
		t.Fatalf("file wins: %+v", c)
	}
	// Sentinels, comma-separated, with Chatwoot's default master name.
	g, err = load(t, "preset: none\nstore: {kind: redis}\n", map[string]string{"REDIS_SENTINELS": "10.0.0.1:26379, 10.0.0.2:26379",
		"REDIS_SENTINEL_PASSWORD": "s"})
	if err != nil || !reflect.DeepEqual(g.StoreConfig.Sentinels, []string{"10.0.0.1:26379", "10.0.0.2:26379"}) ||
		g.StoreConfig.SentinelMaster != "mymaster" || g.StoreConfig.SentinelPassword != "s" {
		t.Fatalf("sentinels: %+v %v", g.StoreConfig, err)
	}
}

func TestRedisStoreFromChatwootEnvFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("REDIS_URL=redis://cache:6379\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "wootguard.yaml")
	os.WriteFile(p, []byte("chatwoot_env_file: .env\nstore: {kind: redis, snapshot: snap, key_secret_file: key}\n"), 0o644)
	g, err := Load(p, func(string) string { return "" })
	if err != nil || g.StoreConfig.URL != "redis://cache:6379" || g.StoreConfig.Snapshot != filepath.Join(dir, "snap") ||
		g.StoreConfig.KeySecretFile != filepath.Join(dir, "key") {
		t.Fatalf("%+v %v", g.StoreConfig, err)
	}
}

func TestStoreErrorsAllAtOnce(t *testing.T) {
	_, err := load(t, "store:\n  kind: redis\n  prefix: \"{wg}\"\n  url: http://x\n  db: -1\n  on_error: maybe\n  tls_verify: sometimes\n  sentinels: [nohost]\n", nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"db must be 0 or more", `unknown on_error "maybe"`, `unknown tls_verify "sometimes"`,
		`bad sentinel "nohost"`, "bad redis url", "must not contain braces"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// The Redis settings may come from chatwoot_env_file without the
// preset: an unreadable file is then an error too, not an empty Redis URL.
func TestRedisStoreEnvFileUnreadableWithoutPreset(t *testing.T) {
	_, err := load(t, "preset: none\nchatwoot_env_file: /nonexistent/chatwoot.env\nstore: {kind: redis}\n", nil)
	if err == nil || !strings.Contains(err.Error(), "wootguard.yaml:2: open /nonexistent/chatwoot.env") {
		t.Fatalf("err %v, want the unreadable chatwoot_env_file at line 2", err)
	}
}
