package gateway

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/wootguard/wootguard/internal/rules"
)

// writeRefusal answers 403 or 429 with Rack::Attack's bodies, or a small
// JSON object for clients that ask for JSON (the Chatwoot widget and API
// clients).
func writeRefusal(w http.ResponseWriter, r *http.Request, status int, d rules.Decision) {
	// Shared, never-mutated header values: a refusal is the flood path,
	// so it allocates as little as it can (net/http only replaces them).
	h := w.Header()
	h["Cache-Control"] = hdrNoStore
	if wantsJSON(r) {
		h["Content-Type"] = hdrJSON
		w.WriteHeader(status)
		if status != http.StatusTooManyRequests {
			w.Write(bodyForbiddenJSON)
			return
		}
		// As encoding/json writes map[string]any{"error": ..., "message":
		// ..., "retry_after": N}: keys sorted, one newline.
		var a [80]byte
		b := append(a[:0], `{"error":"rate_limited","message":"Retry later","retry_after":`...)
		b = strconv.AppendInt(b, d.RetryAfter, 10)
		w.Write(append(b, "}\n"...))
		return
	}
	h["Content-Type"] = hdrText
	w.WriteHeader(status)
	if status == http.StatusTooManyRequests {
		w.Write(bodyRetryLater)
	} else {
		w.Write(bodyForbidden)
	}
}

var (
	hdrNoStore        = []string{"no-store"}
	hdrJSON           = []string{"application/json; charset=utf-8"}
	hdrText           = []string{"text/plain"}
	bodyRetryLater    = []byte("Retry later\n")
	bodyForbidden     = []byte("Forbidden\n")
	bodyForbiddenJSON = []byte(`{"error":"forbidden","message":"Forbidden"}` + "\n")
)

func wantsJSON(r *http.Request) bool {
	for _, a := range r.Header["Accept"] {
		for a != "" {
			var part string
			part, a, _ = strings.Cut(a, ",")
			mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
			if mt == "application/json" || strings.HasSuffix(mt, "+json") {
				return true
			}
		}
	}
	return false
}

// setRateLimit writes the draft-ietf-httpapi-ratelimit-headers (draft-11)
// fields: RateLimit-Policy: "name";q=LIMIT;w=WINDOW and
// RateLimit: "name";r=REMAINING;t=SECONDS. Both values share one string
// and one slice (two allocations, on every answer that has a quota).
func setRateLimit(h http.Header, q rules.Quota) {
	var a [160]byte
	b := appendSFString(a[:0], q.Policy)
	b = append(b, ";q="...)
	b = strconv.AppendInt(b, q.Limit, 10)
	b = append(b, ";w="...)
	b = strconv.AppendInt(b, q.Window, 10)
	policyEnd := len(b)
	b = appendSFString(b, q.Policy)
	b = append(b, ";r="...)
	b = strconv.AppendInt(b, q.Remaining, 10)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, q.Reset, 10)
	s := string(b)
	vals := []string{s[:policyEnd], s[policyEnd:]}
	h["Ratelimit-Policy"] = vals[0:1:1]
	h["Ratelimit"] = vals[1:2:2]
}

// setRetryAfter sets Retry-After to n seconds; values up to an hour come
// from a table (no allocation on the refusal path).
func setRetryAfter(h http.Header, n int64) {
	if n >= 0 && n < int64(len(smallInts)) {
		h["Retry-After"] = smallInts[n : n+1 : n+1]
		return
	}
	h["Retry-After"] = []string{itoa(n)}
}

// smallInts[i] is i in decimal, for i up to an hour of seconds.
var smallInts = func() []string {
	s := make([]string, 3601)
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// appendSFString appends s as a Structured Field String (RFC 8941
// §3.3.3): printable ASCII only, with " and \ escaped.
func appendSFString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c > 0x7e:
			b = append(b, '?')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
