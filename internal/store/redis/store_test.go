package redis_test

import (
	"bytes"
	"context"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/memory"
	"github.com/wootguard/wootguard/internal/store/redis"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

var t0 = time.Unix(1_800_000_000, 0)

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// open returns a Redis store on srv; callerClock makes it use the test's
// clock (as the memory store does).
func open(t *testing.T, srv *redistest.Server, o redis.Options) *redis.Store {
	t.Helper()
	c, detail, err := redis.NewClient(redis.ClientOptions{URL: srv.URL(), DB: -1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	o.Client, o.Detail = c, detail
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second // a busy CI box must not turn a slow call into a policy decision
	}
	if o.OnError == "" {
		o.OnError = redis.OnErrorAllow
	}
	if o.ProbeEvery == 0 {
		o.ProbeEvery = 50 * time.Millisecond
	}
	st, err := redis.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newResult(n int) *store.Result {
	return &store.Result{Counts: make([]int64, n), Banned: make([]bool, n), Reset: make([]time.Duration, n)}
}

// key builds an engine-style key with its window for op.
func windowKey(name string, unix, period int64) (string, int) {
	w := unix / period
	return "wootguard:" + itoa(w) + ":" + name + ":1.2.3.4", len("wootguard:")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// program builds a request's program at unix: a ban check, a failure, a
// throttle of each algorithm and a count.
func program(unix int64, enforce bool) []store.Op {
	fk, fat := windowKey("fail2ban:count:f", unix, 60)
	tk, tat := windowKey("fixed", unix, 60)
	sk, sat := windowKey("sliding", unix, 10)
	gk := "wootguard:0:gcra:1.2.3.4"
	ck, cat := windowKey("track:c", unix, 60)
	ttl := func(p int64) time.Duration { return time.Duration(p-unix%p+1) * time.Second }
	return []store.Op{
		{Kind: store.OpBanCheck, BanKey: "wootguard:fail2ban:ban:f:1.2.3.4", Enforce: enforce},
		{Kind: store.OpFailure, Key: fk, TTL: ttl(60), Limit: 30, BanKey: "wootguard:fail2ban:ban:f:1.2.3.4", BanTTL: time.Minute, Period: 60, WindowAt: fat},
		{Kind: store.OpThrottle, Key: tk, TTL: ttl(60), Limit: 12, Enforce: enforce, Period: 60, WindowAt: tat},
		{Kind: store.OpThrottle, Key: sk, TTL: ttl(10), Limit: 5, Enforce: enforce, Period: 10, WindowAt: sat, Algorithm: store.SlidingWindow},
		{Kind: store.OpThrottle, Key: gk, TTL: ttl(10), Limit: 3, Rate: 4, Enforce: enforce, Period: 10, Algorithm: store.GCRA},
		{Kind: store.OpCount, Key: ck, TTL: ttl(60), Limit: 100, Period: 60, WindowAt: cat},
	}
}

// TestSameNumbersAsMemory runs the same programs at the same instants
// through both stores: the Lua script must give every number the memory
// store gives (counts, bans, stops, resets), for every algorithm.
func TestSameNumbersAsMemory(t *testing.T) {
	srv := redistest.Start(t)
	for _, enforce := range []bool{true, false} {
		srv.Do("flushall")
		rs := open(t, srv, redis.Options{CallerClock: true})
		ms := memory.New(memory.Options{SweepEvery: -1})
		defer ms.Close()
		now := t0
		for i := range 80 {
			// Irregular steps cross window edges of 10s and 60s.
			now = now.Add(time.Duration(137+(i*311)%900) * time.Millisecond)
			prog := program(now.Unix(), enforce)
			want, got := newResult(len(prog)), newResult(len(prog))
			if err := ms.Run(context.Background(), now, prog, want); err != nil {
				t.Fatal(err)
			}
			if err := rs.Run(context.Background(), now, prog, got); err != nil {
				t.Fatal(err)
			}
			if !got.Now.Equal(now) {
				t.Fatalf("step %d: store clock %v, want the caller's %v", i, got.Now, now)
			}
			got.Now = time.Time{}
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("enforce=%v step %d at %v:\nmemory %+v\nredis  %+v", enforce, i, now, *want, *got)
			}
		}
		if n := rs.Stats().RoundTrips; n != 80 {
			t.Fatalf("%d round trips for 80 programs, want 80", n)
		}
	}
}

// TestRedisClockDecidesWindows: a caller whose clock is 30s off still
// counts in Redis' window, and gets Redis' time back.
func TestRedisClockDecidesWindows(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv, redis.Options{})
	real := time.Now()
	for _, skew := range []time.Duration{0, 30 * time.Second, -30 * time.Second, 90 * time.Second} {
		now := real.Add(skew)
		prog := []store.Op{{Kind: store.OpThrottle, Key: "wootguard:" + itoa(now.Unix()/3600) + ":t:x", TTL: time.Hour, Limit: 100,
			Period: 3600, WindowAt: len("wootguard:"), Enforce: true}}
		res := newResult(1)
		if err := st.Run(context.Background(), now, prog, res); err != nil {
			t.Fatal(err)
		}
		if d := res.Now.Sub(time.Now()); d > time.Second || d < -time.Second {
			t.Fatalf("skew %v: store time %v is not Redis' (now %v)", skew, res.Now, time.Now())
		}
	}
	// All four counted in the one key of Redis' hour (unless the hour
	// turned during the test, then in two).
	keys, _ := srv.Do("keys", "{wootguard}:*:t:x").([]any)
	if len(keys) == 0 || len(keys) > 2 {
		t.Fatalf("keys %v: want Redis' window only", keys)
	}
	wantKey := "{wootguard}:" + itoa(time.Now().Unix()/3600) + ":t:x"
	found := false
	for _, k := range keys {
		found = found || k == wantKey
	}
	if !found {
		t.Fatalf("keys %v, want %s", keys, wantKey)
	}
}

// TestNoScriptFallback: a Redis that lost its scripts (SCRIPT FLUSH, a
// restart) still answers, at the cost of one EVAL.
func TestNoScriptFallback(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv, redis.Options{})
	srv.Do("script", "flush")
	res := newResult(1)
	op := []store.Op{{Kind: store.OpCount, Key: "wootguard:1:c:x", TTL: time.Minute, Limit: 5}}
	for range 2 {
		if err := st.Run(context.Background(), time.Now(), op, res); err != nil {
			t.Fatal(err)
		}
	}
	if res.Counts[0] != 2 || st.Stats().RoundTrips != 3 || st.Stats().Errors != 0 {
		t.Fatalf("count %d, stats %+v: want 2 and 3 round trips (EVALSHA, EVAL, EVALSHA)", res.Counts[0], st.Stats())
	}
}

// TestClientModes: a password-protected Redis (Chatwoot's docker compose:
// REDIS_URL without the password, REDIS_PASSWORD apart) and a unix socket.
func TestClientModes(t *testing.T) {
	sock := t.TempDir() + "/redis.sock"
	srv := redistest.Start(t, "requirepass s3cret", "unixsocket "+sock, "unixsocketperm 700")
	for _, o := range []redis.ClientOptions{
		// Timeout 1s: the 50 ms default timed out the script load at
		// start on a loaded box.
		{URL: "redis://" + srv.Addr(), Password: "s3cret", DB: 3, Timeout: time.Second},
		{URL: "unix://" + sock + "?db=3", Password: "s3cret", DB: -1, Timeout: time.Second},
	} {
		c, detail, err := redis.NewClient(o)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(detail, "s3cret") || !strings.HasSuffix(detail, "3") {
			t.Fatalf("detail %q: want the db and no password", detail)
		}
		st, err := redis.New(redis.Options{Client: c, Detail: detail, Timeout: time.Second, OnError: redis.OnErrorDeny})
		if err != nil {
			t.Fatal(err)
		}
		res := newResult(1)
		err = st.Run(context.Background(), time.Now(), []store.Op{{Kind: store.OpCount, Key: "wootguard:1:c:x", TTL: time.Minute, Limit: 5}}, res)
		st.Close()
		if err != nil || res.Counts[0] == 0 {
			t.Fatalf("%s: %v %+v", detail, err, res)
		}
	}
	c, _, _ := redis.NewClient(redis.ClientOptions{URL: "redis://" + srv.Addr(), DB: 3, Password: "s3cret"})
	defer c.Close()
	if n, _ := c.Get(context.Background(), "{wootguard}:1:c:x").Result(); !strings.HasPrefix(n, "2:") {
		t.Fatalf("db 3 holds %q, want the count of both clients", n)
	}
}

// TestStrictOpsSameAsMemory: trust checks/sets and ban escalation give
// the memory store's numbers.
func TestStrictOpsSameAsMemory(t *testing.T) {
	srv := redistest.Start(t)
	rs := open(t, srv, redis.Options{CallerClock: true})
	ms := memory.New(memory.Options{SweepEvery: -1})
	defer ms.Close()
	ban := "wootguard:fail2ban:ban:l:v@x.io"
	trust := store.Op{Kind: store.OpTrustCheck, Key: "wootguard:fail2ban:trust:l:v@x.io:1.2.3.4", BanKey: ban}
	check := store.Op{Kind: store.OpBanCheck, BanKey: ban, Enforce: true}
	other := store.Op{Kind: store.OpThrottle, Key: "wootguard:0:t:1.2.3.4", TTL: time.Hour, Limit: 1000, Enforce: true}
	now := t0
	step := func(i int, prog ...store.Op) {
		t.Helper()
		want, got := newResult(len(prog)), newResult(len(prog))
		if err := ms.Run(context.Background(), now, prog, want); err != nil {
			t.Fatal(err)
		}
		if err := rs.Run(context.Background(), now, prog, got); err != nil {
			t.Fatal(err)
		}
		got.Now = time.Time{}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("step %d:\nmemory %+v\nredis  %+v", i, *want, *got)
		}
	}
	for i := range 12 {
		f := store.Op{Kind: store.OpFailure, Key: "wootguard:" + itoa(now.Unix()/60) + ":fail2ban:count:l:v@x.io", TTL: time.Minute, Limit: 2,
			BanKey: ban, BanTTL: 10 * time.Second, HistoryKey: "wootguard:fail2ban:history:l:v@x.io", HistoryTTL: 10 * time.Minute,
			BanFactor: 1.5, BanMaxTTL: 40 * time.Second}
		step(i, trust, check, f, f, other)
		step(i, check)
		if i == 6 { // trusted: the failures were skipped, no ban
			res := newResult(1)
			rs.Run(context.Background(), now, []store.Op{check}, res)
			if res.Stop != store.Completed {
				t.Fatalf("trusted pair banned: %+v", res)
			}
		}
		if i == 5 {
			step(i, store.Op{Kind: store.OpTrustSet, Key: trust.Key, TTL: 100 * time.Second})
		}
		now = now.Add(61 * time.Second)
	}
}
