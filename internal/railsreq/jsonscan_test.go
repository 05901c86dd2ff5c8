package railsreq

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// The targeted read of a JSON body (Want, jsonscan.go) must give what
// the full parse (the reference: Want unset) gives, for every name, on
// every body: the same acceptance and the same values.

// jsonTargetedNames are the names compared on top of the body's own keys:
// those the Chatwoot preset reads, and the odd ones.
var jsonTargetedNames = []string{"email", "super_admin[email]", "mfa_token", "_json", "a[b]", "a[b][c]", "", "missing"}

// compareTargeted fails t when the targeted read of (query, body) differs
// from the reference for any name.
func compareTargeted(t *testing.T, query string, body []byte) {
	t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	ref := &Request{Method: "POST", RawQuery: query, Header: h, Body: body}
	refErr := ref.Err()
	want := wantedFor(ref)
	got := &Request{Method: "POST", RawQuery: query, Header: h, Body: body, Want: want}
	if gotErr := got.Err(); (gotErr == nil) != (refErr == nil) || (refErr != nil && !errors.Is(gotErr, ErrUnreadable)) {
		t.Fatalf("body %q query %q: targeted Err %v, reference %v", body, query, gotErr, refErr)
	}
	names := append(append([]string{}, jsonTargetedNames...), want...)
	for _, name := range names {
		for _, n := range []string{name, name + "[email]"} {
			rv, rerr := ref.Param(n)
			gv, gerr := got.Param(n)
			if (rerr == nil) != (gerr == nil) || !reflect.DeepEqual(rv, gv) {
				t.Fatalf("body %q query %q: Param(%q) targeted %#v, %v; reference %#v, %v", body, query, n, gv, gerr, rv, rerr)
			}
			if rv.ToS() != gv.ToS() || rv.Blank() != gv.Blank() {
				t.Fatalf("body %q: Param(%q) to_s/blank? differ", body, n)
			}
			rb, rok, rerr := ref.AppendString([]byte("x:"), n)
			gb, gok, gerr := got.AppendString([]byte("x:"), n)
			if string(rb) != string(gb) || rok != gok || (rerr == nil) != (gerr == nil) {
				t.Fatalf("body %q: AppendString(%q) targeted %q %v, reference %q %v", body, n, gb, gok, rb, rok)
			}
			if rok && (rv.Kind != String || string(rb) != "x:"+rv.S) {
				t.Fatalf("body %q: AppendString(%q) = %q, Param says %#v", body, n, rb, rv)
			}
		}
	}
	// Reading every name built the tree where needed; the whole params
	// and the method agree too.
	rp, rerr := ref.Params()
	gp, gerr := got.Params()
	if (rerr == nil) != (gerr == nil) || !reflect.DeepEqual(rp, gp) {
		t.Fatalf("body %q: Params targeted %#v, reference %#v", body, gp, rp)
	}
	if ref.MethodOverride() != got.MethodOverride() {
		t.Fatalf("body %q: MethodOverride differs", body)
	}
}

// wantedFor is the fixed names' tops and the body's own top-level keys
// (some of them), at most MaxWant.
func wantedFor(ref *Request) []string {
	want := []string{"email", "super_admin", "mfa_token", "_json"}
	if p, err := ref.Params(); err == nil {
		for _, k := range p.Keys {
			if len(want) == MaxWant-1 {
				break
			}
			want = append(want, k)
		}
	}
	return append(want, "a")
}

