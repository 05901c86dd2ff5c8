package railsreq

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is the Ruby class of a param value as Rails hands it to a
// controller (and to Chatwoot's Rack::Attack blocks).
type Kind uint8

const (
	Missing Kind = iota // no such key
	Nil                 // JSON null, or a query key without "=" (Rack 3)
	String
	Integer // JSON integer
	Float   // JSON number with a fraction or an exponent
	True
	False
	Array
	Hash
	File // a multipart part with a filename (ActionDispatch::Http::UploadedFile)
)

// Value is one param value. S holds the text of a String and Ruby's to_s
// of a number; Elems the elements of an Array; Keys/Vals the entries of a
// Hash in insertion order.
type Value struct {
	Kind  Kind
	S     string
	Elems []Value
	Keys  []string
	Vals  []Value
}

// Str is a String value.
func Str(s string) Value { return Value{Kind: String, S: s} }

// Blank is Rails' blank?: nil, false, empty or white-space strings
// (Unicode white space, as [[:space:]]), empty arrays and hashes. Numbers,
// true and files are never blank.
func (v Value) Blank() bool {
	switch v.Kind {
	case Missing, Nil, False:
		return true
	case String:
		return IsBlankString(v.S)
	case Array:
		return len(v.Elems) == 0
	case Hash:
		return len(v.Keys) == 0
	}
	return false
}

// Present is Rails' present? (not blank).
func (v Value) Present() bool { return !v.Blank() }

// IsBlankString is String#blank?: empty or only Unicode white space.
func IsBlankString(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// Get returns the entry of a Hash (Missing for other kinds). Like a
// Ruby Hash, a repeated key keeps its last value.
func (v Value) Get(key string) Value {
	if v.Kind != Hash {
		return Value{}
	}
	for i := len(v.Keys) - 1; i >= 0; i-- {
		if v.Keys[i] == key {
			return v.Vals[i]
		}
	}
	return Value{}
}

// fileToS stands for an uploaded file's to_s, which in Ruby carries an
// object address (a new key every request); see preset.Differences.
const fileToS = "<file>"

// ToS is Ruby's to_s, which string interpolation ("#{x}") uses: nil is
// "", arrays and hashes are their inspect.
func (v Value) ToS() string {
	switch v.Kind {
	case Missing, Nil:
		return ""
	case String, Integer, Float:
		return v.S
	case True:
		return "true"
	case False:
		return "false"
	case File:
		return fileToS
	}
	var b strings.Builder
	v.inspect(&b)
	return b.String()
}

// inspect writes Ruby 3.4's inspect (Chatwoot's Ruby): hashes print as
// {"k" => v}, not 3.3's {"k"=>v}.
func (v Value) inspect(b *strings.Builder) {
	switch v.Kind {
	case Missing, Nil:
		b.WriteString("nil")
	case String:
		inspectString(b, v.S)
	case Array:
		b.WriteByte('[')
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			e.inspect(b)
		}
		b.WriteByte(']')
	case Hash:
		b.WriteByte('{')
		for i, k := range v.Keys {
			if i > 0 {
				b.WriteString(", ")
			}
			inspectString(b, k)
			b.WriteString(" => ")
			v.Vals[i].inspect(b)
		}
		b.WriteByte('}')
	default:
		b.WriteString(v.ToS())
	}
}

// inspectString is String#inspect for a UTF-8 string.
func inspectString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString(`\x`)
			b.WriteString(strings.ToUpper(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:]))
			i++
			continue
		}
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case '\v':
			b.WriteString(`\v`)
		case '\b':
			b.WriteString(`\b`)
		case '\a':
			b.WriteString(`\a`)
		case 0x1b:
			b.WriteString(`\e`)
		case '#':
			if i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '$' || s[i+1] == '@') {
				b.WriteString(`\#`)
			} else {
				b.WriteByte('#')
			}
		default:
			if rubyPrintable(r) {
				b.WriteString(s[i : i+n])
			} else if r > 0xffff {
				b.WriteString(`\u{` + strings.ToUpper(strconv.FormatInt(int64(r), 16)) + `}`)
			} else {
				h := strings.ToUpper(strconv.FormatInt(int64(r)|0x10000, 16))[1:]
				b.WriteString(`\u` + h)
			}
		}
		i += n
	}
	b.WriteByte('"')
}

func rubyPrintable(r rune) bool {
	if r < 0x20 || r == 0x7f {
		return false
	}
	if unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cc, unicode.Co, unicode.Cs) {
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs, unicode.Cf)
}

// RubyFloat is Float#to_s: the shortest round-tripping digits, fixed
// notation for decimal exponents from -3 to 15, else "d.ddde+XX".
func RubyFloat(f float64) string {
	switch {
	case f != f:
		return "NaN"
	case f > 1.7976931348623157e308:
		return "Infinity"
	case f < -1.7976931348623157e308:
		return "-Infinity"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := x + 1
	if decpt > -4 && decpt <= 15 {
		switch {
		case decpt <= 0:
			return sign + "0." + strings.Repeat("0", -decpt) + digits
		case decpt >= len(digits):
			return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		}
		return sign + digits[:decpt] + "." + digits[decpt:]
	}
	frac := digits[1:]
	if frac == "" {
		frac = "0"
	}
	es := "+"
	if x < 0 {
		es, x = "-", -x
	}
	xs := strconv.Itoa(x)
	if len(xs) < 2 {
		xs = "0" + xs
	}
	return sign + digits[:1] + "." + frac + "e" + es + xs
}

// RubyToI is String#to_i: leading white space, an optional sign, digits
// with single underscores between them; anything else ends the number
// ("9-x" is 9, "abc" is 0).
func RubyToI(s string) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var d []byte
	for i < len(s) {
		c := s[i]
		if c >= '0' && c <= '9' {
			d = append(d, c)
			i++
			continue
		}
		if c == '_' && len(d) > 0 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			i++
			continue
		}
		break
	}
	for len(d) > 1 && d[0] == '0' {
		d = d[1:]
	}
	if len(d) == 0 || (len(d) == 1 && d[0] == '0') {
		return "0"
	}
	if neg {
		return "-" + string(d)
	}
	return string(d)
}
