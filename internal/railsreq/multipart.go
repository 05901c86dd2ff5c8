package railsreq

import (
	"bytes"
	"regexp"
	"strings"
)

// Rack 3.2's multipart parser, for a body already in memory. Anything
// Rack raises on is an error here (the request is then unreadable).
var (
	multipartRE   = regexp.MustCompile(`(?i)^multipart/.*?boundary([ \t\r\n\f\v]*)="?([^";,]+)"?`)
	boundaryAgain = regexp.MustCompile(`(?i)boundary[ \t\r\n\f\v]*=`)
	partTypeRE    = regexp.MustCompile(`(?im)^Content-Type:(?:[ \t]+(?:\r\n[ \t]+)?)?((?:[^\r\n]|\r\n[ \t])*)`)
	partDispRE    = regexp.MustCompile(`(?im)^Content-Disposition:(?:[ \t]+(?:\r\n[ \t]+)?)?((?:[^\r\n]|\r\n[ \t])*)`)
	partIDRE      = regexp.MustCompile(`(?im)^Content-ID:(?:[ \t]+(?:\r\n[ \t]+)?)?((?:[^\r\n]|\r\n[ \t])*)`)
	unfoldRE      = regexp.MustCompile(`\r\n([ \t])`)
)

const (
	partLimit         = 4096
	fileLimit         = 128
	dispositionMaxLen = 1536
	dispositionParams = 16
)

// multipartBoundary returns Rack's boundary for a Content-Type, "" when
// Rack finds none (it then reads the body as a urlencoded form).
func multipartBoundary(contentType string) (string, error) {
	m := multipartRE.FindStringSubmatchIndex(contentType)
	if m == nil {
		return "", nil
	}
	if m[3] > m[2] {
		return "", errBadMultipart // white space before "="
	}
	if boundaryAgain.MatchString(contentType[m[1]:]) {
		return "", errBadMultipart
	}
	return contentType[m[4]:m[5]], nil
}

type mimePart struct {
	name, filename, contentType string
	hasFilename                 bool
	body                        []byte
}

// parseMultipart files the parts of body into params.
func parseMultipart(body []byte, boundary string, params *node) error {
	if len(body) == 0 {
		return nil // Rack: Content-Length 0 is an empty form
	}
	if len(boundary) > 70 {
		return errBadMultipart
	}
	delim := []byte("--" + boundary)
	// next finds (\r\n|\A)--boundary(\r\n|--) at or after pos; \A is the
	// scanner's position. It returns the match bounds.
	next := func(pos int) (start, end int, final bool, ok bool) {
		for from := pos; from <= len(body); {
			i := bytes.Index(body[from:], delim)
			if i < 0 {
				return 0, 0, false, false
			}
			i += from
			s := i
			lead := i == pos
			if !lead && i >= 2 && body[i-2] == '\r' && body[i-1] == '\n' && i-2 >= pos {
				s, lead = i-2, true
			}
			e := i + len(delim)
			if lead && e+2 <= len(body) {
				switch string(body[e : e+2]) {
				case "\r\n":
					return s, e + 2, false, true
				case "--":
					return s, e + 2, true, true
				}
			}
			from = i + 1
		}
		return 0, 0, false, false
	}

	pos := 0
	// FAST_FORWARD: skip the preamble to the first boundary.
	for {
		_, end, final, ok := next(pos)
		if !ok {
			return errBadMultipart
		}
		pos = end
		if !final {
			break
		}
		if end == len(delim)+2 && string(body[end:]) == "\r\n" {
			return nil // "--boundary--\r\n": no parts
		}
	}
	var parts []mimePart
	files := 0
	for {
		// MIME_HEAD
		j := bytes.Index(body[pos:], []byte("\r\n\r\n"))
		if j < 0 {
			return errBadMultipart
		}
		head := string(body[pos : pos+j+2])
		pos += j + 4
		p, err := parseHead(head)
		if err != nil {
			return err
		}
		if p.hasFilename {
			files++
		}
		// MIME_BODY
		s, _, _, ok := next(pos)
		if !ok {
			return errBadMultipart // no closing boundary: Rack's EOFError
		}
		p.body = body[pos:s]
		parts = append(parts, p)
		if files >= fileLimit || len(parts) >= partLimit {
			return errBadMultipart
		}
		pos = s + 2
		if pos > len(body) {
			return errBadMultipart
		}
		// CONSUME_TOKEN
		_, end, final, ok := next(pos)
		if !ok || final {
			break
		}
		pos = end
	}
	for _, p := range parts {
		var v *node
		switch {
		case p.hasFilename && p.filename == "":
			continue // Rack drops a part with an empty filename
		case p.hasFilename:
			v = &node{kind: File, s: p.filename}
		default:
			if cs := textCharset(p.contentType); cs != "" && !strings.EqualFold(cs, "utf-8") {
				return errUnsureCharset
			}
			v = &node{kind: String, s: string(p.body)}
		}
		if _, err := normalize(params, p.name, v, 0); err != nil {
			return err
		}
	}
	return nil
}