func TestJSONTargetedMatchesReference(t *testing.T) {
	deep := func(n int, open, close, leaf string) string {
		return `{"email":` + strings.Repeat(open, n) + leaf + strings.Repeat(close, n) + `}`
	}
	bodies := []string{
		`{"email":"a@b.io","password":"x"}`,
		`{"email":"a@b.io","email":"c@d.io"}`, // the json gem: last wins
		`{"email":"a@b.io","email":null}`,     // null is absent
		`{"email":["a@b.io"]}`,                // an Array
		`{"email":{"x":1}}`,                   // a Hash
		`{"email":{"email":"a"},"super_admin":{"email":"s@x","email":"t@x"}}`,
		`{"super_admin":{"email":"s@x"},"super_admin":5}`,
		`{"super_admin":{"email":["a","b"]}}`,
		`{"em\u0061il":"escaped@key"}`,               // an escaped key
		`{"email":"\u0130lker@x.io"}`,                // İ
		`{"email":"a\"b\\c\/d\q\u00e9\ud83d\ude00"}`, // every escape
		`{"email":"\ud83d"}`,                         // a lone surrogate: invalid
		`{"email":"\udc00\ud83d"}`,                   // invalid
		`{"email":"\u12"}`,                           // invalid
		`{"email":"tab	in"}`,                         // a raw control character: invalid
		`{"email": 12}`, `{"email":-0}`, `{"email":0.5e3}`, `{"email":1e400}`, `{"email":-1E-2}`,
		`{"email":01}`, `{"email":1.}`, `{"email":-}`, `{"email":.5}`, `{"email":1e}`,
		`{"email":true}`, `{"email":false}`, `{"email":null}`, `{"email":nul}`, `{"email":truex}`,
		`{"email":NaN}`, `{"email":Infinity}`, `{"email":-Infinity}`,
		`/* c */ {"email" /* c */ : // c` + "\n" + `"a@b"} // end` + "\n",
		`{"email":"a@b"} /* unterminated`, `{"email":"a@b"} // no newline`, `{"email":"a@b"} /`,
		`{"email":"a@b",}`, `{"email":"a@b"`, `{"email" "a"}`, `{,}`, `{}`, ``, ` `, `{"email":"a"}x`,
		`["a@b"]`, `"a@b"`, `7`, `null`, `[{"email":"x"}]`, `{"_json":"own key"}`,
		`{"a":{"b":{"c":"deep"}},"a":{"b":{"c":"deeper"}}}`,
		"{\"email\":\"\xff\",\"email\":\"ok\"}", // overwritten invalid UTF-8: accepted
		"{\"email\":\"ok\",\"other\":\"\xff\"}", // surviving invalid UTF-8: refused
		"{\"\xff\":\"key\",\"email\":\"ok\"}",   // invalid UTF-8 in a key: accepted
		"/*\xff*/{\"email\":\"ok\"}",
		deep(99, "[", "]", `"x"`), deep(100, "[", "]", `"x"`), deep(99, `{"a":`, "}", `"x"`), deep(100, `{"a":`, "}", `"x"`),
		`{"email":"` + strings.Repeat("a", 70000) + `"}`,
		`{"mfa_token":"t","email":"  A@B.io "}`, `{"mfa_token":"","mfa_token":"  "}`,
		`{"_method":"DELETE","email":"a"}`,
	}
	for _, b := range bodies {
		for _, q := range []string{"", "email=q@x", "super_admin[email]=q", "a=1&b"} {
			compareTargeted(t, q, []byte(b))
		}
	}
}

// The targeted read of a valid login body builds no tree and makes no
// string but the value read.
func TestJSONTargetedAllocations(t *testing.T) {
	body := []byte(`{"email":"a@b.io","password":"x"}`)
	h := http.Header{"Content-Type": {"application/json"}}
	want := []string{"email", "mfa_token", "mfa_setup_token", "super_admin"}
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() {
		r := Request{Method: "POST", Header: h, Body: body, Want: want}
		if v, _ := r.Param("mfa_token"); v.Kind != Missing {
			t.Fatal("mfa_token")
		}
		b, ok, err := r.AppendString(buf[:0], "email")
		if err != nil || !ok || string(b) != "a@b.io" {
			t.Fatalf("email: %q %v %v", b, ok, err)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations, want 0", n)
	}
}

// FuzzJSONTargeted: on any body and query, the targeted JSON read agrees
// with the full parse (compareTargeted).
func FuzzJSONTargeted(f *testing.F) {
	for _, s := range []string{`{"email":"a@b","email":"c"}`, `{"email":["a"]}`, `{"email":{"x":1}}`, `{"em\u0061il":"\u0130"}`,
		"/*c*/{\"email\":1e400}//\n", `{"super_admin":{"email":"s"}}`, `[1]`, `{"email":"a"`, "{\"email\":\"\xff\",\"email\":\"ok\"}"} {
		f.Add("", []byte(s))
	}
	f.Add("email=x", []byte(`{"email":"y"}`))
	f.Fuzz(func(t *testing.T, query string, body []byte) {
		compareTargeted(t, query, body)
	})
}
