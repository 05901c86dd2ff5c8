package main

import (
	"context"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// sprayAddr is the i-th sprayed client address (10.0.0.0 upwards).
func sprayAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// BenchmarkAddressSpray is issue 11's spray without the network: 2,000,000
// requests from as many client addresses through the Chatwoot preset's
// engine on the memory store at the default store.max_keys, under serve's
// GC settings (serveGC). It reports the peak of the memory the Go runtime
// holds (what GOMEMLIMIT bounds; sampled every 50,000 requests), the
// process's peak RSS (VmHWM: meaningful when this benchmark runs alone),
// the keys held, the evictions, and the heap per key after a GC. Then the
// most recently sprayed addresses must count exactly: each was counted
// once, so with the limit L each passes L-1 more requests and is refused
// at the next. One iteration is the whole spray: -benchtime 1x.
func BenchmarkAddressSpray(b *testing.B) {
	const n, limit, recent = 2_000_000, 20, 200
	path := filepath.Join(b.TempDir(), "wootguard.yaml")
	if err := os.WriteFile(path, []byte("preset: chatwoot\nclient_ip: {trusted_proxies: [127.0.0.1]}\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"RACK_ATTACK_LIMIT": strconv.Itoa(limit)}
	cfg, err := config.Load(path, func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	gc := serveGC(func(string) string { return "" }, cfg.MaxKeys, 0)
	defer debug.SetGCPercent(debug.SetGCPercent(gc.gcPercent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(gc.memLimit))
	hdr := http.Header{"User-Agent": {"wrk"}, "Accept": {"application/json"}}
	req := func(ip netip.Addr) *rules.Request {
		return &rules.Request{Method: "GET", Path: "/api/v1/accounts/1/conversations", RawQuery: "page=1", IP: ip, Header: hdr}
	}
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0) // one window: nothing expires, the store must evict
	for b.Loop() {
		b.StopTimer()
		st := memory.New(memory.Options{MaxKeys: cfg.MaxKeys, SweepEvery: -1})
		eng, err := gateway.Engine(cfg, st)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		var peak uint64
		b.StartTimer()
		for i := range n {
			if d, err := eng.Decide(ctx, now, req(sprayAddr(i))); err != nil || d.Action != rules.ActionPass {
				b.Fatalf("request %d: %+v %v", i, d, err)
			}
			if i%50_000 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.Sys-ms.HeapReleased)
			}
		}
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.Sys-ms.HeapReleased)
		runtime.GC()
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(peak)/(1<<20), "peak-go-MiB")
		b.ReportMetric(float64(ms.HeapAlloc)/float64(st.Len()), "heap-B/key")
		b.ReportMetric(float64(st.Len()), "keys-held")
		b.ReportMetric(float64(st.Evictions()), "evictions")
		b.ReportMetric(float64(vmHWM())/(1<<20), "VmHWM-MiB")
		for i := n - recent; i < n; i++ {
			ip := sprayAddr(i)
			for c := 2; c <= limit+1; c++ {
				d, err := eng.Decide(ctx, now, req(ip))
				if err != nil {
					b.Fatal(err)
				}
				if refused := d.Action == rules.ActionThrottle; refused != (c > limit) {
					b.Fatalf("%v, its request %d of limit %d: %v (%s), the spray lost its count", ip, c, limit, d.Action, d.Rule)
				}
			}
		}
		st.Close()
		b.StartTimer()
	}
}

// vmHWM is the process's peak resident set (bytes; 0 when unknown).
func vmHWM() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
