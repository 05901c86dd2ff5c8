package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A store that cannot count its keys (Redis reports -1) is printed
// without a key count, not as "-1 keys".
func TestHealthStoreKeys(t *testing.T) {
	for _, tc := range []struct {
		name, body, want, notWant string
	}{
		{"unknown", `{"status":"ready","store":{"kind":"redis","healthy":true,"keys":-1,"detail":"connected to redis://127.0.0.1:6379/2"}}`,
			"store: redis, healthy, connected to redis://127.0.0.1:6379/2\n", "-1"},
		{"known", `{"status":"ready","store":{"kind":"memory","healthy":true,"keys":3,"detail":"in-process memory store"}}`,
			"store: memory, healthy, 3 keys, in-process memory store\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			env, out, errb := testEnv(nil)
			if code := run(context.Background(), env, []string{"health", "--admin", srv.URL}); code != 0 {
				t.Fatalf("exit %d: %s", code, errb)
			}
			if !strings.Contains(out.String(), tc.want) || (tc.notWant != "" && strings.Contains(out.String(), tc.notWant)) {
				t.Fatalf("health printed:\n%s\nwant a line %q", out, tc.want)
			}
		})
	}
}

// A ban's start names its time zone, so it can be compared with the
// gateway's (UTC) log lines.
func TestBansListSinceHasZone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"bans":[{"rule":"login-failures","type":"fail2ban","key":"192.0.2.66","since":"2026-12-02T07:09:33Z","seconds_left":3600}]}`))
	}))
	defer srv.Close()
	env, out, errb := testEnv(map[string]string{"WOOTGUARD_ADMIN_TOKEN": "t"})
	if code := run(context.Background(), env, []string{"bans", "list", "--admin", srv.URL}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	since := time.Date(2026, 12, 2, 7, 9, 33, 0, time.UTC).Local().Format("2006-01-02 15:04:05 MST")
	if !strings.Contains(out.String(), since) {
		t.Fatalf("bans list printed:\n%s\nwant %q", out, since)
	}
}
