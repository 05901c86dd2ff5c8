package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// BenchmarkGatewayStore measures whole-gateway throughput with the
// Chatwoot preset on the memory store and on Redis, in the same run, and
// the Redis round trips per request. Every request is counted (pass path:
// RACK_ATTACK_LIMIT is huge); an API request with a token, so the preset's
// req/ip throttle and the token hashing both run.
//
//	WOOTGUARD_TEST_REDIS_SERVER=$(command -v redis-server) \
//	  go test -run '^$' -bench GatewayStore -benchtime 3s -count 3 ./internal/gateway/
func BenchmarkGatewayStore(b *testing.B) {
	up := newUpstream(b)
	env := filepath.Join(b.TempDir(), ".env")
	if err := os.WriteFile(env, []byte("RACK_ATTACK_LIMIT=1000000000\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	var srv *redistest.Server
	if os.Getenv("WOOTGUARD_TEST_REDIS_SERVER") != "" {
		srv = redistest.Start(b) // for the whole run: a sub-benchmark's cleanup runs after each of its rounds
	}
	// redis-1s: the same with store.timeout 1s, so that on a saturated
	// box no call goes to the failure policy and the figure is Redis' own.
	for _, kind := range []string{"memory", "redis", "redis-1s"} {
		b.Run(kind, func(b *testing.B) {
			yaml := fmt.Sprintf("chatwoot_env_file: %q\nlog: {level: error}\n", env)
			if kind != "memory" {
				if srv == nil {
					b.Skip("WOOTGUARD_TEST_REDIS_SERVER not set")
				}
				timeout := "50ms"
				if kind == "redis-1s" {
					timeout = "1s"
				}
				yaml += fmt.Sprintf("store: {kind: redis, url: %q, timeout: %s}\n", srv.URL(), timeout)
			}
			g := startGW(b, up.URL, yaml, nil)
			tr := &http.Transport{MaxIdleConnsPerHost: 256}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			before := g.roundTrips()
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", g.URL+"/api/v1/accounts/1/conversations", nil)
					req.Header.Set("X-Forwarded-For", "203.0.113.7")
					req.Header.Set("api_access_token", "bench-token")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			if kind != "memory" {
				b.ReportMetric(float64(g.roundTrips()-before)/float64(b.N), "redis-calls/req")
				// Calls over the 50ms timeout on a busy host go to the
				// failure policy (local): reported, not hidden.
				b.ReportMetric(float64(g.Store.(store.StatsReporter).Stats().Fallbacks)/float64(b.N), "fallbacks/req")
			}
		})
	}
}
