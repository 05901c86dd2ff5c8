package railsreq

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxNesting is the json gem's default max_nesting.
const maxNesting = 100

// parseJSON parses a body as ActiveSupport::JSON.decode does with the
// json gem 2.x Chatwoot pins: /* */ and // comments are white space (a
// // comment needs its newline), "\q" is "q", NaN and Infinity are
// errors, a number too large for a Float is Infinity, nesting deeper than
// 100 is an error, the last of repeated keys wins. A top-level value
// that is not an object becomes {"_json" => value}, as Rails wraps it.
func parseJSON(body []byte) (*node, error) {
	p := &jsonParser{s: body}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.err || p.i != len(p.s) {
		return nil, errBadJSON
	}
	if v.kind != Hash {
		h := newHash()
		h.set("_json", v)
		return h, nil
	}
	return v, nil
}

type jsonParser struct {
	s   []byte
	i   int
	err bool
}

// space skips white space and comments; an unterminated comment is an
// error.
func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.i++
		case c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '*':
			end := strings.Index(string(p.s[p.i+2:]), "*/")
			if end < 0 {
				p.err = true
				p.i = len(p.s)
				return
			}
			p.i += 2 + end + 2
		case c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '/':
			end := strings.IndexByte(string(p.s[p.i+2:]), '\n')
			if end < 0 {
				p.err = true
				p.i = len(p.s)
				return
			}
			p.i += 2 + end + 1
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (*node, error) {
	if p.err || p.i >= len(p.s) {
		return nil, errBadJSON
	}
	switch c := p.s[p.i]; {
	case c == '{':
		if depth+1 > maxNesting {
			return nil, errBadJSON
		}
		p.i++
		h := newHash()
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return h, nil
		}
		for {
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return nil, errBadJSON
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, errBadJSON
			}
			p.i++
			p.space()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			h.set(k, v)
			p.space()
			if p.i >= len(p.s) {
				return nil, errBadJSON
			}
			if p.s[p.i] == '}' {
				p.i++
				return h, nil
			}
			if p.s[p.i] != ',' {
				return nil, errBadJSON
			}
			p.i++
		}
	case c == '[':
		if depth+1 > maxNesting {
			return nil, errBadJSON
		}
		p.i++
		a := &node{kind: Array}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return a, nil
		}
		for {
			p.space()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a.elems = append(a.elems, v)
			p.space()
			if p.i >= len(p.s) {
				return nil, errBadJSON
			}
			if p.s[p.i] == ']' {
				p.i++
				return a, nil
			}
			if p.s[p.i] != ',' {
				return nil, errBadJSON
			}
			p.i++
		}
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &node{kind: String, s: s}, nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, lit := range [...]struct {
		text string
		kind Kind
	}{{"true", True}, {"false", False}, {"null", Nil}} {
		if strings.HasPrefix(string(p.s[p.i:min(p.i+5, len(p.s))]), lit.text) {
			p.i += len(lit.text)
			return &node{kind: lit.kind}, nil
		}
	}
	return nil, errBadJSON
}

func (p *jsonParser) number() (*node, error) {
	start := p.i
	end, float, ok := scanJSONNumber(p.s, p.i)
	if !ok {
		return nil, errBadJSON
	}
	p.i = end
	text := string(p.s[start:p.i])
	if float {
		f, _ := strconv.ParseFloat(text, 64) // out of range: ±Inf, like Ruby's Float()
		return &node{kind: Float, s: RubyFloat(f)}, nil
	}
	neg := text[0] == '-'
	d := strings.TrimLeft(strings.TrimPrefix(text, "-"), "0")
	switch {
	case d == "":
		d = "0"
	case neg:
		d = "-" + d
	}
	return &node{kind: Integer, s: d}, nil
}

// str reads a string at p.i (which is '"').
func (p *jsonParser) str() (string, error) {
	p.i++
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '"' && p.s[p.i] != '\\' && p.s[p.i] >= 0x20 {
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == '"' {
		s := string(p.s[start:p.i])
		p.i++
		return s, nil
	}
	b := append([]byte(nil), p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(b), nil
		case c < 0x20:
			return "", errBadJSON
		case c != '\\':
			b = append(b, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.s) || p.s[p.i] < 0x20 {
			return "", errBadJSON
		}
		switch e := p.s[p.i]; e {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(p.s, p.i+1)
			if !ok {
				return "", errBadJSON
			}
			p.i += 4
			if utf16.IsSurrogate(r) {
				// A lone surrogate is an error in the json gem; a
				// pair is one character.
				if r >= 0xdc00 || p.i+6 >= len(p.s) || p.s[p.i+1] != '\\' || p.s[p.i+2] != 'u' {
					return "", errBadJSON
				}
				r2, ok := hex4(p.s, p.i+3)
				if !ok || r2 < 0xdc00 || r2 > 0xdfff {
					return "", errBadJSON
				}
				r = utf16.DecodeRune(r, r2)
				p.i += 6
			}
			b = utf8.AppendRune(b, r)
		default:
			// '"', '\\', '/' and any other character stand for themselves.
			_, n := utf8.DecodeRune(p.s[p.i:])
			b = append(b, p.s[p.i:p.i+n]...)
			p.i += n - 1
		}
		p.i++
	}
	return "", errBadJSON
}

// hex4 reads the four hex digits of a \u escape at s[at:].
func hex4(s []byte, at int) (rune, bool) {
	if at+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[at : at+4] {
		if !isHex(c) {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	return r, true
}

// ParseJSONValue parses b as the json gem does (see parseJSON) and
// returns the value itself, whatever its type.
func ParseJSONValue(b []byte) (Value, error) {
	p := &jsonParser{s: b}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return Value{}, err
	}
	p.space()
	if p.err || p.i != len(p.s) {
		return Value{}, errBadJSON
	}
	return v.value(), nil
}

// scanJSONNumber reads the JSON number at s[i:] (the json gem's grammar:
// no leading zeros, digits after a '.' and in an exponent) and returns
// where it ends and whether it has a fraction or an exponent. The parser
// and the scanner share it, so they cannot disagree on what a number is.
func scanJSONNumber(s []byte, i int) (end int, float, ok bool) {
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return i, false, false
	}
	if s[i] == '0' {
		i++
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			return i, false, false // "01"
		}
	} else if digits() == 0 {
		return i, false, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return i, false, false
		}
		float = true
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return i, false, false
		}
		float = true
	}
	return i, float, true
}
