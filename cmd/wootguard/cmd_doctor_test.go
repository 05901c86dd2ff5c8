package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// doctorChatwoot answers /health and /api as Chatwoot does.
func doctorChatwoot(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			io.WriteString(w, `{"status":"woot"}`)
		case "/api":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"version":"4.15.1","timestamp":"x","queue_services":"ok","data_services":"ok"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func startGateway(t *testing.T, upstream, extra string) *httptest.Server {
	t.Helper()
	p := filepath.Join(t.TempDir(), "w.yaml")
	os.WriteFile(p, []byte("upstream: "+upstream+"\n"+extra), 0o644)
	cfg, err := config.Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{MaxKeys: 1000})
	t.Cleanup(func() { st.Close() })
	opts, err := gateway.FromConfig(cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gateway.New(opts))
	t.Cleanup(srv.Close)
	return srv
}

func TestDoctor(t *testing.T) {
	cw := doctorChatwoot(t)
	tests := []struct {
		name, config string
		code         int
		want         []string
	}{
		{"proxy on this host trusted", "client_ip: {trusted_proxies: [127.0.0.1]}\n", 0,
			[]string{"ok    gateway", "ok    forwarding X-Forwarded-For from this host is read", "ok    bypass", "ok    version    Chatwoot 4.15.1 (from api)"}},
		{"no trusted proxy", "", 0,
			[]string{"!     forwarding X-Forwarded-For from this host is ignored: this host is the client, and a safelisted local one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := startGateway(t, cw.URL, tt.config)
			env, out, errb := testEnv(nil)
			code := run(context.Background(), env, []string{"doctor", "--chatwoot", cw.URL, "--gateway", gw.URL})
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out.String(), errb.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("missing %q in\n%s", w, out.String())
				}
			}
		})
	}
	t.Run("gateway down, chatwoot without version", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		env, out, _ := testEnv(nil)
		if code := run(context.Background(), env, []string{"doctor", "--chatwoot", dead.URL, "--gateway", dead.URL}); code != 1 ||
			!strings.Contains(out.String(), "FAIL  gateway") || !strings.Contains(out.String(), "FAIL  version") {
			t.Errorf("exit %d\n%s", code, out.String())
		}
	})
	env, _, _ := testEnv(nil)
	if code := run(context.Background(), env, []string{"doctor", "--gateway", "not a url"}); code != 2 {
		t.Errorf("bad --gateway: exit %d, want 2", code)
	}
}

func TestSameBucket(t *testing.T) {
	if !sameBucket(`"req/ip";r=2999;t=30`, `"req/ip";r=2998;t=30`) || sameBucket(`"req/ip";r=2999;t=30`, `"req/ip";r=2999;t=30`) {
		t.Error("sameBucket")
	}
}
