package redis_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync/atomic"
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
