package rules

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// matches reports whether every condition of m holds (nil m: always).
func (m *matcher) matches(r *Request, path string) bool {
	if m == nil {
		return true
	}
	if !m.mayMatch(r.Method, path) {
		return false
	}
	if len(m.ips) > 0 && !ipIn(r.IP, m.ips) {
		return false
	}
	for _, name := range m.present {
		if r.blank(name) {
			return false
		}
	}
	for _, name := range m.absent {
		if !r.blank(name) {
			return false
		}
	}
	for _, h := range m.headers {
		vs, ok := r.Header[h.name]
		if !ok || (h.value != "*" && (len(vs) == 0 || vs[0] != h.value)) {
			return false
		}
	}
	if len(m.any) > 0 {
		for _, sub := range m.any {
			if sub.matches(r, path) {
				return true
			}
		}
		return false
	}
	return true
}

// mayMatch checks only the method and path conditions (with the any
// alternatives), which is what NeedsBody can know before reading a body.
func (m *matcher) mayMatch(method, path string) bool {
	if m == nil {
		return true
	}
	if len(m.methods) > 0 && !contains(m.methods, method) {
		return false
	}
	if len(m.paths) > 0 && !contains(m.paths, path) {
		return false
	}
	if len(m.prefixes) > 0 {
		ok := false
		for _, p := range m.prefixes {
			ok = ok || strings.HasPrefix(path, p)
		}
		if !ok {
			return false
		}
	}
	if m.re != nil {
		if m.reLiteral != "" && !strings.Contains(path, m.reLiteral) {
			return false
		}
		if !m.re.MatchString(path) {
			return false
		}
	}
	if len(m.any) > 0 {
		for _, sub := range m.any {
			if sub.mayMatch(method, path) {
				return true
			}
		}
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// discriminator builds the rule's key for r, normalized like
// Rack::Attack's default (strip, then lower-case). ok is false when a part
// is missing: the rule then does not apply (Rack::Attack's nil key), while
// an empty value is a real, shared bucket.
func (e *Engine) discriminator(sc *scratch, rl *rule, r *Request, path string) (string, bool) {
	b := sc.buf[:0]
	var caps []int
	for i, part := range rl.key {
		if i > 0 {
			b = append(b, ':')
		}
		found := false
		for _, src := range part {
			var v string
			switch src.kind {
			case srcIP:
				if r.IP.IsValid() {
					b = r.IP.AppendTo(b)
					found = true
				}
			case srcParam:
				v, found = r.Param(src.name)
			case srcHeader:
				if vs, ok := r.Header[src.name]; ok && len(vs) > 0 {
					v, found = vs[0], true
				}
			case srcCapture:
				if caps == nil && rl.match != nil && rl.match.re != nil {
					caps = rl.match.re.FindStringSubmatchIndex(path)
				}
				if 2*src.n+1 < len(caps) && caps[2*src.n] >= 0 {
					v, found = path[caps[2*src.n]:caps[2*src.n+1]], true
				}
			case srcAPIUser:
				v, found = chatwootAPIUser(r)
			}
			if found {
				b = append(b, v...)
				break
			}
		}
		if !found {
			sc.buf = b
			return "", false
		}
	}
	sc.buf = b
	return normalizeDiscriminator(b), true
}

// normalizeDiscriminator is Ruby's to_s.strip.downcase, returned as a new
// string.
func normalizeDiscriminator(b []byte) string {
	start, end := 0, len(b)
	for start < end && isRubySpace(b[start]) {
		start++
	}
	for end > start && isRubySpace(b[end-1]) {
		end--
	}
	b = b[start:end]
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isRubySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == 0
}

// chatwootAPIUser is Chatwoot 4.18's api_user_identifier: a Bearer token
// that decodes to devise_token_auth JSON gives its uid, another Bearer
// token is used as it is; else the uid header, else api_access_token.
func chatwootAPIUser(r *Request) (string, bool) {
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		tok := strings.TrimSpace(auth[len("Bearer "):])
		if tok != "" {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
				raw, err := enc.DecodeString(tok)
				if err != nil {
					continue
				}
				var dta struct {
					UID         string `json:"uid"`
					Client      string `json:"client"`
					AccessToken string `json:"access-token"`
				}
				if json.Unmarshal(raw, &dta) == nil && dta.UID != "" && dta.Client != "" && dta.AccessToken != "" {
					return dta.UID, true
				}
				break
			}
			return tok, true
		}
	}
	if v := strings.TrimSpace(r.Header.Get("Uid")); v != "" {
		return v, true
	}
	if v := strings.TrimSpace(r.Header.Get("Api_access_token")); v != "" {
		return v, true
	}
	return "", false
}
