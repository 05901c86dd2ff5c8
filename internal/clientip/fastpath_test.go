package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// The allocation-free paths (clientFromXFF, ParseAddr's host:port first)
// must agree with the straightforward versions they replaced.

func referenceParseAddr(s string) netip.Addr {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if s == "" {
		return netip.Addr{}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap().WithZone("")
		}
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone("")
		}
	}
	return netip.Addr{}
}

func referenceXFF(r *Resolver, values []string) netip.Addr {
	hops := splitList(values)
	var client netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		ip := ParseAddr(hops[i])
		if !ip.IsValid() {
			return netip.Addr{}
		}
		client = ip
		if !r.Trusted(ip) {
			return ip
		}
	}
	return client
}

func FuzzFastPathsMatchReference(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4:80", "[::1]:443", "::1", "::ffff:1.2.3.4", "fe80::1%eth0", `"1.2.3.4:8"`,
		"[1.2.3.4]", "1:2", "[::1]", "junk", "", "203.0.113.7, 10.0.0.1", "1.2.3.4,,10.0.0.1", ", 127.0.0.1", "x, 10.0.0.2"} {
		f.Add(s, "10.0.0.9")
	}
	r := New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")})
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := ParseAddr(a), referenceParseAddr(a); got != want {
			t.Fatalf("ParseAddr(%q) = %v, reference %v", a, got, want)
		}
		for _, vals := range [][]string{{a}, {a, b}, {b, a}, nil} {
			if got, want := r.clientFromXFF(vals), referenceXFF(r, vals); got != want {
				t.Fatalf("X-Forwarded-For %q: %v, reference %v", vals, got, want)
			}
		}
	})
}

func TestClientDoesNotAllocate(t *testing.T) {
	r := New([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")})
	h := http.Header{"X-Forwarded-For": {"203.0.113.7, 127.0.0.1"}}
	n := testing.AllocsPerRun(100, func() {
		if r.ClientIP("127.0.0.1:40000", h) != netip.MustParseAddr("203.0.113.7") {
			t.Fatal("wrong client")
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per client lookup, want 0", n)
	}
}
