package gateway

import (
	"net/netip"
	"testing"
)

func TestPerClientSharesIPv6Slash64(t *testing.T) {
	var p perClient
	a, b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	other := netip.MustParseAddr("2001:db8:1:3::1")
	v4a, v4b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	if !p.acquire(a, 2) || !p.acquire(b, 2) {
		t.Fatal("first two refused")
	}
	if p.acquire(a, 2) || p.acquire(netip.MustParseAddr("2001:db8:1:2::77"), 2) {
		t.Fatal("a third address of the same /64 got in")
	}
	if !p.acquire(other, 2) || !p.acquire(v4a, 1) || !p.acquire(v4b, 1) {
		t.Fatal("another /64 or IPv4 address was refused")
	}
	p.release(b)
	if !p.acquire(a, 2) {
		t.Fatal("a released slot did not come back")
	}
	for _, x := range []netip.Addr{a, a, other, v4a, v4b} {
		p.release(x)
	}
	if len(p.m) != 0 {
		t.Fatalf("map holds %v after every release", p.m)
	}
}
