package rules_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/preset"
	"github.com/wootguard/wootguard/internal/rules"
)

// shortcutSpecs are the rule sets FuzzShortcutsDecideAlike compares on:
// the preset (with and without StripExtension), one that exercises what
// the index and the memo treat specially (alternatives, regex literals,
// extensions views, nested and array params, more than maxParamMemo
// params), and one with more than 64 throttles (two index words).
func shortcutSpecs() []struct {
	spec  rules.Spec
	strip bool
} {
	chatwoot, _ := preset.Chatwoot(func(string) string { return "" })
	lim := func(n int64) *int64 { return &n }
	odd := rules.Spec{
		Throttles: []rules.Throttle{
			{Name: "any", Limit: lim(2), Period: rules.Duration(time.Minute), Key: rules.StringList{"ip"},
				Match: &rules.Match{Any: []rules.Match{{Method: rules.StringList{"post"}, Path: rules.StringList{"/a"}},
					{PathRegex: `^/b/(\d+)$`, ParamPresent: rules.StringList{"p0"}}}}},
			{Name: "fold", Limit: lim(2), Period: rules.Duration(time.Minute), Key: rules.StringList{"ip", "capture:1"},
				Match: &rules.Match{PathRegex: `(?i)^/Fold/(x|y)`}},
			{Name: "alt", Limit: lim(2), Period: rules.Duration(time.Minute), Key: rules.StringList{"param:p1|param:p2"},
				Match: &rules.Match{PathRegex: `^/alt/(one|two)\.json$|^/other`, Method: rules.StringList{"GET", "HEAD"}}},
			{Name: "lit", Limit: lim(2), Period: rules.Duration(time.Minute), Key: rules.StringList{"string(param:p3)"},
				Match: &rules.Match{PathRegex: `^/api/v\d/lit/`, StringParamPresent: rules.StringList{"p3"}}},
			{Name: "keep", Limit: lim(2), Period: rules.Duration(time.Minute), Key: rules.StringList{"ip"},
				Match: &rules.Match{Path: rules.StringList{"/k.json", "/k"}, Extensions: "keep"}},
			{Name: "strip", Limit: lim(2), Period: rules.Duration(time.Minute), Key: rules.StringList{"present(param:p4)"},
				Match: &rules.Match{Path: rules.StringList{"/k"}, Extensions: "strip", ParamAbsent: rules.StringList{"p5"}}},
			{Name: "exact", Limit: lim(2), Period: rules.Duration(time.Minute), Key: rules.StringList{"param:u[e]"},
				Match: &rules.Match{Path: rules.StringList{"/e%41", "/eA"}, Extensions: "exact"}},
			{Name: "prefix", Limit: lim(2), Period: rules.Duration(time.Minute), Key: rules.StringList{"param:p6", "param:p7"},
				Match: &rules.Match{PathPrefix: rules.StringList{"/pre"}, Method: rules.StringList{"DELETE", "PATCH"}}},
			{Name: "many", Limit: lim(2), Period: rules.Duration(time.Minute), Key: rules.StringList{"param:p8|param:p9|ip"},
				Match: &rules.Match{Path: rules.StringList{"/m"}, ParamPresent: rules.StringList{"p10", "u"},
					StringParamAbsent: rules.StringList{"p0"}, Header: map[string]string{"X-A": "*"}}},
			{Name: "dry", Limit: lim(1), Period: rules.Duration(time.Minute), Key: rules.StringList{"ip"}, Mode: rules.ModeDryRun,
				Match: &rules.Match{Path: rules.StringList{"/a", "/m"}}},
			{Name: "all", Limit: lim(5), Period: rules.Duration(10 * time.Second), Key: rules.StringList{"param:p1"}},
		},
		Fail2Ban: []rules.BanRule{{Name: "f2b", Key: rules.StringList{"param:p2|ip"}, MaxRetry: lim(2),
			FindTime: rules.Duration(time.Minute), BanTime: rules.Duration(time.Minute),
			Match: &rules.Match{Path: rules.StringList{"/a", "/k"}}, Failure: &rules.Failure{Status: []int{401}}}},
		Tracks: []rules.Track{{Name: "tr", Limit: lim(1), Period: rules.Duration(time.Minute), Key: rules.StringList{"param:p1"},
			Match: &rules.Match{PathRegex: `^/b/`}}},
	}
	wide := rules.Spec{}
	for i := range 70 {
		m := &rules.Match{Path: rules.StringList{fmt.Sprintf("/w/%d", i%9)}}
		switch i % 4 {
		case 1:
			m = &rules.Match{Method: rules.StringList{"POST"}, PathRegex: fmt.Sprintf(`^/w/%d`, i%7)}
		case 2:
			m.Method = rules.StringList{"GET"}
			m.ParamPresent = rules.StringList{fmt.Sprintf("p%d", i%11)}
		case 3:
			m = nil
			if i%8 == 3 {
				m = &rules.Match{StringParamPresent: rules.StringList{"p1"}}
			}
		}
		wide.Throttles = append(wide.Throttles, rules.Throttle{Name: fmt.Sprintf("w%d", i), Limit: lim(int64(1 + i%3)),
			Period: rules.Duration(time.Duration(1+i%5) * time.Minute), Key: rules.StringList{fmt.Sprintf("param:p%d|ip", i%12)}, Match: m})
	}
	return []struct {
		spec  rules.Spec
		strip bool
	}{{chatwoot, true}, {chatwoot, false}, {odd, true}, {odd, false}, {wide, true}}
}

