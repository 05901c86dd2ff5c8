package redis_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/memory"
	"github.com/wootguard/wootguard/internal/store/redis"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

func throttle(limit int64) []store.Op {
	unix := time.Now().Unix()
	return []store.Op{{Kind: store.OpThrottle, Key: "wootguard:" + itoa(unix/3600) + ":t:x", TTL: time.Hour, Limit: limit,
		Period: 3600, WindowAt: len("wootguard:"), Enforce: true}}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFailurePolicies kills Redis and checks each policy, the breaker (no
// call while open), one log line per transition, and the return.
func TestFailurePolicies(t *testing.T) {
	for _, policy := range []string{redis.OnErrorLocal, redis.OnErrorAllow, redis.OnErrorDeny} {
		t.Run(policy, func(t *testing.T) {
			srv := redistest.Start(t)
			logs := &logBuf{}
			local := memory.New(memory.Options{SweepEvery: -1})
			defer local.Close()
			st := open(t, srv, redis.Options{OnError: policy, Local: local, Logger: slog.New(slog.NewTextHandler(logs, nil))})
			ctx := context.Background()
			res := newResult(1)
			if err := st.Run(ctx, time.Now(), throttle(2), res); err != nil || res.Counts[0] != 1 {
				t.Fatalf("redis up: %v %+v", err, res)
			}
			srv.Stop()
			var errs, stops int
			for range 5 {
				err := st.Run(ctx, time.Now(), throttle(2), res)
				if _, ok := store.IsUnavailable(err); ok {
					errs++
				} else if err != nil {
					t.Fatalf("error that is not the policy's: %v", err)
				}
				if res.Stop == store.StopThrottled {
					stops++
				}
			}
			switch policy {
			case redis.OnErrorLocal: // the local store counts 1..5: 3 of 5 over limit 2
				if errs != 0 || stops != 3 {
					t.Fatalf("local: %d errors, %d throttled; want 0 and 3", errs, stops)
				}
			case redis.OnErrorAllow:
				if errs != 0 || stops != 0 {
					t.Fatalf("allow: %d errors, %d throttled", errs, stops)
				}
			case redis.OnErrorDeny:
				if errs != 5 {
					t.Fatalf("deny: %d of 5 refused", errs)
				}
			}
			s := st.Stats()
			if s.Healthy || s.RoundTrips != 4 || s.Fallbacks != 5 {
				t.Fatalf("stats %+v: want unhealthy, 4 round trips (the breaker opened after 3 failures), 5 fallbacks", s)
			}
			srv.Restart()
			waitFor(t, "the breaker to close", func() bool { return st.Stats().Healthy })
			if err := st.Run(ctx, time.Now(), throttle(2), res); err != nil || res.Counts[0] != 1 {
				t.Fatalf("after restart: %v %+v (a new, empty Redis)", err, res)
			}
			l := logs.String()
			if strings.Count(l, "redis store failing") != 1 || strings.Count(l, "redis store answering again") != 1 {
				t.Fatalf("want one log line per transition:\n%s", l)
			}
		})
	}
}

// TestFullRedisFallsBack: maxmemory with noeviction answers OOM to the
// script's writes; the policy decides and the breaker keeps probing.
func TestFullRedisFallsBack(t *testing.T) {
	srv := redistest.Start(t, "maxmemory 1mb", "maxmemory-policy noeviction")
	local := memory.New(memory.Options{SweepEvery: -1})
	defer local.Close()
	st := open(t, srv, redis.Options{OnError: redis.OnErrorLocal, Local: local})
	// Fill it.
	big := strings.Repeat("x", 100<<10)
	filler := srv.Client()
	for i := 0; i < 40; i++ {
		if err := filler.Set(context.Background(), "filler:"+itoa(int64(i)), big, 0).Err(); err != nil {
			break
		}
	}
	// Then put the cap far below what it holds: right at the cap, Redis'
	// own use dips under it now and then (client buffers shrink) and a
	// write gets through.
	srv.Do("config", "set", "maxmemory", "256kb")
	res := newResult(1)
	for i := range int64(3) {
		if err := st.Run(context.Background(), time.Now(), throttle(5), res); err != nil || res.Counts[0] != i+1 {
			t.Fatalf("full redis: %v %+v (want the local store's count)", err, res)
		}
	}
	if s := st.Stats(); s.Healthy || s.Errors == 0 || !strings.Contains(s.Detail, "OOM") {
		t.Fatalf("stats %+v: want unhealthy with the OOM error", s)
	}
	// The operator makes room: Redis takes writes again.
	srv.Do("config", "set", "maxmemory", "64mb")
	waitFor(t, "the breaker to close", func() bool { return st.Stats().Healthy })
}
