package gateway_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// TestRedisSentinelFailover: a real sentinel, primary and replica; a
// SENTINEL FAILOVER under load gives no 5xx, and limits hold after it.
func TestRedisSentinelFailover(t *testing.T) {
	primary := redistest.Start(t)
	replica := redistest.Start(t, fmt.Sprintf("replicaof 127.0.0.1 %d", primary.Port))
	sentinel := redistest.StartSentinel(t, "wg", primary.Addr())
	waitUntil(t, 20*time.Second, "the sentinel to see the replica", func() bool {
		reps, _ := sentinel.Do("sentinel", "replicas", "wg").([]any)
		return len(reps) == 1 && strings.Contains(fmt.Sprint(reps), "slave")
	})
	up := newUpstream(t)
	g := startGW(t, up.URL, fmt.Sprintf("preset: none\nstore: {kind: redis, sentinels: [%q], sentinel_master: wg, timeout: 1s}\n"+
		"throttles: [{name: t, limit: 10, period: 1h, key: ip}]\n", sentinel.Addr()), nil)

	var mu sync.Mutex
	got := map[int]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code, _ := hit(t, "GET", g.URL+"/x", fmt.Sprintf("198.51.%d.%d", w, i%250), "")
				mu.Lock()
				got[code]++
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	sentinel.Do("sentinel", "failover", "wg")
	waitUntil(t, 30*time.Second, "the failover", func() bool {
		addr, _ := sentinel.Do("sentinel", "get-master-addr-by-name", "wg").([]any)
		return len(addr) == 2 && fmt.Sprint(addr[1]) == fmt.Sprint(replica.Port)
	})
	waitUntil(t, 30*time.Second, "the gateway to count in the new primary", func() bool {
		return g.Store.(store.StatsReporter).Stats().Healthy && len(replica.Do("keys", "*").([]any)) > 0
	})
	close(stop)
	wg.Wait()
	for code, n := range got {
		if code >= 500 || code == 0 {
			t.Fatalf("%d responses with status %d during the failover (%v)", n, code, got)
		}
	}
	// After it: exactly the limit for a new client.
	waitWindowRoom(time.Hour, 10*time.Second)
	var codes []int
	for range 13 {
		code, _ := hit(t, "GET", g.URL+"/x", "203.0.113.99", "")
		codes = append(codes, code)
	}
	if want := join(repeat(200, 10), repeat(429, 3)); !equalInts(codes, want) {
		t.Fatalf("after the failover %v, want %v", codes, want)
	}
	if keys, _ := replica.Do("keys", "*203.0.113.99*").([]any); len(keys) != 1 {
		t.Fatalf("the new primary holds %v, want the new client's counter", keys)
	}
}

// TestRedisCluster: three primaries; every key on the one slot of the
// hash tag; a Chatwoot login (three rules) decided in one round trip.
func TestRedisCluster(t *testing.T) {
	nodes := redistest.Cluster(t, 3)
	up := newUpstream(t)
	g := startGW(t, up.URL, fmt.Sprintf("store: {kind: redis, cluster_nodes: [%q, %q, %q], timeout: 1s}\n",
		nodes[0].Addr(), nodes[1].Addr(), nodes[2].Addr()), nil)
	waitWindowRoom(5*time.Minute, 10*time.Second)
	before := g.roundTrips()
	var codes []int
	for range 7 {
		code, _ := hit(t, "POST", g.URL+"/auth/sign_in", "192.0.2.77", `{"email":"agent@example.com","password":"x"}`)
		codes = append(codes, code)
	}
	if trips := g.roundTrips() - before; trips != 7 {
		t.Fatalf("%d round trips for 7 logins, want 7 (one each)", trips)
	}
	// The preset: 5 logins per IP per 5 minutes.
	if want := join(repeat(200, 5), repeat(429, 2)); !equalInts(codes, want) {
		t.Fatalf("logins %v, want %v", codes, want)
	}
	holders := 0
	for _, n := range nodes {
		if keys, _ := n.Do("keys", "{wootguard}:*").([]any); len(keys) > 0 {
			holders++
			if len(keys) < 3 {
				t.Fatalf("keys %v: want the ip, email and req/ip counters together", keys)
			}
		}
	}
	if holders != 1 {
		t.Fatalf("%d nodes hold wootguard keys, want 1 (one hash tag)", holders)
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
