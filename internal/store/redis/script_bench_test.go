package redis

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// BenchmarkScriptBatch: the script's cost in Redis for one call carrying
// n programs (one req/ip throttle each, the pass-through and flood
// decision), sent as the batcher sends them, one call at a time.
// evalsha-µs/call is INFO commandstats' time per call: for n = 1 the
// fixed cost of a call plus one program, the slope over n the cost of a
// program. redis-CPU-µs/program adds the network and command parsing.
//
//	WOOTGUARD_TEST_REDIS_SERVER=$(command -v redis-server) \
//	  go test -run '^$' -bench ScriptBatch -benchtime 20000x ./internal/store/redis/
func BenchmarkScriptBatch(b *testing.B) {
	srv := redistest.Start(b)
	c, detail, err := NewClient(ClientOptions{URL: srv.URL(), DB: -1, Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{Client: c, Detail: detail, Timeout: time.Second, OnError: OnErrorDeny})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	stat := regexp.MustCompile(`cmdstat_evalsha:calls=(\d+),usec=(\d+)`)
	evalsha := func() (calls, usec float64) {
		info, _ := srv.Do("info", "commandstats").(string)
		if m := stat.FindStringSubmatch(info); m != nil {
			calls, _ = strconv.ParseFloat(m[1], 64)
			usec, _ = strconv.ParseFloat(m[2], 64)
		}
		return calls, usec
	}
	cpu := regexp.MustCompile(`used_cpu_(?:sys|user):([0-9.]+)`)
	redisCPU := func() (sec float64) {
		info, _ := srv.Do("info", "cpu").(string)
		for _, m := range cpu.FindAllStringSubmatch(info, -1) {
			v, _ := strconv.ParseFloat(m[1], 64)
			sec += v
		}
		return sec
	}
	for _, n := range []int{1, 4, 16, 64, maxBatch} {
		b.Run(fmt.Sprintf("programs=%d", n), func(b *testing.B) {
			now := time.Now()
			key := "wootguard:" + strconv.FormatInt(now.Unix()/60, 10) + ":req/ip:203.0.113.7"
			prog := []store.Op{{Kind: store.OpThrottle, Key: key, TTL: time.Minute, Limit: 1 << 40, Period: 60,
				WindowAt: len("wootguard:"), Enforce: true}}
			batch := make([]*pending, n)
			calls0, usec0 := evalsha()
			cpu0 := redisCPU()
			b.ResetTimer()
			for range b.N {
				for i := range batch {
					batch[i] = &pending{ctx: context.Background(), args: s.encode(modeRun, now, prog), done: make(chan struct{})}
				}
				s.batch.send(batch)
				if batch[0].err != nil {
					b.Fatal(batch[0].err)
				}
			}
			b.StopTimer()
			calls, usec := evalsha()
			calls, usec = calls-calls0, usec-usec0
			b.ReportMetric(usec/calls, "evalsha-µs/call")
			b.ReportMetric(usec/calls/float64(n), "evalsha-µs/program")
			b.ReportMetric((redisCPU()-cpu0)*1e6/float64(b.N*n), "redis-CPU-µs/program")
		})
	}
}
