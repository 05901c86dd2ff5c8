package replay

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// The same traffic through the live gateway (injected clock, real HTTP,
// a stand-in upstream answering the generated statuses) and through
// replay (the log the gateway's answers make) gets the same decision,
// request by request.
func TestReplayMatchesLiveGateway(t *testing.T) {
	for name, yaml := range map[string]string{
		"test rules":      trafficConfig,
		"chatwoot preset": "client_ip: {trusted_proxies: [127.0.0.1]}\nthrottles: [{name: login/ip, limit: 5, period: 5m, key: ip, match: {method: POST, path: /auth/sign_in}}, {name: req/ip, limit: 100, period: 1m, key: ip}]\n",
	} {
		t.Run(name, func(t *testing.T) { matchGateway(t, yaml) })
	}
}

func matchGateway(t *testing.T, yaml string) {
	reqs := traffic(14)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		st, _ := strconv.Atoi(r.Header.Get("X-Test-Status"))
		w.WriteHeader(st)
	}))
	defer up.Close()
	cfg := loadConfig(t, "upstream: "+up.URL+"\n"+yaml)
	var now atomic.Int64
	st := memory.New(memory.Options{MaxKeys: 100000, SweepEvery: -1})
	defer st.Close()
	opts, err := gateway.FromConfig(cfg.Gateway, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = func() time.Time { return time.Unix(now.Load(), 0) }
	gw := httptest.NewServer(gateway.New(opts))
	defer gw.Close()

	client := gw.Client()
	live := make([]rules.Action, len(reqs))
	logged := make([]tReq, len(reqs))
	for i, r := range reqs {
		now.Store(r.t)
		hr, _ := http.NewRequest(r.method, gw.URL+r.uri, nil)
		hr.Header.Set("X-Forwarded-For", r.ip) // the gateway trusts 127.0.0.1, as the config says
		hr.Header.Set("X-Test-Status", strconv.Itoa(r.status))
		resp, err := client.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			live[i] = rules.ActionThrottle
		case http.StatusForbidden:
			live[i] = rules.ActionBlock
		}
		logged[i] = r
		logged[i].status = resp.StatusCode // what an access log in front of the gateway records
	}
	var refusals int
	for _, a := range live {
		if a != rules.ActionPass {
			refusals++
		}
	}
	if refusals < 100 {
		t.Fatalf("the gateway refused only %d requests: the scenario does not test much", refusals)
	}

	var replayed []rules.Action
	_, err = Run(context.Background(), []Config{cfg}, []Source{{Name: writeLog(t, "access.log", writeCombined(logged, true))}},
		Options{OnDecision: func(_ int, _ *Record, d rules.Decision) { replayed = append(replayed, d.Action) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(replayed) != len(live) {
		t.Fatalf("replay decided %d requests, the gateway %d", len(replayed), len(live))
	}
	diffs := 0
	for i := range live {
		if live[i] != replayed[i] {
			if diffs++; diffs <= 5 {
				t.Errorf("request %d (%s %s from %s at +%ds): gateway %v, replay %v", i, reqs[i].method, reqs[i].uri, reqs[i].ip, reqs[i].t-t0, live[i], replayed[i])
			}
		}
	}
	if diffs > 0 {
		t.Errorf("%d of %d decisions differ", diffs, len(live))
	}
}
