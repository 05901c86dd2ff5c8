package probe

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chatwoot is a test server shaped like Chatwoot: /api answers per apiMode,
// /app/login serves the real page shape (or loginStatus).
func chatwoot(t *testing.T, apiMode string, loginStatus int) *httptest.Server {
	t.Helper()
	login, err := os.ReadFile("testdata/login.html")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		switch apiMode {
		case "ok":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"version":"4.15.1","timestamp":"2026-06-20 10:00:00","queue_services":"ok","data_services":"failing"}`))
		case "html":
			w.Write([]byte("<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"))
		case "noversion":
			w.Write([]byte(`{"status":"woot"}`))
		case "500":
			http.Error(w, "We're sorry, but something went wrong.", http.StatusInternalServerError)
		case "hang":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	mux.HandleFunc("GET /app/login", func(w http.ResponseWriter, r *http.Request) {
		if loginStatus != http.StatusOK {
			w.WriteHeader(loginStatus)
			return
		}
		w.Write(login)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { close(release); srv.Close() })
	return srv
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name        string
		api         string
		loginStatus int
		timeout     time.Duration
		want        *Result
		wantErr     []string
	}{
		{name: "api", api: "ok", loginStatus: 200,
			want: &Result{Version: "4.15.1", QueueServices: "ok", DataServices: "failing", Source: "api"}},
		{name: "api answers HTML: login page", api: "html", loginStatus: 200,
			want: &Result{Version: "4.15.1", GitSHA: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", Source: "login-page"}},
		{name: "api 500: login page", api: "500", loginStatus: 200,
			want: &Result{Version: "4.15.1", GitSHA: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", Source: "login-page"}},
		{name: "api JSON without version: login page", api: "noversion", loginStatus: 200,
			want: &Result{Version: "4.15.1", GitSHA: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", Source: "login-page"}},
		{name: "both fail", api: "500", loginStatus: 503,
			wantErr: []string{"/api: HTTP 500 Internal Server Error", "/app/login: HTTP 503 Service Unavailable"}},
		{name: "not Chatwoot", api: "html", loginStatus: 404,
			wantErr: []string{"not Chatwoot's JSON", `body starts "<!DOCTYPE html>`, "HTTP 404"}},
		{name: "timeout", api: "hang", loginStatus: 200, timeout: 100 * time.Millisecond,
			wantErr: []string{"/api: no answer in time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := chatwoot(t, tt.api, tt.loginStatus)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			got, err := Probe(ctx, srv.URL+"/")
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, got %+v", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil || *got != *tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestProbeBadTargets(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct{ url, wantErr string }{
		{closed.URL, "cannot connect"},
		{"127.0.0.1:3000", "want http(s)://HOST[:PORT]"},
		{"ftp://example.com", "want http(s)"},
		{"", "want http(s)"},
	}
	for _, tt := range tests {
		_, err := Probe(context.Background(), tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Probe(%q) error = %v, want %q", tt.url, err, tt.wantErr)
		}
	}
	// HTTP status errors are typed for callers (smoke checks).
	srv := chatwoot(t, "500", 500)
	_, err := fromAPI(context.Background(), srv.URL)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 500 {
		t.Errorf("want *StatusError 500, got %v", err)
	}
}

func TestFromDir(t *testing.T) {
	const appYML = "shared: &shared\n  version: '4.15.1'\n\ndevelopment:\n  <<: *shared\n"
	tests := []struct {
		name    string
		files   map[string]string
		want    Result
		wantErr string
	}{
		{"VERSION_CW wins", map[string]string{"VERSION_CW": "4.15.1\n", "config/app.yml": "shared:\n  version: '4.14.0'\n"},
			Result{Version: "4.15.1", Source: "dir"}, ""},
		{"app.yml", map[string]string{"config/app.yml": appYML, ".git_sha": "deadbeef\n"},
			Result{Version: "4.15.1", GitSHA: "deadbeef", Source: "dir"}, ""},
		{"unquoted 4.10 stays 4.10", map[string]string{"config/app.yml": "shared:\n  version: 4.10\n"},
			Result{Version: "4.10", Source: "dir"}, ""},
		{"empty VERSION_CW falls back", map[string]string{"VERSION_CW": "\n", "config/app.yml": appYML},
			Result{Version: "4.15.1", Source: "dir"}, ""},
		{"nothing", map[string]string{"README.md": "hi"}, Result{}, "neither VERSION_CW nor config/app.yml"},
		{"no version key", map[string]string{"config/app.yml": "shared:\n  name: x\n"}, Result{}, "no shared.version"},
		{"bad YAML", map[string]string{"config/app.yml": "shared: [\n"}, Result{}, "not valid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tt.files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := FromDir(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || *got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	if _, err := FromDir(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("missing directory: no error")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := FromDir(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file: %v", err)
	}
}
