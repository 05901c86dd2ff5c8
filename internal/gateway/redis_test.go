package gateway_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/memory"
	"github.com/wootguard/wootguard/internal/store/redis"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// rigRedisEnv names the Redis the rig counts in instead of memory: set by
// TestRedisConformanceSuite for the test binary it runs again.
const rigRedisEnv = "WOOTGUARD_TEST_RIG_REDIS"

// rigStore is the rig's store: mem, or a Redis store (emptied first, with
// the rig's injected clock) when rigRedisEnv is set.
func rigStore(t *testing.T, mem *memory.Store) store.Store {
	addr := os.Getenv(rigRedisEnv)
	if addr == "" {
		return mem
	}
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	st, err := redis.New(redis.Options{Client: c, Timeout: time.Second, OnError: redis.OnErrorDeny, CallerClock: true, Detail: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestRedisConformanceSuite runs the whole Rack::Attack conformance suite
// (every TestConformance*, and the preset's tests) unchanged on the Redis store: this test binary
// again, with the rig pointed at a real Redis. on_error is deny there, so
// a Redis failure fails the suite instead of being papered over.
func TestRedisConformanceSuite(t *testing.T) {
	if os.Getenv(rigRedisEnv) != "" {
		t.Skip("already the inner run")
	}
	srv := redistest.Start(t)
	// The conformance suite, the preset's tests and the bypass tests that
	// do not look inside the memory store.
	cmd := exec.Command(os.Args[0], "-test.run", "^(TestConformance|TestAlgorithm|TestChatwootPreset|TestDryRun|TestBodyParams|TestMethodOverride)",
		"-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), rigRedisEnv+"="+srv.Addr())
	out, err := cmd.CombinedOutput()
	passed := len(regexp.MustCompile(`(?m)^--- PASS: TestConformance`).FindAll(out, -1))
	for _, must := range []string{"TestAlgorithmSlidingWindow", "TestAlgorithmGCRA", "TestChatwootPresetEveryRuleFires"} {
		if !strings.Contains(string(out), "--- PASS: "+must) {
			t.Errorf("%s did not pass on Redis", must)
		}
	}
	if err != nil || passed < 15 || strings.Contains(string(out), "--- FAIL") {
		t.Fatalf("conformance suite on Redis: %v, %d passed\n%s", err, passed, out)
	}
	t.Logf("%d conformance tests passed on Redis", passed)
}
