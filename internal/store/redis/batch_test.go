package redis_test

import (
	"context"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/redis"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// decideConcurrently runs n decisions of prog at once and returns each
// one's count and error.
func decideConcurrently(st *redis.Store, n int, prog []store.Op) ([]int64, []error) {
	counts, errs := make([]int64, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := newResult(len(prog))
			errs[i] = st.Run(context.Background(), time.Now(), prog, res)
			counts[i] = res.Counts[0]
		}()
	}
	wg.Wait()
	return counts, errs
}

// wantEachCountOnce fails t unless every decision succeeded and their
// counts are 1..len(counts), each once: every call counted exactly once.
func wantEachCountOnce(t *testing.T, counts []int64, errs []error, why string) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(counts)
	for i, c := range counts {
		if c != int64(i+1) {
			t.Fatalf("counts %v: want each of 1..%d once%s", counts, len(counts), why)
		}
	}
}

// TestConcurrentCallsShareRoundTrips: calls that arrive while the round
// trips are taken (here: Redis paused) go out together as pipelines, and
// every decision is still one script call, counted exactly once.
func TestConcurrentCallsShareRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		name     string
		flushers int
		maxPipes int64 // network round trips allowed for the 64 calls
	}{
		{"default", 0, 8},
		{"one flusher", 1, 4},
		{"unbatched", -1, 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t)
			st := open(t, srv, redis.Options{Flushers: tc.flushers})
			srv.Do("client", "pause", 300)
			counts, errs := decideConcurrently(st, 64, throttle(10))
			wantEachCountOnce(t, counts, errs, " (every call counted once)")
			s := st.Stats()
			if s.RoundTrips != 64 {
				t.Fatalf("%d script calls for 64 decisions, want 64", s.RoundTrips)
			}
			t.Logf("64 calls in %d network round trips", s.Pipelines)
			if s.Pipelines > tc.maxPipes || (tc.flushers >= 0 && s.Pipelines >= s.RoundTrips) {
				t.Fatalf("%d network round trips for 64 concurrent calls, want at most %d", s.Pipelines, tc.maxPipes)
			}
		})
	}
}

// TestLoneCallsAreSentAtOnce: one call at a time is sent by its caller,
// one round trip each, never queued behind a batch.
func TestLoneCallsAreSentAtOnce(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv, redis.Options{})
	res := newResult(1)
	for i := range int64(20) {
		if err := st.Run(context.Background(), time.Now(), throttle(100), res); err != nil || res.Counts[0] != i+1 {
			t.Fatalf("call %d: %v %+v", i, err, res)
		}
	}
	if s := st.Stats(); s.RoundTrips != 20 || s.Pipelines != 20 {
		t.Fatalf("stats %+v: want 20 calls in 20 round trips", s)
	}
}

// TestQueuedCallsKeepTheirTimeout: with Redis not answering, calls queued
// behind a batch on the wire get the failure policy within their own
// store.timeout, not when Redis answers again.
func TestQueuedCallsKeepTheirTimeout(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv, redis.Options{Timeout: 100 * time.Millisecond, OnError: redis.OnErrorDeny})
	const pause = 5 * time.Second // far beyond the timeout: a call that waited for it is wrong
	srv.Do("client", "pause", pause.Milliseconds())
	start := time.Now()
	_, errs := decideConcurrently(st, 32, throttle(10))
	waited := time.Since(start)
	for _, err := range errs {
		if _, ok := store.IsUnavailable(err); !ok {
			t.Fatalf("error %v: want the deny policy's", err)
		}
	}
	if waited >= pause {
		t.Fatalf("the calls waited %v, for Redis to answer: want each one's 100ms timeout", waited)
	}
	// The breaker opens after three failed round trips in a row; the 32
	// calls may have shared fewer (two pipelines, say), so calls one at a
	// time (a round trip each) make up the rest.
	extra := int64(0)
	for ; st.Stats().Healthy && extra < 3; extra++ {
		if err := st.Run(context.Background(), time.Now(), throttle(10), newResult(1)); err == nil {
			t.Fatal("a call answered while Redis is paused")
		} else if _, ok := store.IsUnavailable(err); !ok {
			t.Fatalf("error %v: want the deny policy's", err)
		}
	}
	if s := st.Stats(); s.Fallbacks != 32+extra || s.Healthy {
		t.Fatalf("stats %+v after %d more calls: want every call a fallback and the breaker open", s, extra)
	}
}

