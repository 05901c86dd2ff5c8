package replay

import (
	"encoding/json"
	"errors"
	"strings"
)

// jsonField is one top-level member of a JSON object: a string (kind
// '"'), a number ('0'), true/false ('t'), null ('n'), or an object or
// array ('{'), whose raw text is kept.
type jsonField struct {
	key, val string
	kind     byte
}

var errBadJSON = errors.New("bad JSON: want one object per line")

// scanObject splits a one-line JSON object into its top-level members
// without building a map: access logs are flat, and encoding/json's
// generic decoding is most of the cost of reading them. Strings with
// escapes are unescaped by encoding/json.
func scanObject(s string, out []jsonField) ([]jsonField, error) {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return out, errBadJSON
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return out, trailing(s, i+1)
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return out, errBadJSON
		}
		key, next, err := scanString(s, i)
		if err != nil {
			return out, err
		}
		i = skipWS(s, next)
		if i >= len(s) || s[i] != ':' {
			return out, errBadJSON
		}
		i = skipWS(s, i+1)
		if i >= len(s) {
			return out, errBadJSON
		}
		f := jsonField{key: key}
		switch c := s[i]; {
		case c == '"':
			f.kind = '"'
			f.val, i, err = scanString(s, i)
		case c == '{' || c == '[':
			f.kind = '{'
			end, err := skipComposite(s, i)
			if err != nil {
				return out, err
			}
			f.val, i = s[i:end], end
		case c == '-' || ('0' <= c && c <= '9'):
			f.kind = '0'
			j := i
			for j < len(s) && strings.IndexByte("+-.eE0123456789", s[j]) >= 0 {
				j++
			}
			f.val, i = s[i:j], j
		case strings.HasPrefix(s[i:], "true"), strings.HasPrefix(s[i:], "false"):
			f.kind = 't'
			f.val = s[i : i+4]
			if c == 'f' {
				f.val = s[i : i+5]
			}
			i += len(f.val)
		case strings.HasPrefix(s[i:], "null"):
			f.kind, i = 'n', i+4
		default:
			return out, errBadJSON
		}
		if err != nil {
			return out, err
		}
		out = append(out, f)
		i = skipWS(s, i)
		if i >= len(s) {
			return out, errBadJSON
		}
		switch s[i] {
		case ',':
			i = skipWS(s, i+1)
		case '}':
			return out, trailing(s, i+1)
		default:
			return out, errBadJSON
		}
	}
}

func trailing(s string, i int) error {
	if skipWS(s, i) != len(s) {
		return errBadJSON
	}
	return nil
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// scanString reads the string starting at s[i] == '"'.
func scanString(s string, i int) (string, int, error) {
	escaped := false
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			if !escaped {
				return s[i+1 : j], j + 1, nil
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
				return "", 0, errBadJSON
			}
			return v, j + 1, nil
		default:
			if s[j] < 0x20 {
				return "", 0, errBadJSON
			}
		}
	}
	return "", 0, errBadJSON
}

// skipComposite returns the end of the object or array at s[i].
func skipComposite(s string, i int) (int, error) {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '"':
			_, next, err := scanString(s, j)
			if err != nil {
				return 0, err
			}
			j = next - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, errBadJSON
}
