package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// serveArgsEnv makes this test binary a `wootguard serve` process (see
// TestHelperServeProcess), so a test can run several real processes.
const serveArgsEnv = "WOOTGUARD_TEST_SERVE_CONFIG"

// TestHelperServeProcess is not a test: it is `wootguard serve --config
// $WOOTGUARD_TEST_SERVE_CONFIG` when the variable is set (in a process
// started by TestThreeServeProcessesOnOneRedis), and skips otherwise.
func TestHelperServeProcess(t *testing.T) {
	cfg := os.Getenv(serveArgsEnv)
	if cfg == "" {
		t.Skip("helper process only")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	env := &cliEnv{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	os.Exit(run(ctx, env, []string{"serve", "--config", cfg, "--listen", "127.0.0.1:0"}))
}

// TestThreeServeProcessesOnOneRedis: three `wootguard serve` processes on
// one Redis, concurrent clients spread over them: exactly the limit
// passes, for each algorithm.
func TestThreeServeProcessesOnOneRedis(t *testing.T) {
	srv := redistest.Start(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	for _, algo := range []string{"fixed-window", "sliding-window", "gcra"} {
		t.Run(algo, func(t *testing.T) {
			srv.Do("flushall")
			cfg := filepath.Join(t.TempDir(), "w.yaml")
			os.WriteFile(cfg, []byte(fmt.Sprintf("upstream: %s\npreset: none\nclient_ip: {trusted_proxies: [127.0.0.1]}\n"+
				"store: {kind: redis, url: %q, timeout: 1s}\nthrottles: [{name: shared, limit: 10, period: 1h, key: ip, algorithm: %s}]\n",
				up.URL, srv.URL(), algo)), 0o644)
			var addrs []string
			for range 3 {
				addrs = append(addrs, startServeProcess(t, cfg))
			}
			for time.Hour-time.Duration(time.Now().UnixNano())%time.Hour < 10*time.Second {
				time.Sleep(100 * time.Millisecond)
			}
			var mu sync.Mutex
			got := map[int]int{}
			var wg sync.WaitGroup
			for w := range 9 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 10 {
						req, _ := http.NewRequest("GET", "http://"+addrs[(w+i)%3]+"/x", nil)
						req.Header.Set("X-Forwarded-For", "192.0.2.200")
						code := 0
						if resp, err := http.DefaultClient.Do(req); err == nil {
							code = resp.StatusCode
							resp.Body.Close()
						}
						mu.Lock()
						got[code]++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if got[200] != 10 || got[429] != 80 {
				t.Fatalf("statuses %v: want exactly 10 of 90 admitted across three processes", got)
			}
		})
	}
}

// startServeProcess runs this test binary as `wootguard serve` and
// returns its listen address; the process is killed with the test.
func startServeProcess(t *testing.T, cfg string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestHelperServeProcess$")
	cmd.Env = append(os.Environ(), serveArgsEnv+"="+cfg)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listen=(127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default: // keep draining: a full pipe would block the process
				}
			}
		}
	}()
	select {
	case a := <-addr:
		return a
	case <-time.After(20 * time.Second):
		t.Fatal("serve process did not start")
		return ""
	}
}
