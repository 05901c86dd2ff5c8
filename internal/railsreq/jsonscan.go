package railsreq

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxWant is the most top-level param names a Request can read from a
// JSON body without building its tree (see Request.Want); with more, the
// reference parser builds it.
const MaxWant = 8

// jsonSpan is where the value of one wanted top-level key starts in the
// body (its last occurrence: the json gem keeps the last of repeated
// keys); found is false when the key is not there.
type jsonSpan struct {
	start int
	found bool
	doc   bool // the document itself (a top-level value that is not an object)
}

// jsonScanner validates a JSON body with exactly parseJSON's grammar
// (the reference, json.go) but builds nothing: it records only where the
// values of the wanted top-level keys start. Values are then read with
// the reference parser from there (Request.lazyParam), so a scan and a
// full parse can differ only in whether the document is accepted, which
// the differential tests and FuzzJSONTargeted compare.
type jsonScanner struct {
	s     []byte
	i     int
	err   bool
	want  []string
	spans *[MaxWant]jsonSpan
}

// scanJSON validates body and fills spans for want (top-level names; a
// top-level value that is not an object is Rails' "_json"). It reports
// whether the reference parser accepts body. It does not allocate unless
// a top-level key has escapes.
func scanJSON(body []byte, want []string, spans *[MaxWant]jsonSpan) bool {
	p := jsonScanner{s: body, want: want, spans: spans}
	p.space()
	if p.i < len(p.s) && p.s[p.i] != '{' {
		p.record("_json", p.i)
		for i := range p.spans {
			p.spans[i].doc = p.spans[i].found
		}
	}
	if !p.value(0, true) {
		return false
	}
	p.space()
	return !p.err && p.i == len(p.s)
}

func (p *jsonScanner) record(key string, start int) {
	for i, w := range p.want {
		if w == key {
			p.spans[i] = jsonSpan{start: start, found: true}
		}
	}
}

// recordRaw records start for the key whose string token is s[from:to]
// (quotes included).
func (p *jsonScanner) recordRaw(from, to, start int) {
	raw := p.s[from+1 : to-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		for i, w := range p.want {
			if string(raw) == w {
				p.spans[i] = jsonSpan{start: start, found: true}
			}
		}
		return
	}
	ref := jsonParser{s: p.s, i: from}
	k, err := ref.str()
	if err == nil {
		p.record(k, start)
	}
}

// space is jsonParser.space.
func (p *jsonScanner) space() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.i++
		case c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '*':
			end := bytes.Index(p.s[p.i+2:], []byte("*/"))
			if end < 0 {
				p.err = true
				p.i = len(p.s)
				return
			}
			p.i += 2 + end + 2
		case c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '/':
			end := bytes.IndexByte(p.s[p.i+2:], '\n')
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

// value is jsonParser.value; top says the value is the document itself,
// whose keys are the params.
func (p *jsonScanner) value(depth int, top bool) bool {
	if p.err || p.i >= len(p.s) {
		return false
	}
	switch c := p.s[p.i]; {
	case c == '{':
		if depth+1 > maxNesting {
			return false
		}
		p.i++
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return true
		}
		for {
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return false
			}
			keyFrom := p.i
			if !p.str() {
				return false
			}
			keyTo := p.i
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return false
			}
			p.i++
			p.space()
			start := p.i
			if !p.value(depth+1, false) {
				return false
			}
			if top {
				p.recordRaw(keyFrom, keyTo, start)
			}
			p.space()
			if p.i >= len(p.s) {
				return false
			}
			if p.s[p.i] == '}' {
				p.i++
				return true
			}
			if p.s[p.i] != ',' {
				return false
			}
			p.i++
		}
	case c == '[':
		if depth+1 > maxNesting {
			return false
		}
		p.i++
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return true
		}
		for {
			p.space()
			if !p.value(depth+1, false) {
				return false
			}
			p.space()
			if p.i >= len(p.s) {
				return false
			}
			if p.s[p.i] == ']' {
				p.i++
				return true
			}
			if p.s[p.i] != ',' {
				return false
			}
			p.i++
		}
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(p.s[p.i:], []byte(lit)) {
			p.i += len(lit)
			return true
		}
	}
	return false
}

// number is jsonParser.number without the conversion.
func (p *jsonScanner) number() bool {
	end, _, ok := scanJSONNumber(p.s, p.i)
	p.i = end
	return ok
}

// str is jsonParser.str without the decoding: p.i is at '"'.
func (p *jsonScanner) str() bool {
	p.i++
	for p.i < len(p.s) {
		for p.i < len(p.s) && !strSpecial[p.s[p.i]] {
			p.i++ // the common case, one table look-up a byte
		}
		if p.i >= len(p.s) {
			break
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return true
		case c < 0x20:
			return false
		case c != '\\':
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.s) || p.s[p.i] < 0x20 {
			return false
		}
		switch p.s[p.i] {
		case 'u':
			r, ok := hex4(p.s, p.i+1)
			if !ok {
				return false
			}
			p.i += 4
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 || p.i+6 >= len(p.s) || p.s[p.i+1] != '\\' || p.s[p.i+2] != 'u' {
					return false
				}
				r2, ok := hex4(p.s, p.i+3)
				if !ok || r2 < 0xdc00 || r2 > 0xdfff {
					return false
				}
				p.i += 6
			}
		default:
			_, n := utf8.DecodeRune(p.s[p.i:])
			p.i += n - 1
		}
		p.i++
	}
	return false
}

// strSpecial marks the bytes str must look at: '"', '\\' and the control
// characters.
var strSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()
