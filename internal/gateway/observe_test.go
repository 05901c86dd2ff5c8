package gateway_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store/memory"
)

type collector struct {
	mu   sync.Mutex
	recs []gateway.Record
}

func (c *collector) Observe(rec *gateway.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *rec
	cp.Events = append(cp.Events[:0:0], rec.Events...)
	c.recs = append(c.recs, cp)
}

func (c *collector) last() gateway.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recs[len(c.recs)-1]
}

// Every request reaches the observer once, with the decision, the rule,
// the status and size actually written, and the upstream's part.
func TestObserverSeesEveryRequest(t *testing.T) {
	up := newUpstream(t)
	p := filepath.Join(t.TempDir(), "w.yaml")
	os.WriteFile(p, []byte("upstream: "+up.URL+"\npreset: none\nclient_ip: {trusted_proxies: [127.0.0.1]}\nbody_limit: 8\n"+
		"throttles: [{name: t, limit: 1, period: 1h, key: ip, match: {path: /t}}, {name: e, limit: 5, period: 1h, key: param:email, match: {path: /e}}]\n"+
		"fail2ban: [{name: f, key: ip, match: {path: /login}, failure: {status: [401]}, maxretry: 1, findtime: 1h, bantime: 1h}]\n"), 0o644)
	cfg, err := config.Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{SweepEvery: -1})
	defer st.Close()
	opts, _ := gateway.FromConfig(cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := &collector{}
	opts.Observer = c
	g := gateway.New(opts)
	srv := httptest.NewServer(g)
	defer srv.Close()
	do := func(method, path, ip, body, status string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("X-Forwarded-For", ip)
		req.Header.Set("User-Agent", "probe/1")
		if status != "" {
			req.Header.Set("X-Test-Status", status)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	do("GET", "/t?q=1", "192.0.2.1", "", "")
	if r := c.last(); r.Decision != "pass" || r.Status != 200 || r.Bytes != int64(len("upstream says hi\n")) || !r.Forwarded ||
		r.UpstreamStatus != 200 || r.URI != "/t?q=1" || r.Client.String() != "192.0.2.1" || r.UA != "probe/1" || r.Method != "GET" {
		t.Fatalf("pass %+v", r)
	}
	do("GET", "/t", "192.0.2.1", "", "")
	if r := c.last(); r.Decision != "throttle" || r.Rule != "t" || r.Status != 429 || r.Forwarded || r.Key != "192.0.2.1" {
		t.Fatalf("throttle %+v", r)
	}
	do("POST", "/login", "192.0.2.2", "", "401")
	if r := c.last(); r.Decision != "pass" || r.Status != 401 || len(r.Events) != 1 || !r.Events[0].BanStarted {
		t.Fatalf("ban started by the answer %+v", r)
	}
	do("GET", "/x", "192.0.2.2", "", "")
	if r := c.last(); r.Decision != "ban" || r.Rule != "f" || r.Status != 403 {
		t.Fatalf("ban %+v", r)
	}
	do("POST", "/e", "192.0.2.3", "email=0123456789", "")
	if r := c.last(); r.Decision != "block" || r.Rule != gateway.RuleBodyLimit || r.Status != 413 {
		t.Fatalf("413 %+v", r)
	}
	g.SetMaintenance(true)
	do("GET", "/t", "192.0.2.4", "", "")
	if r := c.last(); r.Decision != "block" || r.Rule != gateway.RuleMaintenance || r.Status != 503 || r.Forwarded {
		t.Fatalf("maintenance %+v", r)
	}
	g.SetMaintenance(false)
	up.Close() // Chatwoot down
	do("GET", "/y", "192.0.2.5", "", "")
	if r := c.last(); r.Decision != "pass" || r.Status != 502 || !r.UpstreamError || !r.Forwarded {
		t.Fatalf("502 %+v", r)
	}
	if len(c.recs) != 7 {
		t.Fatalf("%d records for 7 requests", len(c.recs))
	}
}

// A request refused by the gateway's own limits is recorded as what the
// client got: 429 from the in-flight cap is a throttle by "limits".
func TestObserverRecordsLimitRefusals(t *testing.T) {
	hold := make(chan struct{})
	var entered sync.WaitGroup
	entered.Add(1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered.Done()
		<-hold
	}))
	defer up.Close()
	p := filepath.Join(t.TempDir(), "w.yaml")
	os.WriteFile(p, []byte("upstream: "+up.URL+"\npreset: none\nclient_ip: {trusted_proxies: [127.0.0.1]}\nlimits: {connections_per_client: 1}\n"), 0o644)
	cfg, err := config.Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{SweepEvery: -1})
	defer st.Close()
	opts, _ := gateway.FromConfig(cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := &collector{}
	opts.Observer = c
	srv := httptest.NewServer(gateway.New(opts))
	defer srv.Close()
	get := func() int {
		req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
		req.Header.Set("X-Forwarded-For", "192.0.2.9")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	first := make(chan int, 1)
	go func() { first <- get() }()
	entered.Wait() // the first request is in flight
	if got := get(); got != 429 {
		t.Fatalf("second request in flight: %d, want 429", got)
	}
	if r := c.last(); r.Decision != gateway.DecisionThrottle || r.Rule != gateway.RuleClientLimit || r.Status != 429 || r.Forwarded {
		t.Fatalf("limit refusal recorded as %+v", r)
	}
	close(hold)
	if got := <-first; got != 200 {
		t.Fatalf("first request %d", got)
	}
}
