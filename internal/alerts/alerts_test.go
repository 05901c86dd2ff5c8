package alerts_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/alerts"
	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// hook is a webhook receiver that records what it got; with hang set it
// never answers until released.
type hook struct {
	*httptest.Server
	mu       sync.Mutex
	got      []notify.Event
	failures int // answer 500 this many times first
	hang     chan struct{}
	arrived  chan struct{}
}

func newHook(t *testing.T) *hook {
	h := &hook{arrived: make(chan struct{}, 100)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e notify.Event
		json.NewDecoder(r.Body).Decode(&e)
		h.arrived <- struct{}{}
		if h.hang != nil {
			<-h.hang
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.failures > 0 {
			h.failures--
			w.WriteHeader(500)
			return
		}
		h.got = append(h.got, e)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) events() []notify.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]notify.Event(nil), h.got...)
}

type rig struct {
	gw      *httptest.Server
	alerter *alerts.Alerter
}

func newRig(t *testing.T, hookURL string, ac config.Alerts, stats func() (store.Stats, bool)) *rig {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth/sign_in":
			w.WriteHeader(401)
		case "/boom":
			w.WriteHeader(502)
		}
	}))
	t.Cleanup(up.Close)
	p := filepath.Join(t.TempDir(), "w.yaml")
	os.WriteFile(p, []byte(`
upstream: `+up.URL+`
preset: none
client_ip: {trusted_proxies: [127.0.0.1]}
fail2ban:
  - {name: login-failures, key: ip, match: {method: POST, path: /auth/sign_in}, failure: {status: [401]}, maxretry: 3, findtime: 10m, bantime: 1h}
throttles:
  - {name: req/ip, limit: 2, period: 1h, key: ip, match: {path: /x}}
`), 0o644)
	cfg, err := config.Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{SweepEvery: -1})
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts, _ := gateway.FromConfig(cfg, st, log)
	if ac.MinInterval == 0 {
		ac.MinInterval = rules.Duration(10 * time.Minute)
	}
	if ac.MaxPerHour == 0 {
		ac.MaxPerHour = 20
	}
	a := alerts.New(alerts.Options{Config: ac, Channels: []notify.Sender{&notify.Webhook{URL: hookURL}}, Stats: stats,
		PollEvery: 20 * time.Millisecond, Backoff: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}, Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	opts.Observer = a
	gw := httptest.NewServer(gateway.New(opts))
	t.Cleanup(gw.Close)
	return &rig{gw: gw, alerter: a}
}

func (r *rig) send(t *testing.T, method, path, ip string) int {
	req, _ := http.NewRequest(method, r.gw.URL+path, strings.NewReader("email=a@b.c"))
	req.Header.Set("X-Forwarded-For", ip)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// Each event arrives exactly once with the right payload, even when the
// webhook fails the first attempts; repeats are deduplicated.
func TestAlertsExactlyOncePerEvent(t *testing.T) {
	h := newHook(t)
	h.failures = 2
	r := newRig(t, h.URL, config.Alerts{Bans: &config.BanAlert{},
		Refusals: &config.RefusalAlert{Threshold: 3, Span: rules.Duration(time.Minute)},
		Upstream: &config.UpstreamAlert{Threshold: 1, Span: rules.Duration(time.Minute)}}, nil)
	for i := 0; i < 3; i++ {
		r.send(t, "POST", "/auth/sign_in", "192.0.2.66") // the third starts a ban
	}
	waitFor(t, "the ban alert", func() bool { return len(h.events()) == 1 })
	e := h.events()[0]
	if e.Kind != alerts.KindBan || e.Fields["rule"] != "login-failures" || e.Fields["key"] != "192.0.2.66" || e.Severity != "warning" {
		t.Fatalf("ban alert %+v", e)
	}
	// req/ip refuses 2 then 10 more: over the threshold of 3 once.
	for i := 0; i < 12; i++ {
		r.send(t, "GET", "/x", "198.51.100.1")
	}
	r.send(t, "GET", "/boom", "198.51.100.2")
	r.send(t, "GET", "/boom", "198.51.100.3")
	r.send(t, "GET", "/boom", "198.51.100.4")
	waitFor(t, "refusal and upstream alerts", func() bool { return len(h.events()) == 3 })
	time.Sleep(100 * time.Millisecond) // room for a duplicate to show up
	kinds := map[string]int{}
	for _, e := range h.events() {
		kinds[e.Kind]++
	}
	if kinds[alerts.KindBan] != 1 || kinds[alerts.KindRefusals] != 1 || kinds[alerts.KindUpstream] != 1 || len(h.events()) != 3 {
		t.Fatalf("alerts %v", kinds)
	}
}

// A webhook that never answers does not hold up requests: they all
// complete while its first delivery is still hanging, and alerts beyond
// the queue are dropped rather than waited for.
func TestHangingWebhookDoesNotSlowRequests(t *testing.T) {
	h := newHook(t)
	h.hang = make(chan struct{})
	defer close(h.hang)
	r := newRig(t, h.URL, config.Alerts{Bans: &config.BanAlert{}}, nil)
	for i := 0; i < 3; i++ {
		r.send(t, "POST", "/auth/sign_in", "192.0.2.1")
	}
	<-h.arrived // the first alert is now stuck in the webhook
	for i := 0; i < 300; i++ {
		ip := "10.0." + itoa(i/250) + "." + itoa(i%250+1)
		for j := 0; j < 3; j++ {
			r.send(t, "POST", "/auth/sign_in", ip) // a ban, and an alert, per address
		}
	}
	if r.alerter.Dropped() == 0 {
		t.Fatal("300 alerts behind a hanging webhook: some should have been dropped, not waited for")
	}
	if len(h.events()) != 0 {
		t.Fatal("the hanging webhook answered")
	}
}

func TestStoreFallbackAlert(t *testing.T) {
	h := newHook(t)
	var mu sync.Mutex
	st := store.Stats{Kind: "redis", Healthy: true}
	r := newRig(t, h.URL, config.Alerts{StoreFallback: true}, func() (store.Stats, bool) {
		mu.Lock()
		defer mu.Unlock()
		return st, true
	})
	_ = r
	time.Sleep(60 * time.Millisecond)
	if len(h.events()) != 0 {
		t.Fatal("alert while healthy")
	}
	mu.Lock()
	st.Fallbacks, st.Healthy, st.Detail = 5, false, "falling back: dial tcp 127.0.0.1:6379: connection refused"
	mu.Unlock()
	waitFor(t, "store alert", func() bool { return len(h.events()) == 1 })
	time.Sleep(100 * time.Millisecond)
	if e := h.events(); len(e) != 1 || e[0].Kind != alerts.KindStoreFallback || !strings.Contains(e[0].Text, "connection refused") {
		t.Fatalf("store alerts %+v", e)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
