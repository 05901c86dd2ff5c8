package rules_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/preset"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// BenchmarkDecide measures one decision with the full Chatwoot preset on
// the memory store: the common case (an authenticated dashboard/API call,
// which only the global req/ip throttle counts) and a login POST (six
// throttles evaluated, params read from a JSON body).
func BenchmarkDecide(b *testing.B) {
	spec, _ := preset.Chatwoot(func(string) string { return "" })
	st := memory.New(memory.Options{SweepEvery: -1})
	defer st.Close()
	eng, err := rules.Compile(spec, rules.Options{Store: st, StripExtension: true})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	ip := netip.MustParseAddr("203.0.113.7")
	api := http.Header{"Api_access_token": {"tok"}}
	jsonH := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		name string
		req  func() rules.Request
	}{
		{"api-call", func() rules.Request {
			return rules.Request{Method: "GET", Path: "/api/v1/accounts/1/conversations", RawQuery: "page=1", IP: ip, Header: api}
		}},
		{"login-post", func() rules.Request {
			return rules.Request{Method: "POST", Path: "/auth/sign_in", IP: ip, Header: jsonH, Body: []byte(`{"email":"a@b.io","password":"x"}`)}
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := c.req()
				if _, err := eng.Decide(context.Background(), now, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecideLogin measures the login decision on bodies other than
// the plain JSON one of BenchmarkDecide: a form-encoded sign-in (Rack's
// form parser, not the JSON scan), a JSON body with escapes and a
// nested object, and a 16 KiB JSON body whose email comes last.
func BenchmarkDecideLogin(b *testing.B) {
	spec, _ := preset.Chatwoot(func(string) string { return "" })
	st := memory.New(memory.Options{SweepEvery: -1})
	defer st.Close()
	eng, err := rules.Compile(spec, rules.Options{Store: st, StripExtension: true})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	ip := netip.MustParseAddr("203.0.113.7")
	big := []byte(`{"padding":"` + strings.Repeat("x", 16<<10) + `","password":"x","email":"a@b.io"}`)
	cases := []struct {
		name, contentType string
		body              []byte
	}{
		{"form", "application/x-www-form-urlencoded", []byte("email=a%40b.io&password=x")},
		{"json-escaped", "application/json", []byte(`{"user":{"remember":true},"email":"\u0041@b.io","password":"x\"y"}`)},
		{"json-16k", "application/json", big},
	}
	for _, c := range cases {
		h := http.Header{"Content-Type": {c.contentType}}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				r := rules.Request{Method: "POST", Path: "/auth/sign_in", IP: ip, Header: h, Body: c.body}
				if _, err := eng.Decide(context.Background(), now, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
