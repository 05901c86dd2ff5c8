package redis_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/redis"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

func usedMemory(b *testing.B, srv *redistest.Server) int64 {
	info, _ := srv.Do("info", "memory").(string)
	m := regexp.MustCompile(`used_memory:(\d+)`).FindStringSubmatch(info)
	if m == nil {
		b.Fatalf("no used_memory in %q", info)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// BenchmarkRedisKeySpray: the Redis memory one distinct client costs
// (the preset's req/ip counter, as an IP spray makes them), and the
// store's programs per second from one gateway.
//
//	WOOTGUARD_TEST_REDIS_SERVER=$(command -v redis-server) \
//	  go test -run '^$' -bench RedisKeySpray -benchtime 100000x ./internal/store/redis/
func BenchmarkRedisKeySpray(b *testing.B) {
	srv := redistest.Start(b)
	c, detail, err := redis.NewClient(redis.ClientOptions{URL: srv.URL(), DB: -1, Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	st, err := redis.New(redis.Options{Client: c, Detail: detail, Timeout: time.Second, OnError: redis.OnErrorDeny})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	before := usedMemory(b, srv)
	unix := time.Now().Unix()
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		res := &store.Result{Counts: make([]int64, 1), Banned: make([]bool, 1), Reset: make([]time.Duration, 1)}
		for pb.Next() {
			i := next.Add(1)
			key := fmt.Sprintf("wootguard:%d:req/ip:10.%d.%d.%d", unix/60, i>>16&255, i>>8&255, i&255)
			op := []store.Op{{Kind: store.OpThrottle, Key: key, TTL: time.Hour, Limit: 3000, Period: 60, WindowAt: len("wootguard:"), Enforce: true}}
			if err := st.Run(context.Background(), time.Now(), op, res); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	keys, _ := srv.Do("dbsize").(int64)
	if keys > 0 {
		b.ReportMetric(float64(usedMemory(b, srv)-before)/float64(keys), "redis-B/key")
	}
	b.ReportMetric(float64(keys), "keys")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "programs/s")
}

// redisCPU is the server's user+system CPU time (INFO cpu).
func redisCPU(b *testing.B, srv *redistest.Server) time.Duration {
	info, _ := srv.Do("info", "cpu").(string)
	var total float64
	for _, f := range []string{"used_cpu_sys", "used_cpu_user"} {
		m := regexp.MustCompile(f + `:([0-9.]+)`).FindStringSubmatch(info)
		if m == nil {
			b.Fatalf("no %s in %q", f, info)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		total += v
	}
	return time.Duration(total * float64(time.Second))
}

// evalsha is the server's EVALSHA calls and their total µs so far (INFO
// commandstats).
func evalsha(b *testing.B, srv *redistest.Server) (calls, usec int64) {
	info, _ := srv.Do("info", "commandstats").(string)
	m := regexp.MustCompile(`cmdstat_evalsha:calls=(\d+),usec=(\d+)`).FindStringSubmatch(info)
	if m == nil {
		return 0, 0
	}
	calls, _ = strconv.ParseInt(m[1], 10, 64)
	usec, _ = strconv.ParseInt(m[2], 10, 64)
	return calls, usec
}

// selfCPU is this process' user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRedisConcurrentDecisions: decisions on one store, with and
// without batching, in the same run: a lone caller (latency: ns/op), a
// flood (64 goroutines at -cpu 2, every call incrementing one client's
// req/ip counter) and 64 goroutines spread over 1000 clients. Reports the
// CPU time per decision of this process (the gateway's side) and of
// redis-server, the decisions per network round trip, and from INFO
// commandstats the decisions per EVALSHA and the µs each EVALSHA took. Wall-clock
// figures depend on what else the machine runs; CPU per decision much less.
//
//	WOOTGUARD_TEST_REDIS_SERVER=$(command -v redis-server) \
//	  go test -run '^$' -bench RedisConcurrentDecisions -benchtime 2s -cpu 2 ./internal/store/redis/
func BenchmarkRedisConcurrentDecisions(b *testing.B) {
	srv := redistest.Start(b)
	for _, load := range []struct {
		name        string
		parallelism int // goroutines per GOMAXPROCS; 0: one caller
		clients     int64
	}{{"lone", 0, 1}, {"flood", 32, 1}, {"spread", 32, 1000}} {
		for _, mode := range []struct {
			name     string
			flushers int
		}{{"unbatched", -1}, {"batched", 0}} {
			b.Run(load.name+"/"+mode.name, func(b *testing.B) {
				c, detail, err := redis.NewClient(redis.ClientOptions{URL: srv.URL(), DB: -1, Timeout: time.Second})
				if err != nil {
					b.Fatal(err)
				}
				st, err := redis.New(redis.Options{Client: c, Detail: detail, Timeout: time.Second, OnError: redis.OnErrorDeny, Flushers: mode.flushers})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				unix := time.Now().Unix()
				var next atomic.Int64
				decide := func(res *store.Result) error {
					i := next.Add(1) % load.clients
					key := fmt.Sprintf("wootguard:%d:req/ip:10.0.%d.%d", unix/60, i>>8&255, i&255)
					op := []store.Op{{Kind: store.OpThrottle, Key: key, TTL: time.Hour, Limit: 1, Period: 60, WindowAt: len("wootguard:"), Enforce: true}}
					return st.Run(context.Background(), time.Now(), op, res)
				}
				newRes := func() *store.Result {
					return &store.Result{Counts: make([]int64, 1), Banned: make([]bool, 1), Reset: make([]time.Duration, 1)}
				}
				before := st.Stats()
				rcpu, scpu := redisCPU(b, srv), selfCPU()
				calls0, usec0 := evalsha(b, srv)
				b.ResetTimer()
				if load.parallelism == 0 {
					res := newRes()
					for range b.N {
						if err := decide(res); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism(load.parallelism)
					b.RunParallel(func(pb *testing.PB) {
						res := newRes()
						for pb.Next() {
							if err := decide(res); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				b.StopTimer()
				n := float64(b.N)
				after := st.Stats()
				b.ReportMetric(float64(selfCPU()-scpu)/n/1e3, "client-CPU-µs/op")
				b.ReportMetric(float64(redisCPU(b, srv)-rcpu)/n/1e3, "redis-CPU-µs/op")
				b.ReportMetric(float64(after.RoundTrips-before.RoundTrips)/float64(max(after.Pipelines-before.Pipelines, 1)), "calls/pipeline")
				calls, usec := evalsha(b, srv)
				calls, usec = calls-calls0, usec-usec0
				b.ReportMetric(float64(after.RoundTrips-before.RoundTrips)/float64(max(calls, 1)), "decisions/evalsha")
				b.ReportMetric(float64(usec)/float64(max(calls, 1)), "evalsha-µs/call")
			})
		}
	}
}
