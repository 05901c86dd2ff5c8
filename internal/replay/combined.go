package replay

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/clientip"
	"github.com/wootguard/wootguard/internal/rules"
)

// combinedParser reads nginx/Apache combined lines:
//
//	CLIENT IDENT USER [02/Jan/2006:15:04:05 -0700] "METHOD URI PROTO" STATUS BYTES "REFERER" "UA" [EXTRA...]
//
// Extra fields after the user agent are read as:
//   - two quoted fields whose first is a wootguard decision: wootguard's
//     own combined log ("DECISION" "RULE"), whose first field is the
//     resolved client;
//   - a field that is "-" or a comma-separated list of IP addresses:
//     $http_x_forwarded_for (the first field is then nginx's peer);
//   - a number: $request_time (ignored).
//
// The common format (no referer and user agent) is read too.
type combinedParser struct {
	lastTS   string
	lastTime time.Time
	fields   []string // reused between lines
	quoted   []bool
}

var errNoRequest = errors.New("no HTTP request line")

func (p *combinedParser) parse(line string, rec *Record) error {
	s := line
	host, s, ok := cutSpace(s)
	if !ok {
		return errors.New("not a combined log line")
	}
	// ident and user
	if _, s, ok = cutSpace(s); !ok {
		return errors.New("not a combined log line")
	}
	if _, s, ok = cutSpace(s); !ok {
		return errors.New("not a combined log line")
	}
	if len(s) == 0 || s[0] != '[' {
		return errors.New("no [time] field")
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return errors.New("no [time] field")
	}
	ts := s[1:end]
	// The cache of the last line's time: an empty field must not match
	// the empty cache of a fresh parser (it would read as year 1).
	if ts != p.lastTS || p.lastTime.IsZero() {
		t, err := time.Parse("02/Jan/2006:15:04:05 -0700", ts)
		if err != nil {
			return errors.New("bad time " + strconv.Quote(ts))
		}
		p.lastTS, p.lastTime = ts, t
	}
	rec.Time = p.lastTime
	s = strings.TrimLeft(s[end+1:], " ")
	req, s, ok := cutQuoted(s)
	if !ok {
		return errors.New("no quoted request field")
	}
	if err := parseRequestLine(req, rec); err != nil {
		return err
	}
	status, s, _ := cutSpace(strings.TrimLeft(s, " "))
	n, err := strconv.Atoi(status)
	if err != nil || n < 100 || n > 999 {
		return errors.New("bad status " + strconv.Quote(status))
	}
	rec.Status = n
	_, s, _ = cutSpace(strings.TrimLeft(s, " ")) // bytes
	fields, quoted := p.fields[:0], p.quoted[:0]
	defer func() { p.fields, p.quoted = fields, quoted }()
	for s = strings.TrimLeft(s, " "); s != ""; s = strings.TrimLeft(s, " ") {
		var f string
		if s[0] == '"' {
			if f, s, ok = cutQuoted(s); !ok {
				return errors.New("unterminated quoted field")
			}
			quoted = append(quoted, true)
		} else {
			f, s, _ = cutSpace(s)
			quoted = append(quoted, false)
		}
		fields = append(fields, f)
	}
	if len(fields) >= 1 {
		rec.Referer, rec.HasReferer = dash(fields[0]), true
	}
	if len(fields) >= 2 {
		rec.UserAgent, rec.HasUA = dash(fields[1]), true
	}
	extra, extraQuoted := fields[min(len(fields), 2):], quoted[min(len(quoted), 2):]
	addr := clientip.ParseAddr(host)
	if len(extra) == 2 && extraQuoted[0] && extraQuoted[1] && isDecision(extra[0]) {
		rec.Decision, rec.Rule = extra[0], dash(extra[1])
		rec.Client = addr
		if host == rules.UnknownClientKey {
			rec.UnknownClient = true
			return nil
		}
		if !addr.IsValid() {
			return errors.New("bad client address " + strconv.Quote(host))
		}
		return nil
	}
	rec.Peer = addr
	if !addr.IsValid() {
		return errors.New("bad client address " + strconv.Quote(host))
	}
	for _, f := range extra {
		if !rec.HasXFF && looksLikeXFF(f) {
			rec.XFF, rec.HasXFF = dash(f), true
		}
	}
	return nil
}

// parseRequestLine splits "METHOD URI PROTO".
func parseRequestLine(req string, rec *Record) error {
	method, rest, ok := strings.Cut(req, " ")
	if !ok || method == "" || !isToken(method) {
		return errNoRequest
	}
	uri, _, _ := strings.Cut(rest, " ")
	rec.Method = method
	return splitURI(uri, rec)
}

// splitURI takes a request target (origin or absolute form).
func splitURI(uri string, rec *Record) error {
	if strings.HasPrefix(uri, "http://") || strings.HasPrefix(uri, "https://") {
		rest := uri[strings.Index(uri, "//")+2:]
		if i := strings.IndexAny(rest, "/?"); i >= 0 {
			uri = rest[i:]
		} else {
			uri = "/"
		}
	}
	if uri == "" || (uri[0] != '/' && uri != "*") {
		return errors.New("bad request target " + strconv.Quote(truncate(uri, 60)))
	}
	rec.Path, rec.Query, _ = strings.Cut(uri, "?")
	return nil
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 'A' || c > 'Z' {
			if c < 'a' || c > 'z' {
				return false
			}
		}
	}
	return true
}

var decisions = map[string]bool{"pass": true, "throttle": true, "block": true, "ban": true, "safelist": true, "dry-run": true, "error": true}

func isDecision(s string) bool { return decisions[s] }

func looksLikeXFF(f string) bool {
	if f == "-" {
		return true
	}
	for _, part := range strings.Split(f, ",") {
		if !clientip.ParseAddr(part).IsValid() {
			return false
		}
	}
	return true
}

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func cutSpace(s string) (head, tail string, ok bool) {
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		return s, "", s != ""
	}
	return s[:i], s[i+1:], true
}

// cutQuoted reads a "..." field; \" and \\ are escapes (Apache), nginx
// writes \x22 and needs nothing special.
func cutQuoted(s string) (field, tail string, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return "", s, false
	}
	escaped := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			f := s[1:i]
			if escaped {
				f = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(f)
			}
			return f, s[i+1:], true
		}
	}
	return "", s, false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
