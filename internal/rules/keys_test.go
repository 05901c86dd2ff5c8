package rules_test

import (
	"context"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// TestKeyLanguage: every key source and modifier an operator can write,
// read off a plain track's discriminator.
func TestKeyLanguage(t *testing.T) {
	j := http.Header{"Content-Type": {"application/json"}}
	for _, tc := range []struct {
		key    string
		req    rules.Request
		want   string
		absent bool
	}{
		{key: "ip", req: rules.Request{IP: netip.MustParseAddr("2001:db8:1:2:3::9")}, want: "2001:db8:1:2::/64"},
		{key: "ip/48", req: rules.Request{IP: netip.MustParseAddr("2001:db8:1:2::9")}, want: "2001:db8:1::/48"},
		{key: "ip/128", req: rules.Request{IP: netip.MustParseAddr("2001:db8::9")}, want: "2001:db8::9"},
		{key: "ip", req: rules.Request{IP: netip.MustParseAddr("203.0.113.9")}, want: "203.0.113.9"},
		{key: "param:email", req: rules.Request{Header: j, Body: []byte(`{"email":["A"]}`)}, want: `["a"]`},
		{key: "string(param:email)", req: rules.Request{Header: j, Body: []byte(`{"email":["A"]}`)}, absent: true},
		{key: "present(param:email)", req: rules.Request{RawQuery: "email=+"}, absent: true},
		{key: "param:email", req: rules.Request{RawQuery: "email=+"}, want: ""},
		{key: "nospace(param:email)", req: rules.Request{RawQuery: "email=a+b%09c"}, want: "abc"},
		{key: "param:super_admin[email]", req: rules.Request{Method: "POST", Header: http.Header{}, Body: []byte("super_admin[email]=X")}, want: "x"},
		{key: "int(capture:1)", req: rules.Request{Path: "/a/09x/b"}, want: "9"},
		{key: "chatwoot:auth_email", req: rules.Request{Method: "POST", Path: "/auth/sign_in", Header: http.Header{"Email": {"H @x"}}}, want: "h@x"},
		{key: "chatwoot:auth_email", req: rules.Request{Method: "POST", Path: "/auth/password", Header: http.Header{"Email": {"h@x"}}}, absent: true},
		{key: "chatwoot:auth_email", req: rules.Request{Header: j, Body: []byte(`{"email":7}`)}, absent: true},
		{key: "chatwoot:super_admin_email", req: rules.Request{}, want: ""},
		{key: "chatwoot:auth_email", req: rules.Request{Header: j, Body: []byte(`{"email":`), IP: netip.MustParseAddr("203.0.113.9")}, want: "<unparsed>:203.0.113.9"},
		// The unparsed bucket is per client: an IPv6 client is its /64 there too.
		{key: "param:email", req: rules.Request{Header: j, Body: []byte(`{"email":`), IP: netip.MustParseAddr("2001:db8:1:2:3::9")}, want: "<unparsed>:2001:db8:1:2::/64"},
		{key: "header:x-a|param:a", req: rules.Request{RawQuery: "a=Q"}, want: "q"},
	} {
		st := memory.New(memory.Options{SweepEvery: -1})
		m := &rules.Match{PathRegex: `^/a/([^/]+)/b`}
		if tc.req.Path != "/a/09x/b" {
			m = nil
		}
		eng, err := rules.Compile(rules.Spec{Tracks: []rules.Track{{Name: "t", Key: rules.StringList{tc.key}, Match: m}}}, rules.Options{Store: st, IPv6Prefix: 64})
		if err != nil {
			t.Fatalf("%s: %v", tc.key, err)
		}
		r := tc.req
		if r.Path == "" {
			r.Path = "/"
		}
		d, err := eng.Decide(context.Background(), time.Unix(1_800_000_000, 0), &r)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.absent && len(d.Events) != 0:
			t.Errorf("%s: keyed %q, want not counted", tc.key, d.Events[0].Discriminator)
		case !tc.absent && (len(d.Events) != 1 || d.Events[0].Discriminator != tc.want):
			t.Errorf("%s: events %+v, want %q", tc.key, d.Events, tc.want)
		}
	}
}