// parseHead reads a part's name and filename as Rack's handle_mime_head.
func parseHead(head string) (mimePart, error) {
	var p mimePart
	if m := partTypeRE.FindStringSubmatch(head); m != nil {
		p.contentType = unfoldRE.ReplaceAllString(m[1], "$1")
	}
	hasType := partTypeRE.MatchString(head)
	var name, filename, filenameStar string
	var hasName, hasFilename, hasStar bool
	if m := partDispRE.FindStringSubmatch(head); m != nil && len(m[1]) <= dispositionMaxLen {
		d := unfoldRE.ReplaceAllString(m[1], "$1")
		i := strings.IndexByte(d, ';')
		if i < 0 {
			return p, errBadMultipart // Rack raises (nil + 1)
		}
		d = d[i+1:]
		for n := 0; ; {
			i := strings.IndexByte(d, '=')
			if i < 0 {
				break
			}
			n++
			if n > dispositionParams {
				break
			}
			param := strings.TrimLeft(d[:i], " \t\r\n\f\v\x00")
			d = d[i+1:]
			var value string
			if strings.HasPrefix(d, `"`) {
				d = d[1:]
				var b strings.Builder
				for {
					k := strings.IndexAny(d, `"\`)
					if k < 0 {
						break
					}
					c := d[k]
					b.WriteString(d[:k])
					d = d[k+1:]
					if c == '"' {
						break
					}
					esc := ""
					if len(d) > 0 {
						esc, d = d[:1], d[1:]
					}
					if param == "filename" && esc != `"` {
						b.WriteByte(c)
					}
					b.WriteString(esc)
				}
				value = b.String()
			} else if k := strings.IndexByte(d, ';'); k >= 0 {
				value, d = d[:k], d[k:]
			} else {
				value, d = strings.Trim(d, " \t\r\n\f\v\x00"), ""
			}
			switch param {
			case "name":
				name, hasName = value, true
			case "filename":
				filename, hasFilename = value, true
			case "filename*":
				filenameStar, hasStar = value, true
			}
			if k := strings.IndexByte(d, ';'); k >= 0 {
				d = d[k+1:]
			}
		}
	} else if m := partIDRE.FindStringSubmatch(head); m != nil {
		name, hasName = m[1], true
	}
	if hasStar {
		parts := strings.SplitN(filenameStar, "'", 3)
		fn := ""
		if len(parts) == 3 {
			fn = parts[2]
		}
		filename, hasFilename = normalizeFilename(fn), true
	} else if hasFilename {
		filename = normalizeFilename(filename)
	}
	if !hasName || name == "" {
		switch {
		case hasFilename:
			name = filename
		case hasType:
			name = p.contentType + "[]"
		default:
			name = "text/plain[]"
		}
	}
	p.name, p.filename, p.hasFilename = name, filename, hasFilename
	return p, nil
}

var pctRE = regexp.MustCompile(`%.?.?`)

func normalizeFilename(fn string) string {
	valid := true
	for _, s := range pctRE.FindAllString(fn, -1) {
		valid = valid && len(s) == 3 && isHex(s[1]) && isHex(s[2])
	}
	if valid {
		var b []byte
		for i := 0; i < len(fn); i++ {
			if fn[i] == '%' && i+2 < len(fn) {
				b = append(b, unhex(fn[i+1])<<4|unhex(fn[i+2]))
				i += 2
				continue
			}
			b = append(b, fn[i])
		}
		fn = string(b)
	}
	fn = strings.ToValidUTF8(fn, "\uFFFD")
	segs := strings.FieldsFunc(fn, func(r rune) bool { return r == '/' || r == '\\' })
	if len(segs) == 0 {
		return ""
	}
	return segs[len(segs)-1]
}

// textCharset is the charset of a text/plain part, which Rack uses for
// the value's encoding.
func textCharset(contentType string) string {
	list := strings.Split(contentType, ";")
	if strings.TrimSpace(list[0]) != "text/plain" {
		return ""
	}
	cs := ""
	for _, prm := range list[1:] {
		k, v, _ := strings.Cut(prm, "=")
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if strings.TrimSpace(k) == "charset" {
			cs = v
		}
	}
	return cs
}
