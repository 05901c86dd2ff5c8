package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// serving is one running `wootguard serve`.
type serving struct {
	addr   string
	cancel func()
	done   chan int
}

func startServe(t *testing.T, cfg string) *serving {
	t.Helper()
	env, _, errb := testEnv(nil)
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{cancel: cancel, done: make(chan int, 1)}
	go func() { s.done <- run(ctx, env, []string{"serve", "--config", cfg, "--listen", "127.0.0.1:0"}) }()
	s.addr = waitFor(t, errb, regexp.MustCompile(`listen=(127\.0\.0\.1:\d+)`))
	t.Cleanup(s.stop)
	return s
}

func (s *serving) stop() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
		s.cancel = nil
	}
}

func (s *serving) get(t *testing.T, path, ip string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.addr+path, nil)
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeBansSharedAndDurable: with Redis a ban set through one
// `serve` blocks the client on another and survives a restart; with the
// memory store and store.snapshot, it survives a restart too.
func TestServeBansSharedAndDurable(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	rules := "preset: none\nclient_ip: {trusted_proxies: [127.0.0.1]}\n" +
		"fail2ban: [{name: login, key: ip, maxretry: 2, findtime: 10m, bantime: 1h, match: {path: /auth/sign_in}}]\n"
	write := func(store string) string {
		p := filepath.Join(t.TempDir(), "w.yaml")
		if err := os.WriteFile(p, []byte("upstream: "+up.URL+"\n"+store+rules), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		cfg := write(fmt.Sprintf("store: {kind: redis, url: %q, timeout: 1s}\n", srv.URL()))
		a, b := startServe(t, cfg), startServe(t, cfg)
		a.get(t, "/auth/sign_in", "192.0.2.3")
		a.get(t, "/auth/sign_in", "192.0.2.3")
		if code := b.get(t, "/", "192.0.2.3"); code != 403 {
			t.Fatalf("the other gateway: %d, want 403 (shared ban)", code)
		}
		a.stop()
		a = startServe(t, cfg)
		if code := a.get(t, "/", "192.0.2.3"); code != 403 {
			t.Fatalf("after a restart: %d, want 403", code)
		}
		if code := a.get(t, "/", "192.0.2.4"); code != 200 {
			t.Fatalf("another client: %d", code)
		}
	})
	t.Run("memory snapshot", func(t *testing.T) {
		cfg := write(fmt.Sprintf("store: {snapshot: %q}\n", filepath.Join(t.TempDir(), "snap")))
		a := startServe(t, cfg)
		a.get(t, "/auth/sign_in", "192.0.2.3")
		a.get(t, "/auth/sign_in", "192.0.2.3")
		a.stop()
		a = startServe(t, cfg)
		if code := a.get(t, "/", "192.0.2.3"); code != 403 {
			t.Fatalf("after a restart: %d, want 403", code)
		}
	})
}
