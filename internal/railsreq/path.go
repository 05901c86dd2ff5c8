package railsreq

import "strings"

// JourneyPath is ActionDispatch::Journey::Router::Utils.normalize_path,
// which Rack::Attack applies to PATH_INFO when ActionDispatch is loaded:
// a leading "/" added, runs of "/" squeezed, the trailing "/" dropped,
// lower-case %xx escapes upcased — nothing decoded. Chatwoot's rules that
// read req.path see this.
func JourneyPath(p string) string {
	if journeyClean(p) {
		return p
	}
	b := make([]byte, 0, len(p)+1)
	b = append(b, '/')
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' && b[len(b)-1] == '/' {
			continue
		}
		if c == '%' && i+2 < len(p) && isLowerHexOrDigit(p[i+1]) && isLowerHexOrDigit(p[i+2]) {
			b = append(b, '%', upper(p[i+1]), upper(p[i+2]))
			i += 2
			continue
		}
		b = append(b, c)
	}
	if len(b) > 1 && b[len(b)-1] == '/' {
		b = b[:len(b)-1]
	}
	return string(b)
}

func journeyClean(p string) bool {
	if p == "" || p[0] != '/' || (len(p) > 1 && p[len(p)-1] == '/') {
		return false
	}
	for i := 1; i < len(p); i++ {
		switch p[i] {
		case '%':
			if i+2 < len(p) && isLowerHexOrDigit(p[i+1]) && isLowerHexOrDigit(p[i+2]) && (p[i+1] > '9' || p[i+2] > '9') {
				return false
			}
		case '/':
			if p[i-1] == '/' {
				return false
			}
		}
	}
	return true
}

func isLowerHexOrDigit(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

// DecodedPath is the path wootguard matches rules on: percent-escapes
// decoded (invalid ones kept), then normalized like JourneyPath. Decoding
// is a deliberate difference (preset.Differences): "/auth/sign%5Fin"
// reaches the sign-in route in Rails, so it must meet its throttles.
//
// It does not allocate when the path needs no change.
func DecodedPath(p string) string {
	if decodedClean(p) {
		return p
	}
	b := make([]byte, 0, len(p)+1)
	b = append(b, '/')
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			c = unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 2
		}
		if c == '/' && b[len(b)-1] == '/' {
			continue
		}
		b = append(b, c)
	}
	if len(b) > 1 && b[len(b)-1] == '/' {
		b = b[:len(b)-1]
	}
	return string(b)
}

func decodedClean(p string) bool {
	if p == "" || p[0] != '/' || (len(p) > 1 && p[len(p)-1] == '/') {
		return false
	}
	for i := 1; i < len(p); i++ {
		if p[i] == '%' || (p[i] == '/' && p[i-1] == '/') {
			return false
		}
	}
	return true
}

// WithoutExtensions is Chatwoot's path_without_extensions on a normalized
// path: everything from the first "." dropped (path[/^[^.]+/]), then
// trailing slashes, "/" kept.
func WithoutExtensions(p string) string {
	if i := strings.IndexByte(p, '.'); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		return "/"
	}
	for len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}
