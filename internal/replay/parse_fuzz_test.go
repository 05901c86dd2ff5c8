package replay

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A log line is untrusted input: whatever it holds, the parsers return a
// record or an error, never a panic, and a record they return is sane.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		`203.0.113.9 - - [20/Nov/2026:10:00:00 +0000] "POST /auth/sign_in HTTP/1.1" 401 12 "-" "curl/8"`,
		`10.0.0.5 - - [20/Nov/2026:10:00:00 +0000] "GET /a?b=c HTTP/1.1" 200 1 "-" "x" "198.51.100.1, 203.0.113.7" 0.005`,
		`198.51.100.2 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/2.0" 429 10 "-" "ua" "throttle" "login/ip"`,
		`1.2.3.4 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.0" 200 -`,
		`{"ts":"2026-11-20T10:00:00.000Z","client_ip":"203.0.113.9","method":"POST","uri":"/auth/sign_in","status":401}`,
		`{"time":1763632800,"peer":"::1","request":"GET /x HTTP/1.1","status":"200"}`,
		`x - - [`, `"`, `{`, `- - - [] "" 200`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n") {
			return // the reader splits lines
		}
		for _, p := range []interface {
			parse(string, *Record) error
		}{&combinedParser{}, &jsonParser{f: DefaultFields()}} {
			var rec Record
			if err := p.parse(line, &rec); err != nil {
				continue
			}
			if rec.Time.IsZero() {
				t.Errorf("%q: a record without a time", line)
			}
			if rec.Method == "" || !utf8.ValidString(rec.Method) {
				t.Errorf("%q: method %q", line, rec.Method)
			}
		}
	})
}
