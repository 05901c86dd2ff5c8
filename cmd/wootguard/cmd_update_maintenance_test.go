package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestUpdateMaintenanceFindsTheFrontingGateway(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer upd-token-0123456789" {
			w.WriteHeader(401)
			return
		}
		if r.Method == "POST" {
			var b strings.Builder
			buf := make([]byte, 64)
			n, _ := r.Body.Read(buf)
			b.Write(buf[:n])
			mu.Lock()
			posts = append(posts, strings.TrimSpace(b.String()))
			mu.Unlock()
		}
		w.Write([]byte(`{"maintenance":false}`))
	}))
	defer gw.Close()
	dir := t.TempDir()
	write := func(name, token string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("preset: none\nadmin: {listen: "+strings.TrimPrefix(gw.URL, "http://")+", token: "+token+"}\n"), 0o644)
		return p
	}
	good, wrong := write("good.yaml", "upd-token-0123456789"), write("wrong.yaml", "other-token-0123456789")
	env, _, _ := testEnv(nil)
	set, err := updateMaintenance(env, "auto", good)
	if err != nil || set == nil {
		t.Fatalf("auto with the gateway answering: %v", err)
	}
	set(context.Background(), true)
	set(context.Background(), false)
	if strings.Join(posts, " ") != `{"on":true} {"on":false}` {
		t.Fatalf("posts %q", posts)
	}
	if set, err := updateMaintenance(env, "auto", wrong); set != nil || err != nil {
		t.Fatalf("a gateway refusing the token was used: %v", err)
	}
	if _, err := updateMaintenance(env, "on", wrong); err == nil {
		t.Fatal("--maintenance on without a gateway accepted")
	}
	if set, err := updateMaintenance(env, "off", good); set != nil || err != nil {
		t.Fatal("off used the gateway")
	}
	if _, err := updateMaintenance(env, "sometimes", good); err == nil {
		t.Fatal("bad mode accepted")
	}
}
