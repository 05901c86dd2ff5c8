package rules

import (
	"net/netip"
	"strconv"
	"testing"
)

// appendDiscriminator skips normalizing a key made only of zone-less
// addresses: normalizing must leave every such address as it is, and the
// address formatted once per request must be appendIP's.
func TestAddressKeysNeedNoNormalizing(t *testing.T) {
	addrs := []string{"203.0.113.7", "0.0.0.0", "2001:DB8::AB", "::ffff:198.51.100.1", "fe80::1", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}
	for _, s := range addrs {
		ip := netip.MustParseAddr(s)
		r := &Request{IP: ip}
		for _, bits := range []int{0, 64, 48, 64, 128, 0} {
			want := appendIP(nil, ip, bits)
			got := r.appendClientIP([]byte("k:"), bits)
			if string(got) != "k:"+string(want) {
				t.Errorf("%s/%d: appendClientIP %q, appendIP %q", s, bits, got, want)
			}
			if n := normalizeDiscriminator(append([]byte{}, want...), 0); string(n) != string(want) {
				t.Errorf("%s/%d: %q normalizes to %q", s, bits, want, n)
			}
		}
	}
	zoned := &Request{IP: netip.MustParseAddr("fe80::1%ETH0")}
	b, ok := appendDiscriminator(nil, &rule{key: []keyPart{{{kind: srcIP}}}}, zoned, "/")
	if !ok || string(b) != "fe80::1%eth0" {
		t.Errorf("zoned address key %q %v, want it lower-cased", b, ok)
	}
}

// The scratch keeps window numbers across decisions: whatever the
// order, each one appends its own digits.
func TestAppendWindowDigits(t *testing.T) {
	sc := &scratch{}
	for _, w := range []int64{30000000, 6000000, 30000000, 1, 0, 9, 10, 6000001, 30000000, 11, 12, 13, 14, 15, 1, 6000000} {
		if got := string(sc.appendWindow([]byte("p:"), w)); got != "p:"+strconv.FormatInt(w, 10) {
			t.Errorf("window %d: %q", w, got)
		}
	}
}