// FuzzShortcutsDecideAlike: for any request, an engine with the throttle
// index and the param memo decides, counts and reports failures exactly
// as one without them, on every rule set of shortcutSpecs.
func FuzzShortcutsDecideAlike(f *testing.F) {
	specs := shortcutSpecs()
	for _, s := range []struct{ method, path, query, ct, body string }{
		{"POST", "/auth/sign_in", "", "application/json", `{"email":"A@b.io","password":"x"}`},
		{"POST", "/auth/sign_in.json", "", "application/json", `{"email":"a@b.io","mfa_token":["t"],"mfa_setup_token":null}`},
		{"post", "/Auth/Sign_in", "mfa_token=q", "application/x-www-form-urlencoded", "email=a%40b.io&_method=delete"},
		{"HEAD", "/alt/one.json", "p1=x&p2[]=y", "", ""},
		{"", "/b/12", "p0=1", "text/plain", "p0=1"},
		{"GET", "/fold/X/z", "", "", ""},
		{"DELETE", "//pre//x/", "p6=a&p7=", "application/json", `{"p6":"a","p7":{"x":1}}`},
		{"POST", "/e%41", "u[e]=1", "", ""},
		{"POST", "/k.json", "p4=%20", "application/json; charset=utf-8", `{"p5":null}`},
		{"GET", "/m", "p10=1&u[x]=2&p8=", "APPLICATION/JSON", `{"p9":"z"`},
		{"GET", "/w/3", "p3=1&p1=a", "", ""},
		{"POST", "/w/5.json", "", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"p1\"\r\n\r\nv\r\n--x--\r\n"},
		{"GET", "/api/v1/accounts/1/conversations/2", "", "", ""},
		{"POST", "/api/v1/widget/messages", "website_token=w&cw_conversation=c", "", ""},
	} {
		for i := range len(specs) {
			f.Add(uint8(i), s.method, s.path, s.query, s.ct, []byte(s.body), uint8(i*37))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, method, path, query, ct string, body []byte, extra uint8) {
		s := specs[int(which)%len(specs)]
		fast, slow := shortcutEngines(t, s.spec, rules.Options{StripExtension: s.strip, IPv6Prefix: 64})
		h := http.Header{}
		if ct != "" {
			h["Content-Type"] = []string{ct}
		}
		if extra&1 != 0 {
			h["Api_access_token"] = []string{"tok"}
		}
		if extra&2 != 0 {
			h["X-Http-Method-Override"] = []string{"DELETE"}
		}
		if extra&4 != 0 {
			h["X-A"] = []string{""}
		}
		ips := []netip.Addr{netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("2001:db8::1"),
			netip.MustParseAddr("::ffff:192.0.2.1"), netip.MustParseAddr("fe80::1%eth0"), {}}
		ip := ips[int(extra>>3)%len(ips)]
		now := time.Unix(1_800_000_000, 0)
		for round := range 3 {
			req := func() *rules.Request {
				r := &rules.Request{Method: method, Path: path, RawQuery: query, IP: ip, Header: h, Body: body,
					UnknownClient: !ip.IsValid()}
				if extra&64 != 0 && len(body) > 0 {
					r.Body, r.BodyUnread = nil, true // as the gateway leaves a body no rule reads
				}
				return r
			}
			at := now.Add(time.Duration(round) * 20 * time.Second)
			xf, errF := fast.Explain(context.Background(), at, req())
			xs, errS := slow.Explain(context.Background(), at, req())
			if (errF == nil) != (errS == nil) || errF == nil && (xf.Action != xs.Action || xf.Rule != xs.Rule ||
				xf.Key != xs.Key || xf.Path != xs.Path || !reflect.DeepEqual(xf.Rules, xs.Rules)) {
				t.Fatalf("spec %d round %d: %q %q?%q %q %q: explained with shortcuts %+v (%v), without %+v (%v)",
					int(which)%len(specs), round, method, path, query, ct, body, xf, errF, xs, errS)
			}
			df, errF := fast.Decide(context.Background(), at, req())
			ds, errS := slow.Decide(context.Background(), at, req())
			if (errF == nil) != (errS == nil) || !sameDecision(df, ds) {
				t.Fatalf("spec %d round %d: %q %q?%q %q %q: with shortcuts %+v (%v), without %+v (%v)",
					int(which)%len(specs), round, method, path, query, ct, body, df, errF, ds, errS)
			}
			for i := range df.Pending {
				tf, nf := df.Pending[i].Rule()
				ts, ns := ds.Pending[i].Rule()
				if tf != ts || nf != ns || df.Pending[i].Discriminator != ds.Pending[i].Discriminator {
					t.Fatalf("pending %d: %s %s %q, without shortcuts %s %s %q", i, tf, nf, df.Pending[i].Discriminator, ts, ns, ds.Pending[i].Discriminator)
				}
				evF, errF := fast.ReportResponse(context.Background(), at, df.Pending[i], 401)
				evS, errS := slow.ReportResponse(context.Background(), at, ds.Pending[i], 401)
				if (errF == nil) != (errS == nil) || !reflect.DeepEqual(evF, evS) {
					t.Fatalf("report %d: %+v (%v), without shortcuts %+v (%v)", i, evF, errF, evS, errS)
				}
			}
		}
	})
}
