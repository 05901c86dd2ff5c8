package smoke

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeChatwoot answers like Chatwoot; fields change its behaviour.
type fakeChatwoot struct {
	mu           sync.Mutex
	version      string
	data         string
	apiHTML      bool // /api answers an HTML error page
	healthFailN  int  // first N /health requests get 503
	healthCalls  int
	widgetBody   string
	postStatusOK int
}

func (f *fakeChatwoot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/health":
		f.healthCalls++
		if f.healthCalls <= f.healthFailN {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"status":"woot"}`)
	case "/api":
		if f.apiHTML {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "<html>We're sorry, but something went wrong.</html>")
			return
		}
		fmt.Fprintf(w, `{"version":%q,"timestamp":"2026-11-23 20:00:00","queue_services":"ok","data_services":%q}`, f.version, f.data)
	case "/app/login":
		fmt.Fprintf(w, `<script>window.globalConfig = {"APP_VERSION":%q}</script>`, f.version)
	case "/widget":
		fmt.Fprint(w, f.widgetBody)
	case "/api/v1/webhook":
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.WriteHeader(f.postStatusOK)
	default:
		http.NotFound(w, r)
	}
}

func TestRun(t *testing.T) {
	fast := Config{Interval: 5 * time.Millisecond, Deadline: 300 * time.Millisecond, RequestTimeout: time.Second}
	custom := fast
	custom.Checks = []HTTPCheck{
		{Name: "widget", Path: "/widget", ExpectBody: "chatwoot-widget"},
		{Method: "post", Path: "/api/v1/webhook", ExpectStatus: 201},
	}
	tests := []struct {
		name       string
		srv        *fakeChatwoot
		want       string
		cfg        Config
		wantOK     bool
		failed     []string
		detail     string // in a failed check's detail
		healthTurn int    // expected attempts of /health
	}{
		{name: "healthy", srv: &fakeChatwoot{version: "4.15.1", data: "ok"}, want: "v4.15.1", cfg: fast, wantOK: true, healthTurn: 1},
		{name: "any version when none wanted", srv: &fakeChatwoot{version: "4.1.0", data: "ok"}, want: "", cfg: fast, wantOK: true, healthTurn: 1},
		{name: "boots slowly: retried until healthy", srv: &fakeChatwoot{version: "4.15.1", data: "ok", healthFailN: 3}, want: "4.15.1", cfg: fast, wantOK: true, healthTurn: 4},
		{name: "wrong version", srv: &fakeChatwoot{version: "4.14.0", data: "ok"}, want: "4.15.1", cfg: fast, failed: []string{"GET /api"}, detail: `version "4.14.0", want "4.15.1"`, healthTurn: 1},
		{name: "database failing", srv: &fakeChatwoot{version: "4.15.1", data: "failing"}, want: "4.15.1", cfg: fast, failed: []string{"GET /api"}, detail: `data_services "failing"`, healthTurn: 1},
		{name: "api error page", srv: &fakeChatwoot{version: "4.15.1", data: "ok", apiHTML: true}, want: "4.15.1", cfg: fast, failed: []string{"GET /api"}, detail: "did not answer with Chatwoot's JSON", healthTurn: 1},
		{name: "never healthy: the rest is not run", srv: &fakeChatwoot{version: "4.15.1", data: "ok", healthFailN: 1 << 30}, want: "4.15.1", cfg: custom, failed: []string{"GET /health", "GET /api", "GET /app/login", "widget", "POST /api/v1/webhook"}, detail: "status 503, want 200", healthTurn: -1},
		{name: "operator checks pass", srv: &fakeChatwoot{version: "4.15.1", data: "ok", widgetBody: "<div id=chatwoot-widget>", postStatusOK: 201}, want: "4.15.1", cfg: custom, wantOK: true, healthTurn: 1},
		{name: "operator checks fail", srv: &fakeChatwoot{version: "4.15.1", data: "ok", widgetBody: "maintenance", postStatusOK: 500}, want: "4.15.1", cfg: custom, failed: []string{"widget", "POST /api/v1/webhook"}, detail: `body does not contain "chatwoot-widget"`, healthTurn: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tc.srv)
			defer srv.Close()
			rep := Run(context.Background(), srv.URL+"/", tc.want, tc.cfg)
			if rep.OK != tc.wantOK {
				t.Errorf("OK = %v, want %v: %+v", rep.OK, tc.wantOK, rep)
			}
			if got := strings.Join(rep.Failed(), ","); got != strings.Join(tc.failed, ",") {
				t.Errorf("failed = %q, want %q", got, strings.Join(tc.failed, ","))
			}
			if n := 3 + len(tc.cfg.Checks); len(rep.Results) != n {
				t.Errorf("%d results, want %d", len(rep.Results), n)
			}
			if tc.detail != "" {
				var found bool
				for _, r := range rep.Results {
					found = found || (!r.OK && strings.Contains(r.Detail, tc.detail))
				}
				if !found {
					t.Errorf("no failed check says %q: %+v", tc.detail, rep.Results)
				}
			}
			h := rep.Results[0]
			switch {
			case tc.healthTurn > 0 && h.Attempts != tc.healthTurn:
				t.Errorf("/health attempts = %d, want %d", h.Attempts, tc.healthTurn)
			case tc.healthTurn < 0 && (h.Attempts < 2 || !strings.Contains(h.Detail, "gave up after")):
				t.Errorf("/health should have been retried until the deadline: %+v", h)
			}
		})
	}
}

func TestRunUnreachableAndCancelled(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := Run(ctx, url, "4.15.1", Config{Interval: time.Hour, Deadline: time.Hour})
	if rep.OK || len(rep.Failed()) != 3 {
		t.Fatalf("report = %+v, want all three failed", rep)
	}
	if h := rep.Results[0]; h.Attempts != 1 {
		t.Errorf("/health: %d attempts after cancel, want 1", h.Attempts)
	}
	for _, r := range rep.Results[1:] {
		if r.Attempts != 0 || !strings.Contains(r.Detail, "not run") {
			t.Errorf("%s after /health failed: %+v, want not run", r.Name, r)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{Interval: -1}, "must not be negative"},
		{Config{Checks: []HTTPCheck{{Path: "health"}}}, "path must start with /"},
		{Config{Checks: []HTTPCheck{{Path: "/x", ExpectStatus: 42}}}, "not an HTTP status"},
		{Config{Checks: []HTTPCheck{{Path: "/x", Method: "FETCH"}}}, "unknown method"},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func BenchmarkRunHealthy(b *testing.B) {
	srv := httptest.NewServer(&fakeChatwoot{version: "4.15.1", data: "ok"})
	defer srv.Close()
	for b.Loop() {
		if rep := Run(context.Background(), srv.URL, "4.15.1", Config{}); !rep.OK {
			b.Fatal(rep)
		}
	}
}
