package telemetry_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/admin"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/telemetry"
)

// What the default observers (metrics and the dashboard's activity) add
// to one forwarded request.
func BenchmarkObserveDefault(b *testing.B) {
	m := telemetry.New(telemetry.Sources{})
	obs := gateway.Observers{m, admin.NewActivity(nil)}
	rec := &gateway.Record{Start: time.Now(), Client: netip.MustParseAddr("192.0.2.1"), Method: "GET", URI: "/api/v1/accounts/1/conversations",
		Status: 200, Decision: gateway.DecisionPass, Forwarded: true, UpstreamStatus: 200, UpstreamDuration: 3 * time.Millisecond}
	b.ReportAllocs()
	for b.Loop() {
		obs.Observe(rec)
	}
}
