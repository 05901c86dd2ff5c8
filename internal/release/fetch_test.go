package release

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// clock is an injected, settable time.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newFetcher(t *testing.T, c *clock) *Fetcher {
	return &Fetcher{CacheDir: t.TempDir(), Backoff: time.Millisecond, Now: c.Now, Timeout: 5 * time.Second}
}

// feedServer serves body with an ETag and answers 304 to a matching
// If-None-Match; behaviour can be switched per test.
type feedServer struct {
	body     []byte
	etag     string
	mode     atomic.Value // "ok" | "down" | "html" | "truncated"
	requests atomic.Int32
	sawETag  atomic.Value // last If-None-Match
	sawAuth  atomic.Value
}

func (s *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.sawETag.Store(r.Header.Get("If-None-Match"))
	s.sawAuth.Store(r.Header.Get("Authorization"))
	switch s.mode.Load() {
	case "down":
		http.Error(w, "upstream exploded", http.StatusBadGateway)
		return
	case "html":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!DOCTYPE html><html><body>Sign in to continue</body></html>")
		return
	case "truncated":
		w.Write(s.body[:len(s.body)/3])
		return
	}
	if r.Header.Get("If-None-Match") == s.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", s.etag)
	w.Write(s.body)
}

func newFeedServer(t *testing.T, body []byte) (*feedServer, *httptest.Server) {
	fs := &feedServer{body: body, etag: `W/"abc123"`}
	fs.mode.Store("ok")
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	return fs, srv
}

func TestFetchETagAndCache(t *testing.T) {
	c := &clock{t: time.Date(2026, 6, 20, 10, 0, 0, 0, time.UTC)}
	fsrv, srv := newFeedServer(t, readTestdata(t, "chatwoot-releases.json"))
	f := newFetcher(t, c)
	ctx := context.Background()

	rs, doc, err := LoadReleases(ctx, f, srv.URL, false)
	if err != nil || len(rs) != 2 || doc.FromCache {
		t.Fatalf("first fetch: %v %+v %v", rs, doc, err)
	}
	if got := fsrv.sawETag.Load(); got != "" {
		t.Errorf("first request sent If-None-Match %q", got)
	}

	// Second fetch revalidates: 304, served from the cache, not stale.
	c.t = c.t.Add(time.Hour)
	rs, doc, err = LoadReleases(ctx, f, srv.URL, false)
	if err != nil || len(rs) != 2 || doc.FromCache || doc.Problem != nil {
		t.Fatalf("304 fetch: %v %+v %v", rs, doc, err)
	}
	if got := fsrv.sawETag.Load(); got != fsrv.etag {
		t.Errorf("If-None-Match = %q, want %q", got, fsrv.etag)
	}
	if !doc.FetchedAt.Equal(c.t) {
		t.Errorf("a 304 confirms the data: FetchedAt = %v, want %v", doc.FetchedAt, c.t)
	}

	// Feed down (502 on every retry): the cache is used and its age told.
	fsrv.mode.Store("down")
	before := fsrv.requests.Load()
	c.t = c.t.Add(3 * time.Hour)
	rs, doc, err = LoadReleases(ctx, f, srv.URL, false)
	if err != nil || len(rs) != 2 || !doc.FromCache {
		t.Fatalf("feed down: %v %+v %v", rs, doc, err)
	}
	if doc.Age(c.t) != 3*time.Hour || doc.Problem == nil || !strings.Contains(doc.Problem.Error(), "HTTP 502") {
		t.Errorf("age %v problem %v", doc.Age(c.t), doc.Problem)
	}
	if n := fsrv.requests.Load() - before; n != 3 {
		t.Errorf("5xx: %d attempts, want 3 (1 + 2 retries)", n)
	}

	// An HTML page or a truncated body is a failure, and must not replace
	// the good cached copy.
	for _, mode := range []string{"html", "truncated"} {
		fsrv.mode.Store(mode)
		_, doc, err = LoadReleases(ctx, f, srv.URL, false)
		if err != nil || !doc.FromCache || doc.Problem == nil {
			t.Fatalf("%s: %+v %v", mode, doc, err)
		}
	}
	fsrv.mode.Store("ok")
	if _, doc, err = LoadReleases(ctx, f, srv.URL, false); err != nil || doc.FromCache {
		t.Fatalf("recovered: %+v %v", doc, err)
	}
}

