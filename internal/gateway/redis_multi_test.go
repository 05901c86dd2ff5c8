package gateway_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// liveGW is a gateway built from YAML as `wootguard serve` builds it
// (config.Load, gateway.OpenStore, FromConfig), on the real clock unless
// now is given.
type liveGW struct {
	URL   string
	Store store.Store
	Logs  *syncBuffer
	srv   *httptest.Server
}

func startGW(t testing.TB, upstreamURL, yaml string, now func() time.Time) *liveGW {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wootguard.yaml")
	body := "upstream: " + upstreamURL + "\nclient_ip: {trusted_proxies: [127.0.0.1]}\n" + yaml
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v\n%s", err, body)
	}
	g := &liveGW{Logs: &syncBuffer{}}
	log := slog.New(slog.NewJSONHandler(g.Logs, nil))
	if g.Store, err = gateway.OpenStore(cfg, log); err != nil {
		t.Fatal(err)
	}
	opts, err := gateway.FromConfig(cfg, g.Store, log)
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = now
	g.srv = httptest.NewServer(gateway.New(opts))
	g.URL = g.srv.URL
	t.Cleanup(g.Close)
	return g
}

func (g *liveGW) Close() {
	if g.srv != nil {
		g.srv.Close()
		g.Store.Close()
		g.srv = nil
	}
}

func (g *liveGW) roundTrips() int64 { return g.Store.(store.StatsReporter).Stats().RoundTrips }

