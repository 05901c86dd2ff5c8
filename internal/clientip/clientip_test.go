package clientip

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		name    string
		header  Header
		trusted []netip.Prefix
		remote  string
		xff     []string
		fwd     []string
		want    string
	}{
		{"no trust: peer wins over XFF", "", nil, "203.0.113.9:5555", []string{"1.2.3.4"}, nil, "203.0.113.9"},
		{"untrusted peer spoofing XFF", "", lb, "198.51.100.1:1", []string{"127.0.0.1"}, nil, "198.51.100.1"},
		{"trusted peer, one hop", "", lb, "10.0.0.2:80", []string{"1.2.3.4"}, nil, "1.2.3.4"},
		{"right to left skips trusted", "", lb, "10.0.0.2:80", []string{"9.9.9.9, 8.8.8.8, 10.1.1.1"}, nil, "8.8.8.8"},
		{"spoofed left entry ignored", "", lb, "127.0.0.1:80", []string{"6.6.6.6, 1.2.3.4"}, nil, "1.2.3.4"},
		{"several XFF headers", "", lb, "127.0.0.1:80", []string{"6.6.6.6", "1.2.3.4"}, nil, "1.2.3.4"},
		{"all trusted: left-most", "", lb, "10.0.0.2:80", []string{"10.9.9.9, 10.1.1.1"}, nil, "10.9.9.9"},
		{"no header: unknown, never the proxy", "", lb, "10.0.0.2:80", nil, nil, "invalid IP"},
		{"empty header: unknown", "", lb, "127.0.0.1:80", []string{""}, nil, "invalid IP"},
		{"junk: unknown, never the proxy", "", lb, "127.0.0.1:80", []string{"EVIL"}, nil, "invalid IP"},
		{"unknown: unknown", "", lb, "127.0.0.1:80", []string{"unknown"}, nil, "invalid IP"},
		{"unix socket: unknown", "", lb, "127.0.0.1:80", []string{"unix:"}, nil, "invalid IP"},
		{"junk behind a trusted hop: unknown", "", lb, "10.0.0.2:80", []string{"EVIL, 10.3.3.3"}, nil, "invalid IP"},
		{"trailing empty entry: unknown", "", lb, "10.0.0.2:80", []string{"1.2.3.4, "}, nil, "invalid IP"},
		{"junk from an untrusted peer: the peer", "", lb, "198.51.100.1:1", []string{"EVIL"}, nil, "198.51.100.1"},
		{"junk left of client ignored", "", lb, "10.0.0.2:80", []string{"EVIL, 1.2.3.4"}, nil, "1.2.3.4"},
		{"XFF with port", "", lb, "10.0.0.2:80", []string{"1.2.3.4:5678"}, nil, "1.2.3.4"},
		{"IPv6 XFF", "", lb, "10.0.0.2:80", []string{"2001:db8::1"}, nil, "2001:db8::1"},
		{"mapped IPv4 unmapped", "", lb, "10.0.0.2:80", []string{"::ffff:1.2.3.4"}, nil, "1.2.3.4"},
		{"Forwarded ignored by default", "", lb, "10.0.0.2:80", []string{"5.5.5.5"}, []string{"for=127.0.0.1"}, "5.5.5.5"},
		{"Forwarded mode ignores XFF", Forwarded, lb, "10.0.0.2:80", []string{"5.5.5.5"}, []string{`for=192.0.2.60;proto=http;by=203.0.113.43`}, "192.0.2.60"},
		{"Forwarded IPv6 with port", Forwarded, lb, "10.0.0.2:80", nil, []string{`for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"Forwarded list right to left", Forwarded, lb, "10.0.0.2:80", nil, []string{"for=6.6.6.6, for=1.2.3.4, for=10.0.0.9"}, "1.2.3.4"},
		{"Forwarded obfuscated is unknown", Forwarded, lb, "10.0.0.2:80", nil, []string{"for=_hidden"}, "invalid IP"},
		{"Forwarded unknown is unknown", Forwarded, lb, "10.0.0.2:80", nil, []string{"for=unknown"}, "invalid IP"},
		{"Forwarded without for= is unknown", Forwarded, lb, "10.0.0.2:80", nil, []string{"proto=https"}, "invalid IP"},
		{"Forwarded missing is unknown", Forwarded, lb, "10.0.0.2:80", []string{"1.2.3.4"}, nil, "invalid IP"},
		{"IPv6 peer", "", nil, "[2001:db8::5]:443", nil, nil, "2001:db8::5"},
		{"bad peer", "", nil, "garbage", nil, nil, "invalid IP"},
		{"empty peer", "", nil, "", nil, nil, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.xff {
				h.Add("X-Forwarded-For", v)
			}
			for _, v := range tt.fwd {
				h.Add("Forwarded", v)
			}
			got := NewWithHeader(tt.trusted, tt.header).ClientIP(tt.remote, h)
			if got.String() != tt.want {
				t.Fatalf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}
