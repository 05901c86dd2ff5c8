package main

import "testing"

func TestServeGC(t *testing.T) {
	const mib = 1 << 20
	def := int64(1_000_000*200 + 10_000*16<<10) // ~347 MiB
	for _, tc := range []struct {
		name           string
		env            map[string]string
		maxKeys, conns int
		cgroupMax      int64
		want           gcSettings
	}{
		{"defaults", nil, 1_000_000, 10_000, 0, gcSettings{400, def}},
		{"no connection cap counts as the default cap", nil, 1_000_000, 0, 0, gcSettings{400, def}},
		{"small store and few connections keep the floor", nil, 10_000, 100, 0, gcSettings{400, 256 * mib}},
		{"limit grows with the store", nil, 5_000_000, 10_000, 0, gcSettings{400, 5_000_000*200 + 10_000*16<<10}},
		{"container limit caps it", nil, 5_000_000, 10_000, 500 * mib, gcSettings{400, 400 * mib}},
		{"operator's GOGC kept", map[string]string{"GOGC": "100"}, 1_000_000, 10_000, 0, gcSettings{0, def}},
		{"operator's GOMEMLIMIT kept", map[string]string{"GOMEMLIMIT": "1GiB"}, 1_000_000, 10_000, 0, gcSettings{400, 0}},
		{"both kept", map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, 1_000_000, 10_000, 0, gcSettings{}},
	} {
		got := serveGC(func(k string) string { return tc.env[k] }, tc.maxKeys, tc.conns, tc.cgroupMax)
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
