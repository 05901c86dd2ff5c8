package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/admin"
	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/memory"
	"github.com/wootguard/wootguard/internal/telemetry"
)

// BenchmarkHotPathFullStore is HotPath's pass with the memory store full:
// store.max_keys (default 1,000,000) keys of an address spray held, each
// request evicting none (the client's key is there). gc-cpu-ns/op is what
// a full store costs the GC per proxied request; with serve's settings
// (docs/performance.md) run it as
//
//	GOGC=400 GOMEMLIMIT=155MiB go test ./internal/gateway -run '^$' -bench HotPathFullStore -benchmem
func BenchmarkHotPathFullStore(b *testing.B) {
	up := conversationsUpstream(b)
	path := filepath.Join(b.TempDir(), "wootguard.yaml")
	yaml := "upstream: " + up.URL + "\npreset: chatwoot\nclient_ip: {trusted_proxies: [127.0.0.1]}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"RACK_ATTACK_LIMIT": "1000000000"}
	cfg, err := config.Load(path, func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	st := memory.New(memory.Options{MaxKeys: cfg.MaxKeys, SweepEvery: -1})
	defer st.Close()
	now := time.Unix(1_800_000_030, 0)
	res := store.Result{Counts: make([]int64, 1), Banned: make([]bool, 1)}
	prog := make([]store.Op, 1)
	for i := range cfg.MaxKeys {
		key := "wootguard:30000000:req/ip:10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
		prog[0] = store.Op{Kind: store.OpThrottle, Key: key, TTL: time.Hour, Limit: 1 << 40, Class: store.ClassThrottle, Group: "req/ip"}
		st.Run(context.Background(), now, prog, &res)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts, err := gateway.FromConfig(cfg, st, log)
	if err != nil {
		b.Fatal(err)
	}
	opts.Now = func() time.Time { return now }
	opts.Observer = gateway.Observers{telemetry.New(telemetry.Sources{}), admin.NewActivity(nil)}
	gw := gateway.New(opts)
	benchServe(b, gw, func() *http.Request { return apiGet("203.0.113.7") }, http.StatusOK)
	b.ReportMetric(float64(st.Len()), "keys-held")
}
