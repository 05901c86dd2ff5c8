package railsreq

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPaths: normalization never panics, is idempotent where Rails'
// is, and never leaves a "//" or a trailing "/" that a rule could be
// dodged with.
func FuzzPaths(f *testing.F) {
	for _, s := range []string{"", "/", "//a//b/", "/%2f%2F", "/a%", "/a%4", "/%ab%AB", "/auth/sign%5Fin.json/", "a/b", "/\x00/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		j := JourneyPath(p)
		if JourneyPath(j) != j {
			t.Fatalf("JourneyPath not idempotent: %q → %q → %q", p, j, JourneyPath(j))
		}
		for _, n := range []string{j, DecodedPath(p)} {
			if !strings.HasPrefix(n, "/") || strings.Contains(n, "//") || (len(n) > 1 && strings.HasSuffix(n, "/")) {
				t.Fatalf("%q normalized to %q", p, n)
			}
			w := WithoutExtensions(n)
			if !strings.HasPrefix(w, "/") || strings.Contains(w, ".") || (len(w) > 1 && strings.HasSuffix(w, "/")) {
				t.Fatalf("WithoutExtensions(%q) = %q", n, w)
			}
		}
	})
}

// independentForm decodes a urlencoded string a second way (net/url's
// unescaping, its own splitting): the last value of each plain key.
func independentForm(q string) (map[string]*string, bool) {
	out := map[string]*string{}
	for i, pair := range strings.Split(q, "&") {
		if i > 0 {
			pair = strings.TrimLeft(pair, " ") // Rack splits on /& */
		}
		if pair == "" {
			continue
		}
		k, v, hasV := strings.Cut(pair, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return nil, false
		}
		if hasV {
			dv, err := url.QueryUnescape(v)
			if err != nil {
				return nil, false
			}
			out[dk] = &dv
		} else {
			out[dk] = nil
		}
	}
	return out, true
}

// FuzzFormParams: for every key without brackets, the value railsreq
// reads from a query string or a form body is the one an independent
// decoding gives (or the request is unreadable).
func FuzzFormParams(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "email=a%40b&email=c", "a&b=", "a+b=c+d", "a=%zz", "a=1&a[b]=2", "x[]=1&x[]=2", "=1&&b=", "a=%FF", "_method=put"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		want, ok := independentForm(q)
		for _, r := range []*Request{
			{RawQuery: q},
			{Method: "POST", Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(q)},
		} {
			r.MethodOverride()
			v, err := r.Params()
			if err != nil {
				continue
			}
			if !ok {
				t.Fatalf("%q: railsreq read %s, net/url cannot decode it", q, v.ToS())
			}
			if len(r.Body) > 0 && strings.HasSuffix(q, "\x00") {
				continue // Rack's Safari fix drops a trailing NUL from bodies
			}
			for k, w := range want {
				if strings.ContainsAny(k, "[]") || k == "" || nestedToo(want, k) {
					continue
				}
				got := v.Get(k)
				switch {
				case w == nil && got.Kind != Nil:
					t.Fatalf("%q: %q is %s, want nil", q, k, got.ToS())
				case w != nil && (got.Kind != String || got.S != *w):
					t.Fatalf("%q: %q is %s, want %q", q, k, got.ToS(), *w)
				}
			}
		}
	})
}

// FuzzJSONParams: when encoding/json and railsreq both accept a body,
// every top-level string agrees (the json gem's extensions — comments,
// "\q" — only add documents; they never change a value).
func FuzzJSONParams(f *testing.F) {
	for _, s := range []string{`{"email":"a@b","n":1}`, `{"a":"\u00e9\ud83d\ude00"}`, `{"a":1,"a":"2"}`, `[1]`, `{"a":"\q"}`, "/*c*/{\"a\":1}", `{"a":1e400}`, `{"a":[null,{"b":[]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := &Request{Method: "POST", Header: http.Header{"Content-Type": {"application/json"}}, Body: body}
		v, err := r.Params()
		var std map[string]any
		if err != nil || !utf8.Valid(body) || json.Unmarshal(body, &std) != nil {
			return
		}
		for k, sv := range std {
			s, isStr := sv.(string)
			if !isStr || strings.ContainsRune(s, utf8.RuneError) {
				continue
			}
			if got := v.Get(k); got.Kind != String || got.S != s {
				t.Fatalf("%q: %q is %s, encoding/json says %q", body, k, got.ToS(), s)
			}
		}
	})
}

// FuzzMultipartParams: a body written by Go's mime/multipart (an
// independent encoder) reads back, field for field, as it was written;
// and raw bodies never panic.
func FuzzMultipartParams(f *testing.F) {
	f.Add("email", "a@b.io", "B0undary", []byte("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--\r\n"))
	f.Add("a\"b", "v\r\nw", "x", []byte("--B\r\n\r\n\r\n--B--"))
	f.Add("mfa_token", "", "0123456789", []byte("junk"))
	f.Fuzz(func(t *testing.T, name, value, boundary string, raw []byte) {
		(&Request{Method: "POST", Header: http.Header{"Content-Type": {"multipart/form-data; boundary=B"}}, Body: raw}).Params()
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		if w.SetBoundary(boundary) != nil {
			return
		}
		if w.WriteField(name, value) != nil || w.WriteField("zz", "last") != nil || w.Close() != nil {
			return
		}
		// Rack ignores a Content-Disposition longer than 1536 bytes.
		if name == "" || len(name) > 1400 || strings.ContainsAny(name, "[]\r\n\\;") || name == "zz" || !utf8.ValidString(value) || strings.Contains(value, "--"+boundary) {
			return
		}
		r := &Request{Method: "POST", Header: http.Header{"Content-Type": {w.FormDataContentType()}}, Body: b.Bytes()}
		v, err := r.Params()
		if err != nil {
			if strings.ContainsAny(boundary, "\";, ") || strings.HasPrefix(name, " ") || strings.Contains(name, "=") {
				return // Rack's boundary and name syntax is narrower than RFC 2046's
			}
			t.Fatalf("name %q value %q boundary %q: %v", name, value, boundary, err)
		}
		if got := v.Get(name); (got.Kind != String || got.S != value) && !strings.ContainsAny(boundary, "\";, ") && !strings.HasPrefix(name, " ") && !strings.Contains(name, "=") {
			t.Fatalf("name %q boundary %q: read %s, wrote %q", name, boundary, got.ToS(), value)
		}
	})
}

// FuzzMethodOverride: the override is POST-only, and its answer is
// always the method or one of Rack's methods.
func FuzzMethodOverride(f *testing.F) {
	f.Add("POST", "application/x-www-form-urlencoded", "_method=delete", "")
	f.Add("POST", "", "", "patch")
	f.Add("POST", "multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nput\r\n--B--\r\n", "get")
	f.Add("PUT", "", "_method=delete", "DELETE")
	f.Fuzz(func(t *testing.T, method, ct, body, header string) {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		if header != "" {
			h.Set("X-Http-Method-Override", header)
		}
		r := &Request{Method: method, Header: h, Body: []byte(body)}
		got := r.MethodOverride()
		if method != "POST" && got != method {
			t.Fatalf("%s overridden to %s", method, got)
		}
		if got != method && !slices.Contains(rackMethods, got) {
			t.Fatalf("override to %q", got)
		}
	})
}

// nestedToo reports whether a bracketed key ("k[x]") also files into k.
func nestedToo(keys map[string]*string, k string) bool {
	for other := range keys {
		if strings.HasPrefix(other, k+"[") {
			return true
		}
	}
	return false
}
