// Package redistest starts real redis-server and redis-sentinel processes
// on free 127.0.0.1 ports in a test's temporary directory (the binaries
// come from WOOTGUARD_TEST_REDIS_SERVER / _SENTINEL, which
// scripts/services/redis.sh exports). Tests can stop, restart and
// reconfigure them.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wootguard/wootguard/internal/testsvc"
)

// Server is one running redis-server (or redis-sentinel).
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	Port int
	args []string
	cmd  *exec.Cmd
}

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is redis://127.0.0.1:PORT/0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// FreePort returns a TCP port nothing listens on.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs redis-server with extra config lines ("maxmemory 1mb").
func Start(t testing.TB, conf ...string) *Server {
	t.Helper()
	bin := testsvc.Env(t, "WOOTGUARD_TEST_REDIS_SERVER", "redis-server")
	return start(t, bin, conf)
}

// StartSentinel runs redis-sentinel watching the primary at addr as
// master name, with quick failure detection.
func StartSentinel(t testing.TB, name, primary string) *Server {
	t.Helper()
	bin := testsvc.Env(t, "WOOTGUARD_TEST_REDIS_SENTINEL", "redis-sentinel")
	host, port, _ := net.SplitHostPort(primary)
	return start(t, bin, []string{
		fmt.Sprintf("sentinel monitor %s %s %s 1", name, host, port),
		fmt.Sprintf("sentinel down-after-milliseconds %s 1000", name),
		fmt.Sprintf("sentinel failover-timeout %s 5000", name),
		"sentinel resolve-hostnames no",
	})
}

func start(t testing.TB, bin string, conf []string) *Server {
	t.Helper()
	dir, err := os.MkdirTemp(t.TempDir(), "redis")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: bin, dir: dir, Port: FreePort(t)}
	lines := append([]string{"bind 127.0.0.1", "port " + strconv.Itoa(s.Port), "dir " + dir,
		`save ""`, "appendonly no", "protected-mode no", "daemonize no", "logfile " + filepath.Join(dir, "log")}, conf...)
	if err := os.WriteFile(filepath.Join(dir, "redis.conf"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Restart starts the server again on the same port (after Stop).
func (s *Server) Restart() {
	s.t.Helper()
	args := []string{filepath.Join(s.dir, "redis.conf")}
	if strings.HasSuffix(s.bin, "sentinel") {
		args = append(args, "--sentinel")
	}
	s.cmd = exec.Command(s.bin, args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.bin, err)
	}
	for range 100 {
		c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
	s.t.Fatalf("%s did not listen on %s:\n%s", s.bin, s.Addr(), log)
}

// Stop kills the server (SIGKILL: a crash, not a shutdown).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Client is a plain client to this server, closed with the test.
func (s *Server) Client() *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr(), MaxRetries: -1})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// Do runs one command and fails the test on error.
func (s *Server) Do(args ...any) any {
	s.t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer c.Close()
	v, err := c.Do(context.Background(), args...).Result()
	if err != nil && err != goredis.Nil {
		s.t.Fatalf("redis %v: %v", args, err)
	}
	return v
}

// Cluster starts n primaries with cluster mode on and joins them
// (CLUSTER ADDSLOTSRANGE and MEET), waiting until the cluster is ok.
func Cluster(t testing.TB, n int) []*Server {
	t.Helper()
	nodes := make([]*Server, n)
	for i := range nodes {
		nodes[i] = Start(t, "cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 2000")
	}
	per := 16384 / n
	for i, s := range nodes {
		lo, hi := i*per, (i+1)*per-1
		if i == n-1 {
			hi = 16383
		}
		s.Do("cluster", "addslotsrange", lo, hi)
		if i > 0 {
			s.Do("cluster", "meet", "127.0.0.1", nodes[0].Port)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		ok := true
		for _, s := range nodes {
			info, _ := s.Do("cluster", "info").(string)
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(n)) {
				ok = false
			}
		}
		if ok {
			return nodes
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("redis cluster did not become ok")
	return nil
}
