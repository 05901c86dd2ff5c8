package gateway_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/admin"
	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store/memory"
	"github.com/wootguard/wootguard/internal/telemetry"
)

// The hot path, as `serve` runs it by default: the chatwoot preset on the
// memory store, the metrics and activity observers, info-level logging
// (to io.Discard here), no access log. allocs/op is the figure to watch
// (it does not depend on the machine's load); bench/results.md records
// it with bench/run's ratios to nginx. Run:
//
//	go test ./internal/gateway -run '^$' -bench HotPath -benchmem
//
// pass: GET of an API list through to an httptest upstream answering a
// 2 KB JSON body, the gateway's ServeHTTP called directly (so the
// figures are the gateway's and its upstream client's, not the serving
// side's http.Server). throttled: the same GET refused by req/ip (429)
// with RACK_ATTACK_LIMIT=1; login-throttled: a JSON sign-in POST refused
// by login/ip.
func BenchmarkHotPath(b *testing.B) {
	up := conversationsUpstream(b)

	b.Run("pass", func(b *testing.B) {
		gw := hotGateway(b, up.URL, "1000000000")
		benchServe(b, gw, func() *http.Request { return apiGet("203.0.113.7") }, http.StatusOK)
	})
	b.Run("throttled", func(b *testing.B) {
		gw := hotGateway(b, up.URL, "1")
		benchServe(b, gw, func() *http.Request { return apiGet("203.0.113.7") }, http.StatusTooManyRequests)
	})
	b.Run("login-throttled", func(b *testing.B) {
		gw := hotGateway(b, up.URL, "1000000000")
		const login = `{"email":"victim@example.com","password":"guess"}`
		benchServe(b, gw, func() *http.Request {
			r := httptest.NewRequest("POST", "/auth/sign_in", strings.NewReader(login))
			r.RemoteAddr = "127.0.0.1:40000"
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-Forwarded-For", "198.51.100.66")
			return r
		}, http.StatusTooManyRequests)
	})
}

// conversationsUpstream is the benchmarks' Chatwoot: a 2 KB JSON answer,
// shaped like an API list, with its Content-Length.
func conversationsUpstream(b *testing.B) *httptest.Server {
	body := []byte(strings.Repeat(`{"id":1,"status":"open","messages":[]},`, 52) + "{}")
	length := strconv.Itoa(len(body))
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json; charset=utf-8"}
		h["Content-Length"] = []string{length}
		w.Write(body)
	}))
	b.Cleanup(up.Close)
	return up
}

func apiGet(client string) *http.Request {
	r := httptest.NewRequest("GET", "/api/v1/accounts/1/conversations?page=1", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("X-Forwarded-For", client)
	r.Header.Set("User-Agent", "wrk")
	r.Header.Set("Accept", "application/json")
	return r
}

// hotGateway builds the gateway serve builds, default features on.
func hotGateway(b *testing.B, upstream, limit string) *gateway.Gateway {
	b.Helper()
	path := filepath.Join(b.TempDir(), "wootguard.yaml")
	yaml := "upstream: " + upstream + "\npreset: chatwoot\nclient_ip: {trusted_proxies: [127.0.0.1]}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"RACK_ATTACK_LIMIT": limit}
	cfg, err := config.Load(path, func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	st := memory.New(memory.Options{MaxKeys: cfg.MaxKeys})
	b.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts, err := gateway.FromConfig(cfg, st, log)
	if err != nil {
		b.Fatal(err)
	}
	// A fixed clock: a window ending mid-run would let one request pass.
	now := time.Unix(1_800_000_030, 0)
	opts.Now = func() time.Time { return now }
	opts.Observer = gateway.Observers{telemetry.New(telemetry.Sources{}), admin.NewActivity(nil)}
	return gateway.New(opts)
}

// benchServe calls ServeHTTP b.N times with fresh requests from newReq
// (built outside the timer's allocations only where net/http would have
// built them: the request itself is the server's, not the gateway's).
func benchServe(b *testing.B, gw *gateway.Gateway, newReq func() *http.Request, want int) {
	w := &discardWriter{h: http.Header{}}
	for range 10 { // warm the pools and the upstream connection; spend the limits
		w.reset()
		gw.ServeHTTP(w, newReq())
	}
	reqs := make([]*http.Request, 512)
	b.ReportAllocs()
	gc0, gcCPU0 := gcUse()
	b.ResetTimer()
	for i := range b.N {
		if i%len(reqs) == 0 {
			b.StopTimer()
			for j := range reqs {
				reqs[j] = newReq()
			}
			b.StartTimer()
		}
		w.reset()
		gw.ServeHTTP(w, reqs[i%len(reqs)])
		if w.status != want {
			b.Fatalf("status %d, want %d", w.status, want)
		}
	}
	b.StopTimer()
	// What GOGC changes, in CPU rather than wall time (the machine is
	// shared): collections and GC CPU per request.
	gc1, gcCPU1 := gcUse()
	b.ReportMetric(float64(gc1-gc0)/float64(b.N), "gcs/op")
	b.ReportMetric((gcCPU1-gcCPU0)*1e9/float64(b.N), "gc-cpu-ns/op")
}

// gcUse returns the collections so far and the CPU seconds the GC spent.
func gcUse() (cycles uint64, cpu float64) {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Float64()
}

// discardWriter is a reusable ResponseWriter (httptest.ResponseRecorder
// would add its own allocations to every request).
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}
func (w *discardWriter) Flush() {}

// The deadlines bufferBody sets (as net/http's own writer allows them).
func (w *discardWriter) SetReadDeadline(time.Time) error  { return nil }
func (w *discardWriter) SetWriteDeadline(time.Time) error { return nil }
func (w *discardWriter) reset() {
	clear(w.h)
	w.status = 0
}
