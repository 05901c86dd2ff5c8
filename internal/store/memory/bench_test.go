package memory

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// benchNow is a fixed clock: no key expires during a benchmark.
var benchNow = time.Unix(1_800_000_000, 0)

// sprayKeys returns n distinct keys shaped like the engine's req/ip
// counters ("prefix:window:rule:ip"), one per client address of an
// attacker spraying IPv4 addresses.
func sprayKeys(n int) []string {
	keys := make([]string, n)
	buf := make([]byte, 0, 64)
	for i := range keys {
		buf = append(buf[:0], "wootguard:30000000:req/ip:"...)
		v := uint32(0x0a000000 + i) // 10.0.0.0 upwards
		for j := 3; j >= 0; j-- {
			buf = strconv.AppendUint(buf, uint64(v>>(8*j)&0xff), 10)
			if j > 0 {
				buf = append(buf, '.')
			}
		}
		keys[i] = string(buf)
	}
	return keys
}

func throttleOp(key string) store.Op {
	return store.Op{Kind: store.OpThrottle, Key: key, TTL: 61 * time.Second, Limit: 1 << 62, Enforce: true}
}

// BenchmarkKeySpray sizes the store: it inserts 1,000,000 distinct
// counters (one request from each of a million addresses) into a Store
// bounded at MaxKeys 1,000,000 and reports the live heap the store holds
// per key (runtime.MemStats.HeapAlloc after a GC, before and after), the
// cost of one insert, how many keys it holds at the end and how many it
// evicted to stay within its per-shard bound. One iteration is one full
// spray; run it with -benchtime 1x (or 3x) and -run '^$'.
func BenchmarkKeySpray(b *testing.B) {
	const n = 1_000_000
	keys := sprayKeys(n)
	res := store.Result{Counts: make([]int64, 1), Banned: make([]bool, 1)}
	prog := make([]store.Op, 1)
	ctx := context.Background()
	var heap, held, evicted, insert float64
	iters := 0
	for b.Loop() {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := New(Options{MaxKeys: n, SweepEvery: -1})
		b.StartTimer()
		start := time.Now()
		for _, k := range keys {
			prog[0] = throttleOp(k)
			if err := s.Run(ctx, benchNow, prog, &res); err != nil {
				b.Fatal(err)
			}
		}
		insert += float64(time.Since(start).Nanoseconds()) / n
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
		held += float64(s.Len())
		evicted += float64(s.Evictions())
		runtime.KeepAlive(s)
		s.Close()
		iters++
		b.StartTimer()
	}
	runtime.KeepAlive(keys)
	it := float64(iters)
	b.ReportMetric(heap/held, "B/key")
	b.ReportMetric(heap/it/(1<<20), "MiB-heap")
	b.ReportMetric(held/it, "keys-held")
	b.ReportMetric(evicted/it, "evictions")
	b.ReportMetric(insert/it, "ns/insert")
}

// BenchmarkRunThrottle measures Run with one OpThrottle (the common
// request: only the global req/ip throttle counts it) from parallel
// goroutines. one-key: every request comes from the same client, so all
// goroutines contend on one shard's mutex and one counter. many-keys:
// requests come from 65,536 clients spread over the shards.
func BenchmarkRunThrottle(b *testing.B) {
	many := sprayKeys(1 << 16)
	cases := []struct {
		name string
		keys []string
	}{
		{"one-key", many[:1]},
		{"many-keys", many},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s := New(Options{MaxKeys: 1_000_000, SweepEvery: -1})
			defer s.Close()
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				res := store.Result{Counts: make([]int64, 1), Banned: make([]bool, 1)}
				prog := make([]store.Op, 1)
				i := 0
				for pb.Next() {
					prog[0] = throttleOp(c.keys[i&(len(c.keys)-1)])
					i += 7919 // a prime stride: goroutines do not walk in step
					if err := s.Run(ctx, benchNow, prog, &res); err != nil {
						b.Error(err) // not Fatal: this is not the benchmark's goroutine
						return
					}
				}
			})
		})
	}
}
