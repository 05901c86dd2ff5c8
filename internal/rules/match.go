package rules

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wootguard/wootguard/internal/railsreq"
)

// matches reports whether every condition of m holds (nil m: always).
// path is the engine's default view; m may read another (Extensions).
func (m *matcher) matches(r *Request, path string) bool {
	if m == nil {
		return true
	}
	return m.mayMatch(r, r.Method, path) && m.holds(r, path)
}

// holds checks the conditions of m that mayMatch does not: client IPs,
// params, headers, and the alternatives whole.
func (m *matcher) holds(r *Request, path string) bool {
	if len(m.ips) > 0 && !ipIn(r.IP, m.ips) {
		return false
	}
	if len(m.notIPs) > 0 && ipIn(r.IP, m.notIPs) {
		return false
	}
	for i := range m.checks {
		if !r.paramCond(&m.checks[i]) {
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

// pathOf is the path m reads: path (the engine's default) unless its
// Extensions says otherwise.
func (m *matcher) pathOf(r *Request, path string) string {
	if m.view == viewDefault {
		return path // most matchers: no call
	}
	return r.pathIn(m.view)
}

// pathIn is r's path in view v, which is not viewDefault.
func (r *Request) pathIn(v pathView) string {
	switch v {
	case viewStrip:
		return r.NormalizedPath(true)
	case viewKeep:
		return r.NormalizedPath(false)
	}
	return r.journeyPath()
}

// mayMatch checks only the method and path conditions (with the any
// alternatives), which is what NeedsBody can know before reading a body.
// An empty method matches any method.
func (m *matcher) mayMatch(r *Request, method, path string) bool {
	if m == nil {
		return true
	}
	if method != "" && len(m.methods) > 0 && !slices.Contains(m.methods, method) {
		return false
	}
	p := m.pathOf(r, path)
	if len(m.paths) > 0 && !slices.Contains(m.paths, p) {
		return false
	}
	if len(m.prefixes) > 0 {
		ok := false
		for _, pre := range m.prefixes {
			ok = ok || strings.HasPrefix(p, pre)
		}
		if !ok {
			return false
		}
	}
	if m.re != nil {
		for _, lit := range m.reLiterals {
			if !strings.Contains(p, lit) {
				return false
			}
		}
		if !m.re.MatchString(p) {
			return false
		}
	}
	if len(m.any) > 0 {
		for _, sub := range m.any {
			if sub.mayMatch(r, method, path) {
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

// keySpan locates one counter key and its discriminator in
// scratch.keys.
type keySpan struct{ key, disc, end int }

// appendCounterKey is counterKey appending to sc.keys, which decide
// turns into one string for all keys of the decision.
func (e *Engine) appendCounterKey(sc *scratch, unix int64, rl *rule, r *Request, path string) (keySpan, bool) {
	if r.keyMissing(rl) {
		return keySpan{}, false
	}
	start := len(sc.keys)
	b := append(sc.keys, e.opts.Prefix...)
	b = append(b, ':')
	b = sc.appendWindow(b, unix/rl.period)
	b = append(b, ':')
	b = append(b, rl.countNS...)
	b = append(b, ':')
	head := len(b)
	b, ok := appendDiscriminator(b, rl, r, path)
	if !ok {
		sc.keys = b[:start]
		return keySpan{}, false
	}
	sc.keys = b
	return keySpan{key: start, disc: head, end: len(b)}, true
}

// windowDigits is a window number and its decimal digits (n 0: unused).
type windowDigits struct {
	w int64
	n int
	d [20]byte
}

// appendWindow appends the window number w. A number changes once per
// period, so the pooled scratch keeps the last few formatted: the rules
// that share a period (req/ip and the MFA throttles, …) and the next
// requests of the same window copy the digits.
func (sc *scratch) appendWindow(b []byte, w int64) []byte {
	for i := range sc.windows {
		if wd := &sc.windows[i]; wd.n > 0 && wd.w == w {
			return append(b, wd.d[:wd.n]...)
		}
	}
	wd := &sc.windows[sc.nextWindow]
	sc.nextWindow = (sc.nextWindow + 1) % len(sc.windows)
	wd.w, wd.n = w, len(strconv.AppendInt(wd.d[:0], w, 10))
	return append(b, wd.d[:wd.n]...)
}

// appendDiscriminator appends rl's key for r to b, normalized like
// Rack::Attack's default (strip, then lower-case).
func appendDiscriminator(b []byte, rl *rule, r *Request, path string) ([]byte, bool) {
	start := len(b)
	var caps []int
	// clean: every part is an address as netip formats it (lower-case
	// ASCII, no white space, short), which normalizing leaves as it is.
	clean := true
	for i, part := range rl.key {
		if i > 0 {
			b = append(b, ':')
		}
		found, address := false, false
		for j := range part {
			src := &part[j]
			if src.readsParams() && r.view().Err() != nil {
				// Fail closed: Rails' params are not known for sure, so
				// the request counts in a bucket of its own per client.
				b = append(b, Unparsed...)
				b = append(b, ':')
				b = appendIP(b, r.IP, src.bits)
				found = true
				break
			}
			if src.kind == srcIP && len(src.mods) == 0 {
				if r.IP.IsValid() {
					b = r.appendClientIP(b, src.bits) // straight into the key: no allocation
					found, address = true, r.IP.Zone() == ""
					break
				}
				if r.UnknownClient {
					b = append(b, UnknownClientKey...)
					found = true
					break
				}
				continue
			}
			if src.kind == srcAuthEmail && len(src.mods) == 0 && r.want != nil {
				// Never a secret (appendKeyValue appends it as it is).
				// Only with the engine's targeted read (r.want): a request
				// read before Decide takes chatwootAuthEmail, the reference
				// TestDecideTargetedJSONMatchesFullParse compares with.
				if nb, ok := appendAuthEmail(b, r); ok {
					b, found = nb, true
					break
				}
			}
			var v railsreq.Value
			unparsed := false
			switch src.kind {
			case srcIP:
				if r.IP.IsValid() {
					v, found = railsreq.Str(string(appendIP(nil, r.IP, src.bits))), true
				} else if r.UnknownClient {
					v, found = railsreq.Str(UnknownClientKey), true
				}
			case srcParam:
				if src.memo > 0 && r.paramMemo[src.memo-1]&memoMissing != 0 {
					break // known absent or nil: no key part
				}
				var err error
				v, err = r.view().Param(src.name)
				if src.memo > 0 {
					r.paramMemo[src.memo-1] = stateOf(v, err)
				}
				found = v.Kind != railsreq.Missing && v.Kind != railsreq.Nil
			case srcHeader:
				if vs, ok := headerValues(r.Header, src.name); ok && len(vs) > 0 {
					v, found = railsreq.Str(headerValue(r.Header, src.name)), true
				}
			case srcCapture:
				p := path
				if rl.match != nil {
					p = rl.match.pathOf(r, path)
				}
				if caps == nil && rl.match != nil && rl.match.re != nil {
					caps = rl.match.re.FindStringSubmatchIndex(p)
				}
				if 2*src.n+1 < len(caps) && caps[2*src.n] >= 0 {
					v, found = railsreq.Str(p[caps[2*src.n]:caps[2*src.n+1]]), true
				}
			case srcAPIUser:
				v, found = chatwootAPIUser(r)
			case srcAuthEmail:
				v, found = chatwootAuthEmail(r)
			case srcSuperAdminEmail:
				var named bool
				if v, named = chatwootSuperAdminEmail(r); !named {
					// Fail closed: no one email names the user found.
					b = append(b, Unparsed...)
					b = append(b, ':')
					b = appendIP(b, r.IP, src.bits)
					unparsed = true
				}
				found = named
			}
			if unparsed {
				found = true
				break
			}
			if found {
				v, found = applyMods(v, src.mods)
			}
			if found {
				s := v.S
				if v.Kind != railsreq.String {
					s = v.ToS()
				}
				b = appendKeyValue(b, rl, *src, r, s)
				break
			}
		}
		if !found {
			return b, false
		}
		clean = clean && address
	}
	if clean && len(b)-start <= maxDiscriminator {
		return b, true
	}
	return normalizeDiscriminator(b, start), true
}

// Unparsed is the key value of a request whose params Rails' view of
// cannot be known (an unparseable or ambiguous body or query): such a
// request is counted as "<unparsed>:CLIENT" instead of skipping the rule.
const Unparsed = "<unparsed>"

func (s keySource) readsParams() bool {
	return s.kind == srcParam || s.kind == srcAuthEmail || s.kind == srcSuperAdminEmail
}

// appendClientIP is appendIP of r.IP, formatted once per request (for
// the last bits asked: every "ip" key of an engine has the same).
func (r *Request) appendClientIP(b []byte, bits int) []byte {
	if r.ipKeyLen == 0 || r.ipKeyBits != bits {
		if len(r.IP.Zone()) > 8 {
			return appendIP(b, r.IP, bits) // might not fit ipKey
		}
		r.ipKeyLen, r.ipKeyBits = len(appendIP(r.ipKey[:0], r.IP, bits)), bits
	}
	return append(b, r.ipKey[:r.ipKeyLen]...)
}

// appendIP writes the client key: an IPv6 address as its /bits prefix
// (one /64 is one client), an IPv4 address as itself.
func appendIP(b []byte, ip netip.Addr, bits int) []byte {
	if !ip.IsValid() {
		return append(b, "unknown"...)
	}
	if ip.Is6() && !ip.Is4In6() && bits > 0 && bits < 128 {
		p, err := ip.WithZone("").Prefix(bits)
		if err == nil {
			return p.AppendTo(b)
		}
	}
	return ip.AppendTo(b)
}

func applyMods(v railsreq.Value, mods []keyMod) (railsreq.Value, bool) {
	for _, m := range mods {
		switch m {
		case modPresent:
			if v.Blank() {
				return v, false
			}
		case modString:
			if v.Kind != railsreq.String {
				return v, false
			}
		case modNoSpace:
			v = railsreq.Str(removeRubySpace(v.ToS()))
		case modInt:
			v = railsreq.Str(railsreq.RubyToI(v.ToS()))
		}
	}
	return v, true
}

// removeRubySpace is gsub(/\s+/, ”): Ruby's \s is ASCII white space.
func removeRubySpace(s string) string {
	if !strings.ContainsAny(s, " \t\n\v\f\r") {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			return -1
		}
		return r
	}, s)
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
		lower := rubyDowncase(string(b[start:]))
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

// rubyDowncase is Ruby's String#downcase: Go's simple case mapping plus
// the one unconditional full mapping of SpecialCasing, U+0130 (İ) to "i"
// and a combining dot above; a bare "i" would put "İlker@" in the bucket
// of another user than the one Devise looks up.
func rubyDowncase(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "\u0130", "i\u0307"))
}

func isRubySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == 0
}

// chatwootAPIUser is Chatwoot's api_user_identifier. With an
// Authorization scheme of Bearer (any case), the last word of the token
// strictly base64-decoded as JSON: a hash whose uid, client and
// access-token are all present gives the uid header or its uid; anything
// else gives the token itself, and an empty token gives nothing. Without
// Bearer: the uid header, else the api_access_token header.
func chatwootAPIUser(r *Request) (railsreq.Value, bool) {
	scheme, token, hasToken := rubySplit2(headerValue(r.Header, "Authorization"))
	if strings.EqualFold(scheme, "Bearer") {
		words := strings.FieldsFunc(token, isAwkSpace)
		last := ""
		if len(words) > 0 {
			last = words[len(words)-1]
		}
		if raw, err := base64.StdEncoding.Strict().DecodeString(last); err == nil && !strings.ContainsAny(last, "\r\n") {
			if cred, err := railsreq.ParseJSONValue(raw); err == nil && cred.Kind == railsreq.Hash &&
				cred.Get("uid").Present() && cred.Get("client").Present() && cred.Get("access-token").Present() {
				if uid := headerValue(r.Header, "Uid"); !railsreq.IsBlankString(uid) {
					return railsreq.Str(uid), true
				}
				return cred.Get("uid"), true
			}
		}
		if !hasToken || railsreq.IsBlankString(token) {
			return railsreq.Value{}, false
		}
		return railsreq.Str(token), true
	}
	if v := headerValue(r.Header, "Uid"); !railsreq.IsBlankString(v) {
		return railsreq.Str(v), true
	}
	if v := headerValue(r.Header, "Api_access_token"); !railsreq.IsBlankString(v) {
		return railsreq.Str(v), true
	}
	return railsreq.Value{}, false
}

// rubySplit2 is s.split(' ', 2): leading white space skipped, split at
// the first run of white space.
func rubySplit2(s string) (first, rest string, hasRest bool) {
	s = strings.TrimLeftFunc(s, isAwkSpace)
	i := strings.IndexFunc(s, isAwkSpace)
	if i < 0 {
		return s, "", false
	}
	return s[:i], strings.TrimLeftFunc(s[i:], isAwkSpace), true
}

func isAwkSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r'
}

// chatwootAuthEmail is Chatwoot's normalized_auth_email: auth_param
// ('email') — a non-blank String — and, only for sign-in (the one route
// whose controller reads it), the email header; then without any
// white space (lower-casing follows for every key).
func chatwootAuthEmail(r *Request) (railsreq.Value, bool) {
	email, ok, _ := r.view().AuthParam("email")
	if !ok && r.NormalizedPath(true) == "/auth/sign_in" {
		email = headerValue(r.Header, "Email")
		ok = !railsreq.IsBlankString(email)
	}
	if !ok {
		return railsreq.Value{}, false
	}
	return railsreq.Str(removeRubySpace(email)), true
}

// appendAuthEmail is chatwootAuthEmail for its common case, a
// non-blank String email param, appended to b without making a string;
// not ok (b unchanged) for every other case, which chatwootAuthEmail
// then decides.
func appendAuthEmail(b []byte, r *Request) ([]byte, bool) {
	start := len(b)
	out, isString, err := r.view().AppendString(b, "email")
	if err != nil || !isString {
		return b, false
	}
	email := out[start:]
	if !utf8.Valid(email) || isBlankBytes(email) {
		return b, false
	}
	// removeRubySpace: the white space is ASCII, so bytes can go.
	n := start
	for _, c := range email {
		switch c {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			continue
		}
		out[n] = c
		n++
	}
	return out[:n], true
}

// isBlankBytes is railsreq.IsBlankString of b.
func isBlankBytes(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if !unicode.IsSpace(r) {
			return false
		}
		b = b[n:]
	}
	return true
}

// chatwootSuperAdminEmail is super_admin_login/email's key: the form's
// super_admin[email] when present, which Chatwoot's sessions controller
// authenticates (SuperAdmin.find_by!(email: params[:super_admin][:email]));
// else Chatwoot's own params['email'].presence; then .to_s without white
// space — so a request with neither is the one shared "" bucket, as in
// Chatwoot. A nested email that is an array or hash (find_by!'s SQL IN
// finds the user any element names) is not named: false.
func chatwootSuperAdminEmail(r *Request) (railsreq.Value, bool) {
	v, _ := r.view().Param("super_admin[email]")
	if v.Kind == railsreq.Array || v.Kind == railsreq.Hash {
		return v, false
	}
	if v.Blank() {
		v, _ = r.view().Param("email")
	}
	if v.Blank() {
		return railsreq.Str(""), true
	}
	return railsreq.Str(removeRubySpace(v.ToS())), true
}
