package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// upstream is a stand-in Chatwoot: it answers with the status asked for in
// X-Test-Status (default 200) and remembers what it received.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	last *http.Request
	body []byte
	hits atomic.Int64
}

func newUpstream(t testing.TB) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.last, u.body = r.Clone(r.Context()), body
		u.mu.Unlock()
		u.hits.Add(1)
		status := 200
		if s := r.Header.Get("X-Test-Status"); s != "" {
			status, _ = strconv.Atoi(s)
		}
		w.WriteHeader(status)
		io.WriteString(w, "upstream says hi\n")
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) lastRequest() (*http.Request, []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last, u.body
}

// clock is a settable time source for the gateway.
type clock struct{ unix atomic.Int64 }

func (c *clock) now() time.Time { return time.Unix(c.unix.Load(), 0) }
func (c *clock) set(unix int64) { c.unix.Store(unix) }
func (c *clock) add(d int64)    { c.unix.Add(d) }

// rig is a running gateway in front of an upstream, built from YAML.
type rig struct {
	t     *testing.T
	gw    *httptest.Server
	up    *upstream
	clock *clock
	logs  *syncBuffer
	store *memory.Store
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

// lines returns the JSON log records written so far.
func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// newRig starts upstream and gateway. yaml is the config body (upstream is
// filled in); env is the process environment for the preset. The rig
// trusts 127.0.0.1 as a proxy, so tests pick client IPs with
// X-Forwarded-For.
func newRig(t *testing.T, yaml string, env map[string]string) *rig {
	t.Helper()
	up := newUpstream(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "wootguard.yaml")
	body := "upstream: " + up.URL + "\n" + yaml
	if !strings.Contains(yaml, "trusted_proxies") {
		body += "\nclient_ip: {trusted_proxies: [127.0.0.1]}\n"
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v\n%s", err, body)
	}
	r := &rig{t: t, up: up, clock: &clock{}, logs: &syncBuffer{}}
	r.clock.set(1_800_000_000) // 2027-01-15, a multiple of 60, 300, 3600
	r.store = memory.New(memory.Options{MaxKeys: 10000, SweepEvery: -1})
	t.Cleanup(func() { r.store.Close() })
	log := slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts, err := gateway.FromConfig(cfg, rigStore(t, r.store), log)
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = r.clock.now
	r.gw = httptest.NewServer(gateway.New(opts))
	t.Cleanup(r.gw.Close)
	return r
}

// req describes one request through the rig.
type req struct {
	method, path string
	ip           string // X-Forwarded-For (client address)
	form         url.Values
	json         string
	header       map[string]string
	status       string // what the upstream should answer
}

func (r *rig) do(q req) *http.Response {
	r.t.Helper()
	method := q.method
	if method == "" {
		method = "GET"
	}
	var body io.Reader
	ct := ""
	switch {
	case q.form != nil:
		body, ct = strings.NewReader(q.form.Encode()), "application/x-www-form-urlencoded"
	case q.json != "":
		body, ct = strings.NewReader(q.json), "application/json"
	}
	hr, err := http.NewRequest(method, r.gw.URL+q.path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if q.ip != "" {
		hr.Header.Set("X-Forwarded-For", q.ip)
	}
	if q.status != "" {
		hr.Header.Set("X-Test-Status", q.status)
	}
	for k, v := range q.header {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		r.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// statuses sends q n times and returns the status codes.
func (r *rig) statuses(q req, n int) []int {
	r.t.Helper()
	out := make([]int, n)
	for i := range out {
		out[i] = r.do(q).StatusCode
	}
	return out
}

func codes(cs ...int) []int { return cs }

func repeat(code, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = code
	}
	return out
}

func join(parts ...[]int) []int {
	var out []int
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
