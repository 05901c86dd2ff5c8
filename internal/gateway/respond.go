package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/wootguard/wootguard/internal/rules"
)

// writeRefusal answers 403 or 429 with Rack::Attack's bodies, or a small
// JSON object for clients that ask for JSON (the Chatwoot widget and API
// clients).
func writeRefusal(w http.ResponseWriter, r *http.Request, status int, d rules.Decision) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		body := map[string]any{"error": "forbidden", "message": "Forbidden"}
		if status == http.StatusTooManyRequests {
			body = map[string]any{"error": "rate_limited", "message": "Retry later", "retry_after": d.RetryAfter}
		}
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
		return
	}
	h.Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	if status == http.StatusTooManyRequests {
		w.Write([]byte("Retry later\n"))
	} else {
		w.Write([]byte("Forbidden\n"))
	}
}

func wantsJSON(r *http.Request) bool {
	for _, a := range r.Header.Values("Accept") {
		for _, part := range strings.Split(a, ",") {
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
// RateLimit: "name";r=REMAINING;t=SECONDS.
func setRateLimit(h http.Header, q rules.Quota) {
	name := sfString(q.Policy)
	h.Set("RateLimit-Policy", name+";q="+itoa(q.Limit)+";w="+itoa(q.Window))
	h.Set("RateLimit", name+";r="+itoa(q.Remaining)+";t="+itoa(q.Reset))
}

// sfString encodes s as a Structured Field String (RFC 8941 §3.3.3):
// printable ASCII only, with " and \ escaped.
func sfString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
