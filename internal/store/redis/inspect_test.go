package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/redis"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

func TestInspector(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv, redis.Options{})
	ctx := context.Background()
	now := time.Now()
	banKey := "wootguard:fail2ban:ban:login:1.2.3.4"
	fail := store.Op{Kind: store.OpFailure, Key: "wootguard:" + itoa(now.Unix()/60) + ":fail2ban:count:login:1.2.3.4", TTL: time.Minute,
		Limit: 1, BanKey: banKey, BanTTL: time.Hour, Period: 60, WindowAt: len("wootguard:")}
	if _, banned, err := st.Fail(ctx, now, fail); err != nil || !banned {
		t.Fatalf("fail: %v %v", banned, err)
	}
	// Peek sees the ban and changes nothing.
	prog := []store.Op{{Kind: store.OpBanCheck, BanKey: banKey, Enforce: true}, throttle(5)[0]}
	res := newResult(2)
	for range 2 {
		if err := st.Peek(ctx, now, prog, res); err != nil || res.Stop != store.StopBanned {
			t.Fatalf("peek: %v %+v", err, res)
		}
	}
	if err := st.Peek(ctx, now, prog[1:], res); err != nil || res.Counts[0] != 1 {
		t.Fatalf("peek of a throttle: %v %+v, want 1 (nothing counted)", err, res)
	}
	bans, err := st.Bans(ctx, time.Now(), "wootguard:")
	if err != nil || len(bans) != 1 || bans[0].Key != banKey || bans[0].Since.IsZero() ||
		bans[0].Expires.Sub(time.Now()) < 59*time.Minute {
		t.Fatalf("bans %+v %v", bans, err)
	}
	if n, err := st.Delete(ctx, banKey, "wootguard:nothing"); n != 1 || err != nil {
		t.Fatalf("delete: %d %v", n, err)
	}
	if bans, _ := st.Bans(ctx, time.Now(), "wootguard:"); len(bans) != 0 {
		t.Fatalf("still banned: %+v", bans)
	}
	if n, err := st.Reset(ctx, "wootguard:"); n != 1 || err != nil { // the failure counter
		t.Fatalf("reset: %d %v", n, err)
	}
}
