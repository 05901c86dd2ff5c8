package railsreq

import (
	"net/http"
	"strings"
	"testing"
)

func TestJourneyPath(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/": "/", "//": "/", "/a/": "/a", "a": "/a", "/a//b///": "/a/b", "/%ab": "/%AB", "/%aB": "/%aB",
		"/%2f": "/%2F", "/%5Fx": "/%5Fx", "/a.json/": "/a.json", "/%zz": "/%zz", "/%a": "/%a",
	} {
		if got := JourneyPath(in); got != want {
			t.Errorf("JourneyPath(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"/auth/sign_in.json": "/auth/sign_in", "/a.b/c": "/a", "/.x": "/", "/x": "/x", "/a/.json": "/a", "/": "/"} {
		if got := WithoutExtensions(in); got != want {
			t.Errorf("WithoutExtensions(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRubyConversions(t *testing.T) {
	for f, want := range map[float64]string{1: "1.0", 1e15: "1.0e+15", 1e14: "100000000000000.0", 1e16: "1.0e+16", 1e-4: "0.0001",
		1e-5: "1.0e-05", 123.456: "123.456", 2.5e-10: "2.5e-10", 1.7976931348623157e308: "1.7976931348623157e+308", 1234567890123456: "1.234567890123456e+15",
		123456789012345.6: "123456789012345.6", 5e-324: "5.0e-324", -1.5: "-1.5"} {
		if got := RubyFloat(f); got != want {
			t.Errorf("RubyFloat(%v) = %q, want %q", f, got, want)
		}
	}
	for in, want := range map[string]string{" 9": "9", "+9": "9", "9-x": "9", "0x1A": "0", "1_000": "1000", "1__0": "1", "_1": "0", "\n9": "9", "\v9": "9", "-0": "0", "09": "9", "abc": "0", "-12a": "-12", "": "0"} {
		if got := RubyToI(in); got != want {
			t.Errorf("RubyToI(%q) = %q, want %q", in, got, want)
		}
	}
	v := Value{Kind: Array, Elems: []Value{Str("a\"b\\c\n\x00#{x}"), {Kind: Integer, S: "1"}, {Kind: Nil}, {Kind: Hash, Keys: []string{"k"}, Vals: []Value{{Kind: True}}}, Str("é\u2028")}}
	if got, want := v.ToS(), `["a\"b\\c\n\u0000\#{x}", 1, nil, {"k" => true}, "é\u2028"]`; got != want {
		t.Errorf("inspect %s, want %s", got, want)
	}
}

func TestBlank(t *testing.T) {
	for _, tc := range []struct {
		v     Value
		blank bool
	}{
		{Value{}, true}, {Value{Kind: Nil}, true}, {Value{Kind: False}, true}, {Value{Kind: True}, false},
		{Str(""), true}, {Str(" \t\n\u00a0\u3000"), true}, {Str("\u200b"), false}, {Str("x"), false},
		{Value{Kind: Array}, true}, {Value{Kind: Hash}, true}, {Value{Kind: Integer, S: "0"}, false}, {Value{Kind: File, S: "f"}, false},
	} {
		if tc.v.Blank() != tc.blank {
			t.Errorf("%+v blank? %v, want %v", tc.v, tc.v.Blank(), tc.blank)
		}
	}
}

// TestJSONAsRuby: the json gem 2.x grammar, checked against Ruby 3.1's
// json 2.6 by hand (each row's answer is Ruby's).
func TestJSONAsRuby(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":"\q"}`, "q"}, {"{\"a\":\"x\ty\"}", "ERR"}, {`{"a":01}`, "ERR"}, {`{"a":1.}`, "ERR"}, {`{"a":-}`, "ERR"},
		{`{"a":"\ud800"}`, "ERR"}, {`{"a":.5}`, "ERR"}, {`{"a":1,}`, "ERR"}, {"\xef\xbb\xbf{\"a\":1}", "ERR"},
		{`{"a":1e400}`, "Infinity"}, {`  {"a":1}  `, "1"}, {`{"a":"\u0000"}`, "\x00"}, {`/*x*/{"a":1}`, "1"}, {`{"a":1}/*x*/`, "1"},
		{`{"a":1}//y`, "ERR"}, {"{\"a\":1}\n//y\n", "1"}, {`{/*x*/"a"/*y*/:/*z*/1/*w*/}`, "1"}, {"{\"a\":1}\v", "ERR"}, {"\f{\"a\":1}", "ERR"},
		{`{"a" :1}`, "1"}, {`{"a":tru}`, "ERR"}, {`{"a":true}`, "true"}, {`{"a":"\u00e9"}`, "é"}, {`{"a":-0}`, "0"}, {`{"a":2e3}`, "2000.0"},
		{`{"a":1E+2}`, "100.0"}, {`{"a":"\/"}`, "/"}, {`{"a":[null,1]}`, "[1]"}, {`{a:1}`, "ERR"}, {`{"a":NaN}`, "ERR"}, {`{"a":1,"a":2}`, "2"},
		{`{"a":"\ud83d\ude00"}`, "😀"}, {`{"a":12345678901234567890123}`, "12345678901234567890123"}, {`{"a":-0.0}`, "-0.0"},
		{`["x"]`, ""}, {`"x"`, ""}, {``, "ERR"}, {`{"a":1} x`, "ERR"}, {strings.Repeat("[", 100) + strings.Repeat("]", 100), ""},
		{`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "ERR"},
	} {
		h, err := parseJSON([]byte(tc.in))
		got := "ERR"
		if err == nil {
			got = h.value().Get("a").ToS()
		}
		if got != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestQueryAsRack3(t *testing.T) {
	for _, tc := range []struct{ q, want string }{ // want: inspect of the whole hash, or ERR
		{"a=1&b=2", `{"a" => "1", "b" => "2"}`},
		{"a=1;b=2", `{"a" => "1;b=2"}`},
		{"a=1&  b=2", `{"a" => "1", "b" => "2"}`},
		{"a", `{"a" => nil}`},
		{"a=1&a=2", `{"a" => "2"}`},
		{"a[]=1&a[]=2", `{"a" => ["1", "2"]}`},
		{"a[]", `{"a" => []}`},
		{"a[b]=1&a[c]=2", `{"a" => {"b" => "1", "c" => "2"}}`},
		{"a[][b]=1&a[][c]=2&a[][b]=3", `{"a" => [{"b" => "1", "c" => "2"}, {"b" => "3"}]}`},
		{"a=1&a[b]=2", "ERR"},
		{"a[]=1&a[b]=2", "ERR"},
		{"a%=1", "ERR"},
		{"a=%zz", "ERR"},
		{"a+b=c+d", `{"a b" => "c d"}`},
		{"=1&&b=", `{"b" => ""}`},
		{"[a]=1", `{"[a]" => "1"}`},
		{"a[=1", `{"a[" => "1"}`},
		{"a]=1", `{"a]" => "1"}`},
		{"a[b]c=1", `{"a" => {"b" => {"c" => "1"}}}`},
		{"a=%FF", "ERR"},
	} {
		r := &Request{RawQuery: tc.q}
		v, err := r.Params()
		got := "ERR"
		if err == nil {
			got = v.ToS()
		}
		if got != tc.want {
			t.Errorf("%q: %s, want %s", tc.q, got, tc.want)
		}
	}
	deep := strings.Repeat("[a]", 40)
	if _, err := (&Request{RawQuery: "x" + deep + "=1"}).Params(); err == nil {
		t.Error("40 levels deep parsed; Rack's limit is 32")
	}
}

func TestBodies(t *testing.T) {
	mp := func(parts string) string { return "--B\r\n" + parts + "--B--\r\n" }
	for _, tc := range []struct {
		name, method, ct, body, want string
	}{
		{"form", "POST", "application/x-www-form-urlencoded", "email=a%40b&x=1", `{"email" => "a@b", "x" => "1"}`},
		{"form safari nul", "POST", "application/x-www-form-urlencoded", "a=1\x00", `{"a" => "1"}`},
		{"no type post", "POST", "", "a=1", `{"a" => "1"}`},
		{"no type put", "PUT", "", "a=1", `{}`},
		{"form put", "PUT", "application/x-www-form-urlencoded; charset=utf-8", "a=1", `{"a" => "1"}`},
		{"json any method", "GET", "application/json", `{"a":1}`, `{"a" => 1}`},
		{"json scalar", "POST", "application/json", `[1]`, `{"_json" => [1]}`},
		{"json upper", "POST", "Application/JSON; charset=utf-8", `{"a":1}`, `{"a" => 1}`},
		{"text/x-json", "POST", "text/x-json", `{"a":1}`, `{"a" => 1}`},
		{"jsonrequest", "POST", "application/jsonrequest", `{"a":1}`, `{"a" => 1}`},
		{"vnd json", "POST", "application/vnd.api+json", `{"a":1}`, `{}`},
		{"bad json", "POST", "application/json", `{"a":`, "ERR"},
		{"empty json", "POST", "application/json", ``, `{}`},
		{"bad mime", "POST", "application json", `a=1`, "ERR"},
		{"text", "POST", "text/plain", `a=1`, `{}`},
		{"multipart", "POST", "multipart/form-data; boundary=B", mp("Content-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"c:\\\\d\\\\p.txt\"\r\nContent-Type: text/plain\r\n\r\nfile\r\n"), `{"a" => "x", "f" => <file>}`},
		{"multipart quoted boundary", "POST", `multipart/form-data; boundary="B"`, mp("Content-Disposition: form-data; name=a\r\n\r\nx\r\n"), `{"a" => "x"}`},
		{"multipart mixed", "POST", "multipart/mixed; boundary=B", mp("Content-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"), `{"a" => "x"}`},
		{"multipart alternative is not parsed", "POST", "multipart/alternative; boundary=B", mp("Content-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"), `{}`},
		{"multipart no boundary reads a form", "POST", "multipart/form-data", "a=1", `{"a" => "1"}`},
		{"multipart Name is not name", "POST", "multipart/form-data; boundary=B", mp("Content-Disposition: form-data; Name=\"a\"\r\n\r\nx\r\n"), `{"text/plain" => ["x"]}`},
		{"multipart empty filename dropped", "POST", "multipart/form-data; boundary=B", mp("Content-Disposition: form-data; name=\"a\"; filename=\"\"\r\n\r\nx\r\n"), `{}`},
		{"multipart preamble", "POST", "multipart/form-data; boundary=B", "junk\r\n" + mp("Content-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"), `{"a" => "x"}`},
		{"multipart unterminated", "POST", "multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx", "ERR"},
		{"multipart two boundaries", "POST", "multipart/form-data; boundary=B; boundary=C", mp(""), "ERR"},
		{"multipart space before =", "POST", "multipart/form-data; boundary =B", mp(""), "ERR"},
		{"multipart latin1 part", "POST", "multipart/form-data; boundary=B", mp("Content-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nx\r\n"), "ERR"},
		{"multipart nested", "POST", "multipart/form-data; boundary=B", mp("Content-Disposition: form-data; name=\"s[email]\"\r\n\r\nx\r\n"), `{"s" => {"email" => "x"}}`},
		{"multipart no disposition params", "POST", "multipart/form-data; boundary=B", mp("Content-Disposition: form-data\r\n\r\nx\r\n"), "ERR"},
		{"multipart escaped quote", "POST", "multipart/form-data; boundary=B", mp("Content-Disposition: form-data; name=\"a\\\"b\"\r\n\r\nx\r\n"), `{"a\"b" => "x"}`},
		{"form invalid utf-8", "POST", "application/x-www-form-urlencoded", "a=%FF", "ERR"},
	} {
		h := http.Header{}
		if tc.ct != "" {
			h.Set("Content-Type", tc.ct)
		}
		r := &Request{Method: tc.method, Header: h, Body: []byte(tc.body)}
		v, err := r.Params()
		got := "ERR"
		if err == nil {
			got = v.ToS()
		}
		if got != tc.want {
			t.Errorf("%s: %s (%v), want %s", tc.name, got, err, tc.want)
		}
	}
}

func TestMethodOverride(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		method, ct, body, header, want string
	}{
		{"POST", form, "_method=delete", "", "DELETE"},
		{"POST", form, "_method=DELETE", "PATCH", "DELETE"},
		{"POST", form, "_method=", "PATCH", "POST"},
		{"POST", form, "_method", "PATCH", "PATCH"}, // nil: the header is read
		{"POST", form, "_method=%20delete", "", "POST"},
		{"POST", form, "_method=remove", "PATCH", "POST"},
		{"POST", form, "_method[]=delete", "", "POST"},
		{"POST", form, "_method=%FF", "PATCH", "POST"},
		{"POST", form, "a=1&a[b]=2&_method=delete", "PATCH", "PATCH"}, // Rack's parse error: header
		{"POST", "", "_method=put", "", "PUT"},
		{"POST", "application/json", `{"_method":"put"}`, "", "POST"},
		{"POST", "application/json", `{"_method":"put"}`, "put", "PUT"},
		{"POST", "", "", "link", "LINK"},
		{"POST", "", "", "ſearch", "POST"},
		{"POST", "", "", "optionſ", "OPTIONS"},
		{"PUT", form, "_method=delete", "DELETE", "PUT"},
		{"GET", "", "", "DELETE", "GET"},
	} {
		h := http.Header{}
		if tc.ct != "" {
			h.Set("Content-Type", tc.ct)
		}
		if tc.header != "" {
			h.Set("X-HTTP-Method-Override", tc.header)
		}
		r := &Request{Method: tc.method, Header: h, Body: []byte(tc.body)}
		if got := r.MethodOverride(); got != tc.want {
			t.Errorf("%s %q %q header %q: %s, want %s", tc.method, tc.ct, tc.body, tc.header, got, tc.want)
		}
	}
}
