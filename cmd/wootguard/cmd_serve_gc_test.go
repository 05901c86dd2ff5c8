package main

import (
	"io"
	"log/slog"
	"testing"
)

func TestServeGC(t *testing.T) {
	const mib = 1 << 20
	def := int64(48*mib + 1_000_000*112) // ~155 MiB: the bound of docs/performance.md
	for _, tc := range []struct {
		name      string
		env       map[string]string
		maxKeys   int
		cgroupMax int64
		want      gcSettings
	}{
		{"defaults", nil, 1_000_000, 0, gcSettings{400, def}},
		{"small store keeps the floor", nil, 10_000, 0, gcSettings{400, 96 * mib}},
		{"limit grows with the store", nil, 5_000_000, 0, gcSettings{400, 48*mib + 5_000_000*112}},
		{"container limit caps it", nil, 5_000_000, 500 * mib, gcSettings{400, 400 * mib}},
		{"operator's GOGC kept", map[string]string{"GOGC": "100"}, 1_000_000, 0, gcSettings{0, def}},
		{"operator's GOMEMLIMIT kept", map[string]string{"GOMEMLIMIT": "1GiB"}, 1_000_000, 0, gcSettings{400, 0}},
		{"both kept", map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, 1_000_000, 0, gcSettings{}},
	} {
		got := serveGC(func(k string) string { return tc.env[k] }, tc.maxKeys, tc.cgroupMax)
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestServeMemLimitFollowsConnections: open connections raise the limit
// (in 1 MiB steps of 64), within the container's limit, and an operator's
// GOMEMLIMIT is never changed.
func TestServeMemLimitFollowsConnections(t *testing.T) {
	const mib = 1 << 20
	base := int64(48*mib + 1_000_000*112)
	var set []int64
	g := &gcTuner{maxKeys: 1_000_000, limit: base, set: func(l int64) int64 { set = append(set, l); return 0 },
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, tc := range []struct {
		open    int64
		changed bool
		limit   int64
	}{
		{0, false, base},
		{1, true, base + 1*mib},
		{64, false, base + 1*mib},
		{65, true, base + 2*mib},
		{10_000, true, base + 157*mib}, // 10,048 / 64 = 157 steps
		{3, true, base + 1*mib},
		{-1, true, base}, // a bad count is no connection
	} {
		if changed := g.adjust(tc.open); changed != tc.changed || g.limit != tc.limit {
			t.Errorf("%d open: changed %v limit %d MiB, want %v %d MiB", tc.open, changed, g.limit/mib, tc.changed, tc.limit/mib)
		}
	}
	if len(set) != 5 || set[len(set)-1] != base {
		t.Errorf("limits set: %v", set)
	}
	g.cgroupMax = 200 * mib
	if g.adjust(10_000); g.limit != 160*mib {
		t.Errorf("in a 200 MiB container: %d MiB, want 160", g.limit/mib)
	}
	kept := &gcTuner{maxKeys: 1_000_000, set: func(int64) int64 { t.Error("the operator's GOMEMLIMIT was changed"); return 0 }}
	if kept.adjust(10_000) {
		t.Error("adjusted an operator's limit")
	}
}
