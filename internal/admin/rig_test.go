package admin_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wootguard/wootguard/internal/admin"
	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/memory"
	"github.com/wootguard/wootguard/internal/telemetry"
)

const token = "test-token-0123456789"

// rig is a gateway in front of a stand-in Chatwoot (401 on a login
// without "good-password"), with its admin listener, both on loopback.
type rig struct {
	t       *testing.T
	gw      *httptest.Server
	admin   *httptest.Server
	gateway *gateway.Gateway
	metrics *telemetry.Metrics
	logs    *syncBuffer
	cfgPath string
	reloads int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const rigRules = `
preset: none
client_ip: {trusted_proxies: [127.0.0.1]}
fail2ban:
  - {name: login-failures, key: ip, match: {method: POST, path: /auth/sign_in}, failure: {status: [401]}, maxretry: 3, findtime: 10m, bantime: 1h}
throttles:
  - {name: req/ip, limit: 5, period: 1h, key: ip}
  - {name: login/email, limit: 100, period: 1h, key: param:email, match: {method: POST, path: /auth/sign_in}}
`

func newRig(t *testing.T) *rig { return newRigOn(t, nil) }

// newRigOn is newRig counting in st (nil: a memory store).
func newRigOn(t *testing.T, st store.Store) *rig {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/auth/sign_in" && !bytes.Contains(body, []byte("good-password")) {
			w.WriteHeader(http.StatusUnauthorized)
		}
		io.WriteString(w, "chatwoot\n")
	}))
	t.Cleanup(up.Close)
	r := &rig{t: t, logs: &syncBuffer{}}
	r.cfgPath = filepath.Join(t.TempDir(), "wootguard.yaml")
	r.writeConfig(rigRules)
	cfg, err := config.Load(r.cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Upstream, _ = config.ParseUpstream(up.URL)
	if st == nil {
		st = memory.New(memory.Options{SweepEvery: -1})
		t.Cleanup(func() { st.Close() })
	}
	log := slog.New(slog.NewJSONHandler(r.logs, nil))
	opts, err := gateway.FromConfig(cfg, st, log)
	if err != nil {
		t.Fatal(err)
	}
	activity := admin.NewActivity(nil)
	var srv *admin.Server
	r.metrics = telemetry.New(telemetry.Sources{Stats: nil, Bans: func() map[string]int { return srv.BansByRule() }})
	opts.Observer = gateway.Observers{r.metrics, activity}
	r.gateway = gateway.New(opts)
	running := cfg
	srv = admin.New(admin.Options{Token: token, Gateway: r.gateway, Activity: activity, Metrics: r.metrics.Handler(), Logger: log,
		Rules: func() []rules.Row { return rules.Describe(running.Spec) },
		Reload: func() error {
			next, err := config.Load(r.cfgPath, func(string) string { return "" })
			if err != nil {
				return err
			}
			next.Upstream = cfg.Upstream
			o, err := gateway.FromConfig(next, st, log)
			if err != nil {
				return err
			}
			r.gateway.Swap(o)
			running = next
			r.reloads++
			return nil
		}})
	r.gw = httptest.NewServer(r.gateway)
	r.admin = httptest.NewServer(srv)
	t.Cleanup(r.gw.Close)
	t.Cleanup(r.admin.Close)
	return r
}

func (r *rig) writeConfig(body string) {
	if err := os.WriteFile(r.cfgPath, []byte(body), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// send makes one request through the gateway as client ip.
func (r *rig) send(method, path, ip, body string) int {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.gw.URL+path, strings.NewReader(body))
	req.Header.Set("X-Forwarded-For", ip)
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// api calls the admin API with tok ("" for none) and decodes JSON into out.
func (r *rig) api(method, path, tok, body string, out any) int {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.admin.URL+path, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil && resp.StatusCode < 300 {
			r.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

func jsonEncoder(w io.Writer) *json.Encoder { return json.NewEncoder(w) }