// TestBatchedCallsOnCluster: on a Redis Cluster a pipeline of calls goes
// to the one primary holding the {prefix} slot, and every call is counted
// there once.
func TestBatchedCallsOnCluster(t *testing.T) {
	nodes, st := clusterStore(t)
	for _, n := range nodes {
		n.Do("client", "pause", 300)
	}
	counts, errs := decideConcurrently(st, 64, throttle(10))
	wantEachCountOnce(t, counts, errs, "")
	if s := st.Stats(); s.RoundTrips != 64 || s.Pipelines >= 64 {
		t.Fatalf("stats %+v: want 64 calls in fewer round trips", s)
	}
	holders := 0
	for _, n := range nodes {
		if keys, _ := n.Do("keys", "{wootguard}:*").([]any); len(keys) > 0 {
			holders++
		}
	}
	if holders != 1 {
		t.Fatalf("wootguard keys on %d nodes, want 1", holders)
	}
}

// TestQueuedCallsDoNotWaitOutAFarRedis: with Redis a long round trip away
// a call queued behind the round trips on the wire would wait one of them
// out and then need its own, twice the round trip: past a timeout that
// one round trip fits in. A queued call that no round trip takes within a
// quarter of the timeout is sent by its caller.
func TestQueuedCallsDoNotWaitOutAFarRedis(t *testing.T) {
	const rtt, timeout = 300 * time.Millisecond, 500 * time.Millisecond
	srv := redistest.Start(t)
	far := latencyProxy(t, srv.Addr(), rtt)
	c, detail, err := redis.NewClient(redis.ClientOptions{URL: "redis://" + far + "/0", DB: -1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 16 { // a warm pool: no dial inside the measured calls
		wg.Add(1)
		go func() { defer wg.Done(); c.Ping(context.Background()) }()
	}
	wg.Wait()
	st, err := redis.New(redis.Options{Client: c, Detail: detail, Timeout: timeout, OnError: redis.OnErrorDeny, ProbeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for round := range 2 {
		_, errs := decideConcurrently(st, 16, throttle(1<<30))
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v (a %v round trip fits the %v timeout)", round, err, rtt, timeout)
			}
		}
	}
}

// latencyProxy forwards to addr and delays Redis' answers by d: a Redis
// d away.
func latencyProxy(t *testing.T, addr string, d time.Duration) string {
	return tcpForwarder(t, func() string { return addr }, d)
}

// tcpForwarder listens on loopback and forwards each new connection to
// target() (asked per connection), delaying what comes back by d.
func tcpForwarder(t *testing.T, target func() string, d time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target())
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			open = append(open, c, s)
			mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			type chunk struct {
				at time.Time
				b  []byte
			}
			answers := make(chan chunk, 1024)
			go func() {
				for a := range answers {
					time.Sleep(time.Until(a.at))
					c.Write(a.b)
				}
				c.Close()
			}()
			go func() {
				defer close(answers)
				buf := make([]byte, 64<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 {
						answers <- chunk{time.Now().Add(d), append([]byte(nil), buf[:n]...)}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// clusterStore starts a 3-primary Redis Cluster and a store on it
// (store.on_error: deny, so a failed call shows as an error).
func clusterStore(t *testing.T) ([]*redistest.Server, *redis.Store) {
	t.Helper()
	nodes := redistest.Cluster(t, 3)
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.Addr()
	}
	c, detail, err := redis.NewClient(redis.ClientOptions{ClusterNodes: addrs, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	st, err := redis.New(redis.Options{Client: c, Detail: detail, Timeout: 2 * time.Second, OnError: redis.OnErrorDeny})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return nodes, st
}