func TestFetchFailuresWithoutCache(t *testing.T) {
	good := readTestdata(t, "chatwoot-releases.json")
	rateLimited := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "1781953200") // 2026-06-20T11:00:00Z
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"API rate limit exceeded for 203.0.113.9."}`)
	})
	tooMany := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	forbidden := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"Resource not accessible by integration"}`)
	})
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	html := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html><head><title>Captive portal</title></head><body></body></html>")
	})
	truncated := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(good[:100]) })
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	var flaky atomic.Int32
	flakyThenOK := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if flaky.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write(good)
	})
	tests := []struct {
		name    string
		h       http.Handler
		timeout time.Duration
		wantErr []string
	}{
		{"403 rate limit", rateLimited, 0, []string{"rate limit exceeded (HTTP 403)", "resets at 2026-06-20T11:00:00Z (in 1h0m0s)", "set GITHUB_TOKEN"}},
		{"429", tooMany, 0, []string{"rate limit exceeded (HTTP 429)", "in 2m0s"}},
		{"403 not rate limit", forbidden, 0, []string{"HTTP 403 Forbidden: Resource not accessible"}},
		{"404", notFound, 0, []string{"HTTP 404 Not Found"}},
		{"HTML page", html, 0, []string{"HTML page instead of JSON"}},
		{"truncated", truncated, 0, []string{"truncated JSON"}},
		{"timeout", hang, 50 * time.Millisecond, []string{"no answer within 50ms (timeout)"}},
		{"503 then ok", flakyThenOK, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.h)
			defer srv.Close()
			c := &clock{t: time.Date(2026, 6, 20, 10, 0, 0, 0, time.UTC)}
			f := newFetcher(t, c)
			if tt.timeout > 0 {
				f.Timeout, f.Retries = tt.timeout, -1
			}
			rs, _, err := LoadReleases(context.Background(), f, srv.URL, false)
			if tt.wantErr == nil {
				if err != nil || len(rs) != 2 {
					t.Fatalf("want success after retries: %v %v", rs, err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestFetchRateLimitIsTyped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	_, err := (&Fetcher{Retries: -1}).Fetch(context.Background(), srv.URL, nil)
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Code != 429 {
		t.Errorf("want *RateLimitError, got %T %v", err, err)
	}
}

func TestFetchTokenOnlyToAllowedHosts(t *testing.T) {
	fsrv, srv := newFeedServer(t, readTestdata(t, "chatwoot-releases.json"))
	tests := []struct {
		hosts []string
		want  string
	}{
		{nil, ""}, // default: only GitHub's hosts get the token
		{[]string{"127.0.0.1"}, "Bearer s3cret"},
	}
	for _, tt := range tests {
		f := &Fetcher{Token: "s3cret", TokenHosts: tt.hosts}
		if _, err := f.Fetch(context.Background(), srv.URL, nil); err != nil {
			t.Fatal(err)
		}
		if got := fsrv.sawAuth.Load(); got != tt.want {
			t.Errorf("hosts %v: Authorization %q, want %q", tt.hosts, got, tt.want)
		}
	}
}

func TestFetchLocal(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"a.json": "[]", "b.json": "{}", "notes.txt": "x"} {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	f := &Fetcher{}
	doc, err := f.Fetch(context.Background(), dir, nil)
	if err != nil || len(doc.Files) != 2 || doc.FromCache {
		t.Fatalf("dir: %+v %v", doc, err)
	}
	tests := []struct{ src, wantErr string }{
		{filepath.Join(dir, "missing.json"), "does not exist"},
		{t.TempDir(), "no *.json files"},
		{"https://", "not valid"},
	}
	for _, tt := range tests {
		if _, err := f.Fetch(context.Background(), tt.src, nil); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want %q", tt.src, err, tt.wantErr)
		}
	}
	// A directory of OSV records through LoadOSV.
	osvDir := t.TempDir()
	os.WriteFile(filepath.Join(osvDir, "one.json"), readTestdata(t, "osv-chatwoot-cve.json"), 0o644)
	os.WriteFile(filepath.Join(osvDir, "list.json"), readTestdata(t, "osv-list.json"), 0o644)
	as, _, err := LoadOSV(context.Background(), f, osvDir)
	if err != nil || len(as) != 3 {
		t.Errorf("OSV dir: %d advisories, %v", len(as), err)
	}
	os.WriteFile(filepath.Join(osvDir, "zbroken.json"), []byte(`{"id":`), 0o644)
	if _, _, err := LoadOSV(context.Background(), f, osvDir); err == nil || !strings.Contains(err.Error(), "zbroken.json") {
		t.Errorf("broken file in dir: %v", err)
	}
}

func TestFetchConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := (&Fetcher{Retries: -1}).Fetch(context.Background(), url, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot connect") {
		t.Errorf("error = %v", err)
	}
}
