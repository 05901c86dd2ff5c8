package clientip

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// FuzzClient: no header can crash the resolver, and whatever it answers is
// the unknown client, the peer itself (untrusted peer), or an address
// written in the header — never a trusted peer's own address made up from
// junk.
func FuzzClient(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4, 10.0.0.1", "unknown", "unix:", "", " , ", "[2001:db8::1]:80",
		`for="[2001:db8::1]:4711";proto=https`, "for=_hidden, for=1.2.3.4", "::ffff:127.0.0.1", "fe80::1%eth0",
		"127.0.0.1, 127.0.0.1", strings.Repeat("1.1.1.1,", 50), "\"\"", "for="} {
		f.Add(s, false)
		f.Add(s, true)
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, value string, forwarded bool) {
		hdr := XForwardedFor
		if forwarded {
			hdr = Forwarded
		}
		r := NewWithHeader(trusted, hdr)
		h := http.Header{r.HeaderName(): {value}}
		for _, peer := range []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("203.0.113.9")} {
			got := r.Client(peer, h)
			switch {
			case !got.IsValid():
				if !r.Trusted(peer) {
					t.Fatalf("untrusted peer %s became unknown", peer)
				}
			case !r.Trusted(peer):
				if got != peer {
					t.Fatalf("untrusted peer %s: header %q chose %s", peer, value, got)
				}
			default:
				if !mentions(value, forwarded, got) {
					t.Fatalf("header %q gave %s, which it does not contain", value, got)
				}
			}
		}
	})
}

// mentions reports whether a is one of the entries of a header value.
func mentions(value string, forwarded bool, a netip.Addr) bool {
	var hops []string
	if forwarded {
		hops = forwardedFor([]string{value})
	} else {
		hops = splitList([]string{value})
	}
	for _, h := range hops {
		if ParseAddr(h) == a {
			return true
		}
	}
	return false
}

// FuzzParseAddr: an address that parses prints back to itself, without a
// zone and never IPv4-mapped (one client, one key).
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4:80", "[::1]:443", "::ffff:1.2.3.4", "fe80::1%eth0", `"1.2.3.4"`, "[1.2.3.4]", "junk", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := ParseAddr(s)
		if !a.IsValid() {
			return
		}
		if a.Zone() != "" || a.Is4In6() {
			t.Fatalf("ParseAddr(%q) = %s: zone or mapped", s, a)
		}
		if b := ParseAddr(a.String()); b != a {
			t.Fatalf("ParseAddr(%q) = %s, which re-parses as %s", s, a, b)
		}
	})
}
