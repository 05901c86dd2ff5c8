package railsreq

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// rackMethods are Rack::MethodOverride::HTTP_METHODS.
var rackMethods = []string{"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "LINK", "UNLINK"}

// MethodOverride is Rack::MethodOverride, which runs before Rack::Attack
// in Rails: only a POST is overridden; the form or multipart body's
// top-level "_method" comes first (even when it is not a method: then
// nothing is overridden), the X-HTTP-Method-Override header only when
// the body has no "_method" or cannot be parsed; the value is upcased,
// never trimmed, and must be one of Rack's methods. It returns the
// method Rails routes and counts.
func (r *Request) MethodOverride() string {
	if r.Method != "POST" {
		return r.Method
	}
	r.parseBody()
	var m string
	var have bool
	if r.rackForm {
		body, _ := r.tree()
		if r.rackErr == nil && body != nil {
			if v := body.get("_method"); v != nil && v.kind != Nil {
				have = true
				if v.kind == String {
					if !utf8.ValidString(v.s) {
						return r.Method // Rack's upcase raises: no override
					}
					m = v.s
				} else {
					m = v.value().ToS()
					if v.kind == File {
						m = "#<file>" // a Hash in Rack: never a method
					}
				}
			}
		}
	}
	if !have {
		vs := headerValues(r.Header, "X-Http-Method-Override")
		if len(vs) == 0 {
			return r.Method
		}
		m = strings.Join(vs, ", ") // Puma joins a repeated header
	}
	m = rubyUpcase(m)
	if slices.Contains(rackMethods, m) {
		return m
	}
	return r.Method
}

// rubyUpcase is String#upcase as far as it can produce ASCII letters:
// Go's ToUpper plus the ligatures Ruby expands ("ﬆ" → "ST").
func rubyUpcase(s string) string {
	s = strings.ToUpper(s)
	if isASCII(s) {
		return s
	}
	return strings.NewReplacer("ß", "SS", "ﬀ", "FF", "ﬁ", "FI", "ﬂ", "FL", "ﬃ", "FFI", "ﬄ", "FFL", "ﬅ", "ST", "ﬆ", "ST").Replace(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
