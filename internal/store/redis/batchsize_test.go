package redis

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// manyThrottles is a decision with n fixed-window throttles on distinct
// keys: n key arguments after its record.
func manyThrottles(n int, unix int64) []store.Op {
	prog := make([]store.Op, n)
	for i := range prog {
		prog[i] = store.Op{Kind: store.OpThrottle, Key: "wootguard:" + strconv.FormatInt(unix/3600, 10) + ":t" + strconv.Itoa(i) + ":x",
			TTL: time.Hour, Limit: 1000, Period: 3600, WindowAt: len("wootguard:")}
	}
	return prog
}

// scriptCallArgs reads from Redis' slow log (everything logged) how many
// arguments each EVALSHA/EVAL carried: the log keeps the first 31 and
// then "... (N more arguments)".
func scriptCallArgs(t *testing.T, srv *redistest.Server) []int {
	t.Helper()
	var sizes []int
	for _, e := range srv.Do("slowlog", "get", "-1").([]any) {
		args := e.([]any)[3].([]any)
		name := strings.ToLower(args[0].(string))
		if name != "evalsha" && name != "eval" {
			continue
		}
		n := len(args)
		if last := args[len(args)-1].(string); strings.HasPrefix(last, "... (") {
			more, err := strconv.Atoi(strings.Fields(strings.TrimPrefix(last, "... ("))[0])
			if err != nil {
				t.Fatalf("slow log entry %q: %v", last, err)
			}
			n += more - 1
		}
		sizes = append(sizes, n-3) // less the command, the sha or script, and numkeys
	}
	return sizes
}

// TestBatchIsBoundedByArguments: a batch of many-operation decisions is
// cut at maxBatchArgs, so one script call cannot hold the Redis that
// Chatwoot shares for long; every decision is still counted once.
func TestBatchIsBoundedByArguments(t *testing.T) {
	srv := redistest.Start(t)
	srv.Do("config", "set", "slowlog-log-slower-than", "0")
	srv.Do("config", "set", "slowlog-max-len", "10000")
	s := openInternal(t, srv, false)
	const decisions, ops = 64, 20 // 21 arguments each: 12 fit a batch
	prog := manyThrottles(ops, time.Now().Unix())
	srv.Do("client", "pause", 300)
	var wg sync.WaitGroup
	errs := make([]error, decisions)
	for i := range decisions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &store.Result{Counts: make([]int64, ops), Banned: make([]bool, ops), Reset: make([]time.Duration, ops)}
			errs[i] = s.Run(context.Background(), time.Now(), prog, res)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sizes := scriptCallArgs(t, srv)
	batched := 0
	for _, n := range sizes {
		if n > maxBatchArgs {
			t.Fatalf("a script call carried %d arguments, want at most %d (calls: %v)", n, maxBatchArgs, sizes)
		}
		if n > ops+1 {
			batched++
		}
	}
	if batched == 0 {
		t.Fatalf("no call carried more than one decision (calls: %v): the test did not exercise batching", sizes)
	}
	for i := range ops {
		got := srv.Do("get", s.key(prog[i].Key))
		if v, _ := got.(string); !strings.HasPrefix(v, strconv.Itoa(decisions)+":") {
			t.Fatalf("key %d holds %v, want %d decisions counted", i, got, decisions)
		}
	}
}