// hit sends one request and returns its status and Retry-After.
func hit(t *testing.T, method, url, ip, body string) (int, string) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("X-Forwarded-For", ip)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return 0, ""
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// waitWindowRoom waits until at least room is left in the current window
// of period seconds (so a test does not straddle a window edge).
func waitWindowRoom(period, room time.Duration) {
	for period-time.Duration(time.Now().UnixNano())%period < room {
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRedisGatewaysAdmitExactlyTheLimit: three gateways on one Redis,
// concurrent clients spread over them: exactly the limit passes, for each
// algorithm, in exactly one round trip per request.
func TestRedisGatewaysAdmitExactlyTheLimit(t *testing.T) {
	srv := redistest.Start(t)
	up := newUpstream(t)
	for _, algo := range []string{"fixed-window", "sliding-window", "gcra"} {
		t.Run(algo, func(t *testing.T) {
			srv.Do("flushall")
			yaml := fmt.Sprintf("preset: none\nstore: {kind: redis, url: %q, timeout: 1s}\n"+
				"throttles:\n  - {name: shared, limit: 10, period: 1h, key: ip, algorithm: %s}\n"+
				"  - {name: second, limit: 1000, period: 1h, key: ip}\n", srv.URL(), algo)
			gws := []*liveGW{startGW(t, up.URL, yaml, nil), startGW(t, up.URL, yaml, nil), startGW(t, up.URL, yaml, nil)}
			waitWindowRoom(time.Hour, 10*time.Second)
			var mu sync.Mutex
			got := map[int]int{}
			var wg sync.WaitGroup
			for w := range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 10 {
						code, _ := hit(t, "GET", gws[(w+i)%3].URL+"/x", "192.0.2.200", "")
						mu.Lock()
						got[code]++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if got[200] != 10 || got[429] != 110 {
				t.Fatalf("statuses %v: want exactly 10 admitted of 120", got)
			}
			var trips int64
			for _, g := range gws {
				trips += g.roundTrips()
			}
			if trips != 120 {
				t.Fatalf("%d round trips for 120 requests, want 120", trips)
			}
		})
	}
}

// TestRedisSkewedGatewaysAgree: two gateways whose clocks are 30s apart
// count in the same windows (Redis' clock) and give the same Retry-After.
func TestRedisSkewedGatewaysAgree(t *testing.T) {
	srv := redistest.Start(t)
	up := newUpstream(t)
	// A 31s window: the two clocks fall in different windows of their own
	// except in one second of 31, so without Redis' clock they would not
	// share a counter.
	yaml := fmt.Sprintf("preset: none\nstore: {kind: redis, url: %q, timeout: 1s}\n"+
		"throttles: [{name: t, limit: 5, period: 31s, key: ip}]\n", srv.URL())
	a := startGW(t, up.URL, yaml, time.Now)
	b := startGW(t, up.URL, yaml, func() time.Time { return time.Now().Add(30 * time.Second) })
	for {
		if s := time.Now().Unix() % 31; s >= 1 && s <= 27 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var codes []int
	var retry []string
	for i := range 8 {
		g := a
		if i%2 == 1 {
			g = b
		}
		code, ra := hit(t, "GET", g.URL+"/x", "192.0.2.7", "")
		codes = append(codes, code)
		if code == 429 {
			retry = append(retry, ra)
		}
	}
	if want := []int{200, 200, 200, 200, 200, 429, 429, 429}; !equalInts(codes, want) {
		t.Fatalf("statuses %v, want %v (one shared window)", codes, want)
	}
	for _, r := range retry {
		if r != retry[0] {
			t.Fatalf("Retry-After differs between the gateways: %v", retry)
		}
	}
}

// TestRedisKilledUnderLoad: Redis dies while clients keep coming: no 5xx
// with on_error local (this instance's memory store decides), only the
// documented 503 with Retry-After under deny; counting returns to Redis
// after its restart.
func TestRedisKilledUnderLoad(t *testing.T) {
	for _, policy := range []string{"local", "deny"} {
		t.Run(policy, func(t *testing.T) {
			srv := redistest.Start(t)
			up := newUpstream(t)
			// timeout: 1s, as the other tests here: under -race on a loaded
			// 2-core box the 50 ms default times out healthy calls, and three
			// in a row reopen the breaker after Redis is back.
			g := startGW(t, up.URL, fmt.Sprintf("preset: none\nstore: {kind: redis, url: %q, timeout: 1s, on_error: %s}\n"+
				"throttles: [{name: t, limit: 1000000, period: 1h, key: ip}]\n", srv.URL(), policy), nil)
			var mu sync.Mutex
			got := map[int]int{}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						req, _ := http.NewRequest("GET", g.URL+"/x", nil)
						req.Header.Set("X-Forwarded-For", fmt.Sprintf("192.0.2.%d", w+1))
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						code := resp.StatusCode
						if code == 503 && resp.Header.Get("Retry-After") == "" {
							code = 599 // a 503 without Retry-After is not the policy's
						}
						mu.Lock()
						got[code]++
						mu.Unlock()
					}
				}()
			}
			time.Sleep(200 * time.Millisecond)
			srv.Stop()
			time.Sleep(500 * time.Millisecond)
			srv.Restart()
			deadline := time.Now().Add(10 * time.Second)
			for !g.Store.(store.StatsReporter).Stats().Healthy && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			close(stop)
			wg.Wait()
			st := g.Store.(store.StatsReporter).Stats()
			for code, n := range got {
				if code >= 500 && !(policy == "deny" && code == 503) {
					t.Errorf("%d responses with status %d", n, code)
				}
			}
			if !st.Healthy || st.Fallbacks == 0 || got[200] == 0 || (policy == "deny" && got[503] == 0) {
				t.Fatalf("statuses %v, stats %+v: want fallbacks during the outage and Redis back after", got, st)
			}
			if !strings.Contains(logText(g.Logs), "redis store answering again") {
				t.Fatal("no log line for the return to Redis")
			}
		})
	}
}

// TestRedisRoundTripsPerRequest: one call per decided request, one more
// per response-based failure counted after Chatwoot answers, none for a
// safelisted request.
func TestRedisRoundTripsPerRequest(t *testing.T) {
	srv := redistest.Start(t)
	up := newUpstream(t)
	g := startGW(t, up.URL, fmt.Sprintf("preset: none\nstore: {kind: redis, url: %q, timeout: 1s}\n"+
		"safelists: [{name: office, ip: [198.51.100.0/24]}]\n"+
		"throttles: [{name: a, limit: 100, period: 1h, key: ip}, {name: b, limit: 100, period: 1m, key: ip}]\n"+
		"fail2ban: [{name: login, key: ip, maxretry: 3, findtime: 1m, bantime: 1h, match: {path: /auth/sign_in}, failure: {status: [401]}}]\n",
		srv.URL()), nil)
	step := func(what string, want int64, send func()) {
		t.Helper()
		before := g.roundTrips()
		send()
		if got := g.roundTrips() - before; got != want {
			t.Fatalf("%s: %d round trips, want %d", what, got, want)
		}
	}
	step("a request counted by two throttles and a ban check", 1, func() { hit(t, "GET", g.URL+"/x", "192.0.2.1", "") })
	step("a safelisted request", 0, func() { hit(t, "GET", g.URL+"/x", "198.51.100.9", "") })
	step("a login Chatwoot refuses (response-based failure)", 2, func() {
		req, _ := http.NewRequest("GET", g.URL+"/auth/sign_in", nil)
		req.Header.Set("X-Forwarded-For", "192.0.2.1")
		req.Header.Set("X-Test-Status", "401")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})
	step("a login Chatwoot accepts", 1, func() { hit(t, "GET", g.URL+"/auth/sign_in", "192.0.2.1", "") })
}

// TestRedisFullUsesThePolicy: a Redis at maxmemory with noeviction
// refuses the script's writes (OOM): no 5xx, the local store enforces the
// limit, and counting returns to Redis once it has room.
func TestRedisFullUsesThePolicy(t *testing.T) {
	srv := redistest.Start(t, "maxmemory 1mb", "maxmemory-policy noeviction")
	filler := srv.Client()
	big := strings.Repeat("x", 100<<10)
	for i := range 40 {
		if filler.Set(t.Context(), fmt.Sprint("filler:", i), big, 0).Err() != nil {
			break
		}
	}
	up := newUpstream(t)
	g := startGW(t, up.URL, fmt.Sprintf("preset: none\nstore: {kind: redis, url: %q, timeout: 1s}\n"+
		"throttles: [{name: t, limit: 3, period: 1h, key: ip}]\n", srv.URL()), nil)
	waitWindowRoom(time.Hour, 10*time.Second)
	var codes []int
	for range 5 {
		code, _ := hit(t, "GET", g.URL+"/x", "192.0.2.50", "")
		codes = append(codes, code)
	}
	if want := []int{200, 200, 200, 429, 429}; !equalInts(codes, want) {
		t.Fatalf("full Redis: %v, want %v (the local store's limit, no 5xx)", codes, want)
	}
	if st := g.Store.(store.StatsReporter).Stats(); st.Healthy || !strings.Contains(st.Detail, "OOM") {
		t.Fatalf("stats %+v", st)
	}
	srv.Do("config", "set", "maxmemory", "64mb")
	waitUntil(t, 10*time.Second, "counting in Redis again", func() bool { return g.Store.(store.StatsReporter).Stats().Healthy })
	if code, _ := hit(t, "GET", g.URL+"/x", "192.0.2.51", ""); code != 200 {
		t.Fatalf("after room was made: %d", code)
	}
	if keys, _ := srv.Do("keys", "*192.0.2.51*").([]any); len(keys) != 1 {
		t.Fatalf("redis keys %v: want the new client counted in Redis", keys)
	}
}

// TestRedisTwoGatewaysPresetLogin: the "done when": two gateways
// with the Chatwoot preset on one Redis admit 5 login attempts per IP per
// 5 minutes, not 10.
func TestRedisTwoGatewaysPresetLogin(t *testing.T) {
	srv := redistest.Start(t)
	up := newUpstream(t)
	yaml := fmt.Sprintf("store: {kind: redis, url: %q, timeout: 1s}\n", srv.URL())
	a, b := startGW(t, up.URL, yaml, nil), startGW(t, up.URL, yaml, nil)
	waitWindowRoom(5*time.Minute, 10*time.Second)
	admitted := 0
	for i := range 10 {
		g := a
		if i%2 == 1 {
			g = b
		}
		body := fmt.Sprintf(`{"email":"user%d@example.com","password":"x"}`, i)
		if code, _ := hit(t, "POST", g.URL+"/auth/sign_in", "192.0.2.88", body); code == 200 {
			admitted++
		}
	}
	if admitted != 5 {
		t.Fatalf("%d of 10 logins admitted across two gateways, want 5", admitted)
	}
}
