package redis_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store/memory"
	"github.com/wootguard/wootguard/internal/store/redis"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// A Redis that is down when the gateway starts makes the store unhealthy
// at once (not after three failed requests), and its coming up is logged.
func TestRedisDownAtStart(t *testing.T) {
	srv := redistest.Start(t)
	srv.Stop()
	logs := &logBuf{}
	local := memory.New(memory.Options{SweepEvery: -1})
	defer local.Close()
	st := open(t, srv, redis.Options{OnError: redis.OnErrorLocal, Local: local, Timeout: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if st.Stats().Healthy {
		t.Fatal("healthy with Redis down at start")
	}
	res := newResult(1)
	if err := st.Run(context.Background(), time.Now(), throttle(2), res); err != nil || res.Counts[0] != 1 {
		t.Fatalf("local fallback: %v %+v", err, res)
	}
	srv.Restart()
	waitFor(t, "the breaker to close", func() bool { return st.Stats().Healthy })
	if l := logs.String(); !strings.Contains(l, "not answering at start") || strings.Count(l, "redis store answering again") != 1 {
		t.Fatalf("want the start warning and one recovery line:\n%s", l)
	}
}
