package gateway_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// TestSecretKeyPartsNeverStoredRaw: a throttle keyed on the API token
// counts exactly, but the token appears in no store key, snapshot or log
// line — in both stores.
func TestSecretKeyPartsNeverStoredRaw(t *testing.T) {
	const token = "Zq8sEcReT-api-token-0042"
	rules := "preset: none\nthrottles: [{name: api, limit: 2, period: 1h, key: header:api_access_token}]\n"
	up := newUpstream(t)
	send := func(t *testing.T, g *liveGW, tok string) int {
		req, _ := http.NewRequest("GET", g.URL+"/api/v1/profile", nil)
		req.Header.Set("api_access_token", tok)
		req.Header.Set("X-Forwarded-For", "192.0.2.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	check := func(t *testing.T, g *liveGW, where string, dump func() string) {
		t.Helper()
		var codes []int
		for range 3 {
			codes = append(codes, send(t, g, token))
		}
		if !equalInts(codes, codes3(200, 200, 429)) || send(t, g, token+"x") != 200 {
			t.Fatalf("%s: %v, want the token counted exactly (and another token apart)", where, codes)
		}
		if d := dump(); strings.Contains(strings.ToLower(d), strings.ToLower(token)) || !strings.Contains(d, "h:") {
			t.Fatalf("%s holds the raw token or no hash:\n%s", where, d)
		}
		if l := logText(g.Logs); strings.Contains(strings.ToLower(l), strings.ToLower(token)) {
			t.Fatalf("%s logs the raw token:\n%s", where, l)
		}
	}
	t.Run("memory", func(t *testing.T) {
		snap := filepath.Join(t.TempDir(), "snap")
		g := startGW(t, up.URL, fmt.Sprintf("store: {snapshot: %q}\n", snap)+rules, nil)
		check(t, g, "memory snapshot", func() string {
			g.Close()
			data, _ := os.ReadFile(snap)
			return string(data)
		})
		if fi, err := os.Stat(snap + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("generated key file: %v %v", fi, err)
		}
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		g := startGW(t, up.URL, fmt.Sprintf("store: {kind: redis, url: %q, timeout: 1s}\n", srv.URL())+rules, nil)
		check(t, g, "redis", func() string { return fmt.Sprint(srv.Do("keys", "*")) })
		// A second gateway on the same Redis hashes alike (the secret is
		// shared through Redis): the token is already over its limit.
		g2 := startGW(t, up.URL, fmt.Sprintf("store: {kind: redis, url: %q, timeout: 1s}\n", srv.URL())+rules, nil)
		if code := send(t, g2, token); code != 429 {
			t.Fatalf("second gateway: %d, want 429 (same hash)", code)
		}
	})
}

func codes3(a, b, c int) []int { return []int{a, b, c} }
