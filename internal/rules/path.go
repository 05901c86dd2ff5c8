package rules

import "strings"

// NormalizePath returns the path Rails routes: percent-escapes decoded
// (invalid escapes kept as they are), repeated slashes squeezed, the
// trailing slash dropped, and "" turned into "/". Rack::Attack inside
// Chatwoot sees the same thanks to ActionDispatch's normalize_path, so
// "/auth//sign_in/" cannot dodge a rule on "/auth/sign_in".
//
// It does not allocate when the path needs no change.
func NormalizePath(p string) string {
	if isClean(p) {
		return p
	}
	b := make([]byte, 0, len(p)+1)
	if p == "" || p[0] != '/' {
		b = append(b, '/')
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			c = unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 2
		}
		if c == '/' && len(b) > 0 && b[len(b)-1] == '/' {
			continue
		}
		b = append(b, c)
	}
	if len(b) > 1 && b[len(b)-1] == '/' {
		b = b[:len(b)-1]
	}
	return string(b)
}

func isClean(p string) bool {
	if p == "" || p[0] != '/' || (len(p) > 1 && p[len(p)-1] == '/') {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '%':
			return false
		case '/':
			if i > 0 && p[i-1] == '/' {
				return false
			}
		}
	}
	return true
}

// StripExtension drops everything from the first "." (Chatwoot's
// path_without_extensions: "/auth/sign_in.json" → "/auth/sign_in").
func StripExtension(p string) string {
	if i := strings.IndexByte(p, '.'); i >= 0 {
		p = p[:i]
		if p == "" {
			return "/"
		}
	}
	return p
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
