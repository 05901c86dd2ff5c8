package gateway_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMemorySnapshotKeepsBans: a client banned before a restart is still
// banned after it; a corrupt snapshot is refused with a clear log line and
// the gateway starts empty.
func TestMemorySnapshotKeepsBans(t *testing.T) {
	up := newUpstream(t)
	snap := filepath.Join(t.TempDir(), "wootguard.snapshot")
	yaml := fmt.Sprintf("preset: none\nstore: {snapshot: %q}\n"+
		"fail2ban: [{name: login, key: ip, maxretry: 2, findtime: 10m, bantime: 1h, match: {path: /auth/sign_in}}]\n", snap)
	g := startGW(t, up.URL, yaml, nil)
	for range 2 {
		hit(t, "GET", g.URL+"/auth/sign_in", "192.0.2.9", "")
	}
	if code, _ := hit(t, "GET", g.URL+"/", "192.0.2.9", ""); code != 403 {
		t.Fatalf("not banned before the restart: %d", code)
	}
	g.Close() // writes the snapshot

	g = startGW(t, up.URL, yaml, nil)
	if code, ra := hit(t, "GET", g.URL+"/", "192.0.2.9", ""); code != 403 || ra == "" {
		t.Fatalf("after the restart: %d (Retry-After %q), want still banned", code, ra)
	}
	if code, _ := hit(t, "GET", g.URL+"/", "192.0.2.10", ""); code != 200 {
		t.Fatalf("another client: %d", code)
	}
	if !strings.Contains(logText(g.Logs), "memory store snapshot loaded") {
		t.Fatalf("no load log line:\n%s", logText(g.Logs))
	}
	g.Close()

	if err := os.WriteFile(snap, []byte(`{"format":"wootguard-memory-snapshot","version":1,"entries":[{"key":`), 0o600); err != nil {
		t.Fatal(err)
	}
	g = startGW(t, up.URL, yaml, nil)
	if code, _ := hit(t, "GET", g.URL+"/", "192.0.2.9", ""); code != 200 {
		t.Fatalf("with a corrupt snapshot: %d, want an empty start", code)
	}
	if l := logText(g.Logs); !strings.Contains(l, "memory store snapshot refused") || !strings.Contains(l, "moved_to") {
		t.Fatalf("no clear log line for the corrupt snapshot:\n%s", l)
	}
}

func logText(b *syncBuffer) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
