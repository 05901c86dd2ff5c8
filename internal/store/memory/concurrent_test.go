package memory

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// TestConcurrentRebuildsKeepCounts: goroutines count their own keys on
// two shards while others spray short-lived keys of many lengths, move the
// clock past them, and sweep (so shards are rebuilt smaller under the
// counters' feet), delete, reset, list bans, snapshot and read stats. Every
// owned counter must end exact, and the slab consistent (run it with
// -race).
func TestConcurrentRebuildsKeepCounts(t *testing.T) {
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	s := New(Options{MaxKeys: 1 << 20, Shards: 2, SweepEvery: time.Millisecond, Now: now})
	defer s.Close()
	ctx := context.Background()
	const counters, sprays = 6, 12
	var rounds atomic.Int64
	var hits [counters][7]int64
	var wg sync.WaitGroup
	for g := range counters {
		wg.Go(func() {
			res := newResult(2)
			for i := 0; rounds.Load() < sprays; i++ { // until the spray has been rebuilt away a few times
				hits[g][i%7]++
				key := fmt.Sprintf("own%d:%d", g, i%7)
				p := []store.Op{
					{Kind: store.OpThrottle, Key: key, TTL: 1000 * time.Hour, Limit: 1 << 40, Class: store.Class(g % 4), Group: "own"},
					{Kind: store.OpFailure, Key: "f" + key, TTL: 1000 * time.Hour, Limit: 1 << 40, BanKey: "ban" + key, BanTTL: time.Hour},
				}
				s.Run(ctx, now(), p, &res)
			}
		})
	}
	stop := make(chan struct{})
	var others sync.WaitGroup
	others.Go(func() { // the spray: many keys of one second, then their expiry
		res := newResult(1)
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			default:
			}
			for i := range 1000 {
				k := fmt.Sprintf("spray:%d:%d:%s", round, i, strings.Repeat("s", i%200))
				s.Run(ctx, now(), []store.Op{{Kind: store.OpCount, Key: k, TTL: time.Second, Class: store.ClassObserve, Group: "spray"}}, &res)
			}
			clock.Add(int64(2 * time.Second))
			s.Sweep(now())
			rounds.Add(1)
		}
	})
	others.Go(func() { // bans that come and go, deletes, resets of spray keys
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := fmt.Sprint("banned:", i%50)
			s.Fail(ctx, now(), store.Op{Kind: store.OpFailure, Key: "f" + k, TTL: time.Second, Limit: 1, BanKey: k, BanTTL: time.Second})
			s.Delete(ctx, k, fmt.Sprint("spray:", i))
			if i%20 == 0 {
				s.Reset(ctx, "spray:1")
			}
		}
	})
	others.Go(func() { // readers
		path := filepath.Join(t.TempDir(), "snap")
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s.Bans(ctx, now(), "")
			s.Stats()
			if i%50 == 0 {
				if err := s.SaveSnapshot(path); err != nil {
					t.Error(err)
				}
			}
			res := newResult(1)
			s.Peek(ctx, now(), []store.Op{{Kind: store.OpThrottle, Key: "own0:1", TTL: time.Hour}}, &res)
		}
	})
	wg.Wait()
	close(stop)
	others.Wait()
	s.Sweep(now())
	checkShards(t, s)
	for g := range counters {
		for j := range 7 {
			key := fmt.Sprintf("own%d:%d", g, j)
			want := hits[g][j]
			if got := s.get(key, clock.Load()); got != want {
				t.Errorf("%s = %d, want %d", key, got, want)
			}
			if got := s.get("f"+key, clock.Load()); got != want {
				t.Errorf("f%s = %d, want %d", key, got, want)
			}
		}
	}
}

// TestConcurrentEvictionKeepsTheSlabConsistent: the same mix on a store
// that evicts on nearly every insert.
func TestConcurrentEvictionKeepsTheSlabConsistent(t *testing.T) {
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	s := New(Options{MaxKeys: 200, Shards: 2, SweepEvery: time.Millisecond, Now: now})
	defer s.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			gen := newDiffGen(uint64(g), 500)
			res := newResult(12)
			for i := range 1500 {
				gen.now = clock.Load()
				p := gen.program()
				s.Run(ctx, now(), p, &res)
				switch i % 50 {
				case 0:
					clock.Add(int64(700 * time.Millisecond))
				case 1:
					s.Delete(ctx, gen.disc(), "t:"+gen.disc())
				case 2:
					s.Reset(ctx, "t:k1")
				case 3:
					s.Sweep(now())
				case 4:
					s.Bans(ctx, now(), "b:")
				}
			}
		})
	}
	wg.Wait()
	checkShards(t, s)
	if s.Len() > 200 {
		t.Fatalf("%d keys, bound 200", s.Len())
	}
}
