package rules

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
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
	if len(m.notIPs) > 0 && ipIn(r.IP, m.notIPs) {
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
		vs, ok := headerValues(r.Header, h.name)
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
// An empty method matches any method.
func (m *matcher) mayMatch(method, path string) bool {
	if m == nil {
		return true
	}
	if method != "" && len(m.methods) > 0 && !slices.Contains(m.methods, method) {
		return false
	}
	if len(m.paths) > 0 && !slices.Contains(m.paths, path) {
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
		for _, lit := range m.reLiterals {
			if !strings.Contains(path, lit) {
				return false
			}
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

// bindsOtherMethod reports whether m (or an alternative) requires a
// method other than method.
func (m *matcher) bindsOtherMethod(method string) bool {
	if len(m.methods) > 0 && !slices.Contains(m.methods, method) {
		return true
	}
	for _, sub := range m.any {
		if sub.bindsOtherMethod(method) {
			return true
		}
	}
	return false
}

// counterKey builds "prefix:window:namespace:discriminator" for rl (its
// period gives the window, countNS the namespace) in one allocation
// and returns the key and the discriminator (a substring of it). ok is
// false when a key part is missing: the rule then does not apply
// (Rack::Attack's nil key), while an empty value is a real, shared bucket.
func (e *Engine) counterKey(sc *scratch, unix int64, rl *rule, r *Request, path string) (key, disc string, ok bool) {
	b := append(sc.buf[:0], e.opts.Prefix...)
	b = append(b, ':')
	b = strconv.AppendInt(b, unix/rl.period, 10)
	b = append(b, ':')
	b = append(b, rl.countNS...)
	b = append(b, ':')
	head := len(b)
	b, ok = appendDiscriminator(b, rl, r, path)
	sc.buf = b
	if !ok {
		return "", "", false
	}
	key = string(b)
	return key, key[head:], true
}

// appendDiscriminator appends rl's key for r to b, normalized like
// Rack::Attack's default (strip, then lower-case).
func appendDiscriminator(b []byte, rl *rule, r *Request, path string) ([]byte, bool) {
	start := len(b)
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
				} else if r.UnknownClient {
					b = append(b, UnknownClientKey...)
					found = true
				}
			case srcParam:
				v, found = r.Param(src.name)
			case srcHeader:
				if vs, ok := headerValues(r.Header, src.name); ok && len(vs) > 0 {
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
			return b, false
		}
	}
	return normalizeDiscriminator(b, start), true
}

// normalizeDiscriminator applies Ruby's to_s.strip.downcase to b[start:]
// in place.
func normalizeDiscriminator(b []byte, start int) []byte {
	lo, hi := start, len(b)
	for lo < hi && isRubySpace(b[lo]) {
		lo++
	}
	for hi > lo && isRubySpace(b[hi-1]) {
		hi--
	}
	n := copy(b[start:], b[lo:hi])
	b = b[:start+n]
	ascii := true
	for i := start; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	if !ascii {
		// Ruby's downcase is Unicode-aware (KELVIN SIGN → k), so Devise
		// sees one email where bytes would give several buckets.
		lower := strings.ToLower(string(b[start:]))
		b = append(b[:start], lower...)
	}
	// Keys can come from 64 KiB bodies and headers: long ones are kept as a
	// hash so a flood of huge keys cannot exhaust the store's memory.
	if len(b)-start > maxDiscriminator {
		sum := sha256.Sum256(b[start:])
		b = append(b[:start], "sha256:"...)
		b = hex.AppendEncode(b, sum[:16])
	}
	return b
}

// maxDiscriminator is the longest key part kept as it is.
const maxDiscriminator = 128

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
	if v := strings.TrimSpace(headerValue(r.Header, "Uid")); v != "" {
		return v, true
	}
	if v := strings.TrimSpace(headerValue(r.Header, "Api_access_token")); v != "" {
		return v, true
	}
	return "", false
}
