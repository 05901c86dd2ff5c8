package redis_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store/redis"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// switchingEndpoint forwards each new connection to *target: a primary
// endpoint whose name moves to the new primary after a failover (a cloud
// Redis' DNS name), while connections already open stay where they were.
func switchingEndpoint(t *testing.T, target *atomic.Value) string {
	return tcpForwarder(t, func() string { return target.Load().(string) }, 0)
}

// TestDemotedPrimaryIsLeft: when the primary becomes a replica, the
// script's first write fails with READONLY. That must reach go-redis as
// the call's error (not as one program's answer), so that it drops the
// connection and the next call dials the endpoint again, reaching the new
// primary: one decision goes to the failure policy, not every one after.
func TestDemotedPrimaryIsLeft(t *testing.T) {
	for _, flushers := range []int{-1, 1} { // sent alone; sent by a flusher
		t.Run("flushers="+strconv.Itoa(flushers), func(t *testing.T) {
			oldPrimary, newPrimary := redistest.Start(t), redistest.Start(t)
			var target atomic.Value
			target.Store(oldPrimary.Addr())
			endpoint := switchingEndpoint(t, &target)
			c, detail, err := redis.NewClient(redis.ClientOptions{URL: "redis://" + endpoint + "/0", DB: -1, Timeout: 2 * time.Second, PoolSize: 1})
			if err != nil {
				t.Fatal(err)
			}
			st, err := redis.New(redis.Options{Client: c, Detail: detail, Timeout: 2 * time.Second, OnError: redis.OnErrorAllow,
				ProbeEvery: time.Hour, Flushers: flushers})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			res := newResult(1)
			if err := st.Run(ctx, time.Now(), throttle(100), res); err != nil || res.Counts[0] != 1 {
				t.Fatalf("before the failover: %v %+v", err, res)
			}
			// The failover: the old primary replicates the new one, and the
			// endpoint names the new one.
			oldPrimary.Do("replicaof", "127.0.0.1", strconv.Itoa(newPrimary.Port))
			target.Store(newPrimary.Addr())
			counted := 0
			for range 3 {
				if err := st.Run(ctx, time.Now(), throttle(100), res); err != nil {
					t.Fatal(err)
				}
				if res.Counts[0] > 0 {
					counted++
				}
			}
			if counted != 2 || st.Stats().Errors != 1 {
				t.Fatalf("after the failover %d of 3 decisions counted, %d errors (last: %s); want 2 and 1 (only the one that met READONLY)",
					counted, st.Stats().Errors, st.Stats().Detail)
			}
			if n := newPrimary.Do("dbsize"); n != int64(1) {
				t.Fatalf("new primary holds %v keys, want the counter", n)
			}
		})
	}
}
