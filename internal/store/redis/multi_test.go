package redis

import (
	"context"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/memory"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

func openInternal(t *testing.T, srv *redistest.Server, callerClock bool) *Store {
	t.Helper()
	c, detail, err := NewClient(ClientOptions{URL: srv.URL(), DB: -1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Client: c, Detail: detail, Timeout: 2 * time.Second, OnError: OnErrorDeny, CallerClock: callerClock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func evalshaCalls(t *testing.T, srv *redistest.Server) int {
	t.Helper()
	info, _ := srv.Do("info", "commandstats").(string)
	m := regexp.MustCompile(`cmdstat_evalsha:calls=(\d+)`).FindStringSubmatch(info)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// mixedProgram is a request's program at unix: a ban check, a Fail2Ban
// failure, a throttle of each algorithm (small limits, so that programs
// stop) and a count.
func mixedProgram(unix int64) []store.Op {
	wk := func(name string, period int64) string {
		return "wootguard:" + strconv.FormatInt(unix/period, 10) + ":" + name + ":1.2.3.4"
	}
	at := len("wootguard:")
	ttl := func(p int64) time.Duration { return time.Duration(p-unix%p+1) * time.Second }
	ban := "wootguard:fail2ban:ban:f:1.2.3.4"
	return []store.Op{
		{Kind: store.OpBanCheck, BanKey: ban, Enforce: true},
		{Kind: store.OpFailure, Key: wk("fail2ban:count:f", 60), TTL: ttl(60), Limit: 9, BanKey: ban, BanTTL: 3 * time.Second,
			Period: 60, WindowAt: at, HistoryKey: "wootguard:fail2ban:history:f:1.2.3.4", HistoryTTL: time.Hour, BanFactor: 2},
		{Kind: store.OpThrottle, Key: wk("fixed", 60), TTL: ttl(60), Limit: 6, Enforce: true, Period: 60, WindowAt: at},
		{Kind: store.OpThrottle, Key: wk("sliding", 10), TTL: ttl(10), Limit: 4, Enforce: true, Period: 10, WindowAt: at, Algorithm: store.SlidingWindow},
		{Kind: store.OpThrottle, Key: "wootguard:0:gcra:1.2.3.4", TTL: ttl(10), Limit: 3, Rate: 4, Enforce: true, Period: 10, Algorithm: store.GCRA},
		{Kind: store.OpCount, Key: wk("track:c", 60), TTL: ttl(60), Limit: 100, Period: 60, WindowAt: at},
	}
}

// TestOneCallRunsABatchOfPrograms: the programs of a batch go to Redis as
// one EVALSHA, each with its own mode (run, peek, fail), clock and stop,
// and each answers what the memory store answers for it, in order. A
// program that fails in Redis (WRONGTYPE) fails alone: the programs
// before and after it keep their results.
func TestOneCallRunsABatchOfPrograms(t *testing.T) {
	srv := redistest.Start(t)
	rs := openInternal(t, srv, true)
	ms := memory.New(memory.Options{SweepEvery: -1})
	defer ms.Close()
	srv.Do("rpush", "{wootguard}:list", "x") // a key no program can GET
	broken := []store.Op{{Kind: store.OpCount, Key: "wootguard:list", TTL: time.Minute, Limit: 5}}

	type call struct {
		mode byte
		now  time.Time
		prog []store.Op
	}
	var calls []call
	now := time.Unix(1_800_000_000, 0)
	for i := range 40 {
		now = now.Add(time.Duration(150+(i*397)%1200) * time.Millisecond) // crosses 10 s and 60 s windows
		prog := mixedProgram(now.Unix())
		switch {
		case i == 7 || i == 23:
			calls = append(calls, call{modeRun, now, broken})
		case i%5 == 4:
			calls = append(calls, call{modePeek, now, prog})
		case i%7 == 3:
			calls = append(calls, call{modeFail, now, prog[1:2]})
		default:
			calls = append(calls, call{modeRun, now, prog})
		}
	}
	ctx := context.Background()
	batch := make([]*pending, len(calls))
	for i, c := range calls {
		batch[i] = &pending{ctx: ctx, args: rs.encode(c.mode, c.now, c.prog), done: make(chan struct{})}
	}
	srv.Do("config", "resetstat")
	before := rs.Stats()
	rs.batch.send(batch)
	if n := evalshaCalls(t, srv); n != 1 {
		t.Fatalf("%d EVALSHA for a batch of %d programs, want 1", n, len(batch))
	}
	if st := rs.Stats(); st.RoundTrips-before.RoundTrips != int64(len(batch)) || st.Pipelines-before.Pipelines != 1 {
		t.Fatalf("stats %+v after %+v: want %d programs in 1 round trip", st, before, len(batch))
	}
	stops := 0
	for i, c := range calls {
		p := batch[i]
		<-p.done
		if len(c.prog) == 1 && c.prog[0].Key == "wootguard:list" {
			if p.err == nil || !strings.Contains(p.err.Error(), "WRONGTYPE") {
				t.Fatalf("program %d: %v %v, want its WRONGTYPE error", i, p.val, p.err)
			}
			continue
		}
		if p.err != nil {
			t.Fatalf("program %d (mode %d): %v", i, c.mode, p.err)
		}
		got := &store.Result{Counts: make([]int64, len(c.prog)), Banned: make([]bool, len(c.prog)), Reset: make([]time.Duration, len(c.prog))}
		if err := decode(p.val, len(c.prog), got); err != nil {
			t.Fatalf("program %d: %v", i, err)
		}
		want := &store.Result{Counts: make([]int64, len(c.prog)), Banned: make([]bool, len(c.prog)), Reset: make([]time.Duration, len(c.prog))}
		switch c.mode {
		case modeRun:
			if err := ms.Run(ctx, c.now, c.prog, want); err != nil {
				t.Fatal(err)
			}
		case modePeek:
			if err := ms.Peek(ctx, c.now, c.prog, want); err != nil {
				t.Fatal(err)
			}
		case modeFail:
			n, banned, err := ms.Fail(ctx, c.now, c.prog[0])
			if err != nil {
				t.Fatal(err)
			}
			if got.Counts[0] != n || got.Banned[0] != banned || got.Stop != store.Completed {
				t.Fatalf("program %d (fail): redis %d %v %+v, memory %d %v", i, got.Counts[0], got.Banned[0], got, n, banned)
			}
			continue
		}
		if !got.Now.Equal(c.now) {
			t.Fatalf("program %d: clock %v, want its own %v", i, got.Now, c.now)
		}
		got.Now = time.Time{}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("program %d (mode %d) at %v:\nmemory %+v\nredis  %+v", i, c.mode, c.now, *want, *got)
		}
		if got.Stop != store.Completed {
			stops++
		}
	}
	if stops == 0 {
		t.Fatal("no program stopped: the batch does not test stops")
	}
}

// TestBatchedCallFailsAsOne: when the one call of a batch fails (here:
// its deadline passes while Redis is paused), every program of it gets
// the error, as a failed pipeline did.
func TestBatchedCallFailsAsOne(t *testing.T) {
	srv := redistest.Start(t)
	rs := openInternal(t, srv, false)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	batch := make([]*pending, 4)
	for i := range batch {
		batch[i] = &pending{ctx: ctx, args: rs.encode(modeRun, time.Now(), mixedProgram(time.Now().Unix())), done: make(chan struct{})}
	}
	srv.Do("client", "pause", 1000)
	rs.batch.send(batch)
	for i, p := range batch {
		if p.err == nil {
			t.Fatalf("program %d answered %v from a paused Redis", i, p.val)
		}
	}
}

// TestCounterKeepsItsExpiry: a counter incremented again keeps the Redis
// TTL that matches the expiry in its value (SET ... KEEPTTL), as the
// earlier PX recomputed from that expiry did.
func TestCounterKeepsItsExpiry(t *testing.T) {
	srv := redistest.Start(t)
	rs := openInternal(t, srv, false)
	op := []store.Op{{Kind: store.OpCount, Key: "wootguard:c:x", TTL: time.Hour, Limit: 100}}
	res := &store.Result{Counts: make([]int64, 1), Banned: make([]bool, 1)}
	for range 3 {
		if err := rs.Run(context.Background(), time.Now(), op, res); err != nil {
			t.Fatal(err)
		}
	}
	v, _ := srv.Do("get", "{wootguard}:c:x").(string)
	count, exp, _ := strings.Cut(v, ":")
	expUS, err := strconv.ParseInt(exp, 10, 64)
	if count != "3" || err != nil {
		t.Fatalf("value %q: want 3:EXPIRES_US", v)
	}
	at, _ := srv.Do("pexpiretime", "{wootguard}:c:x").(int64) // Redis 7: the absolute expiry in ms
	if at == 0 {
		pttl, _ := srv.Do("pttl", "{wootguard}:c:x").(int64)
		at = time.Now().UnixMilli() + pttl
	}
	if d := at - expUS/1000; d < -1000 || d > 1000 {
		t.Fatalf("Redis expires the key at %d ms, its value says %d µs: %d ms apart", at, expUS, d)
	}
}

func TestWindowNumber(t *testing.T) {
	for _, tc := range []struct {
		key  string
		at   int
		want int64
	}{
		{"wootguard:29937195:req/ip:1.2.3.4", 10, 29937195},
		{"wootguard:0:gcra:x", 10, 0},
		{"wootguard:029937195:req/ip:x", 10, -1}, // the script's format('%d') has no leading zero
		{"wootguard::x", 10, -1},
		{"wootguard:12a:x", 10, -1},
		{"wootguard:-5:x", 10, -1},
		{"wootguard:123", 10, -1},                // no ':' after it: the script keeps key and TTL
		{"wootguard:1234567890123456:x", 10, -1}, // beyond what a Lua number holds exactly, as the text is compared
		{"wootguard:123456789012345:x", 10, 123456789012345},
	} {
		if got := windowNumber(tc.key, tc.at); got != tc.want {
			t.Errorf("windowNumber(%q, %d) = %d, want %d", tc.key, tc.at, got, tc.want)
		}
	}
}
