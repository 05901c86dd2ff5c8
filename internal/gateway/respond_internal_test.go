package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wootguard/wootguard/internal/rules"
)

// The refusal bodies are written by hand (no encoder on the flood path):
// they must stay byte for byte what encoding/json wrote before.
func TestRefusalJSONMatchesEncoder(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter int64
		want       any
	}{
		{http.StatusTooManyRequests, 0, map[string]any{"error": "rate_limited", "message": "Retry later", "retry_after": 0}},
		{http.StatusTooManyRequests, 59, map[string]any{"error": "rate_limited", "message": "Retry later", "retry_after": 59}},
		{http.StatusTooManyRequests, 86400 * 7, map[string]any{"error": "rate_limited", "message": "Retry later", "retry_after": 86400 * 7}},
		{http.StatusForbidden, 30, map[string]any{"error": "forbidden", "message": "Forbidden"}},
	} {
		var want bytes.Buffer
		json.NewEncoder(&want).Encode(tc.want)
		r := httptest.NewRequest("GET", "/api/v1/x", nil)
		r.Header.Set("Accept", "text/html, application/json;q=0.9")
		w := httptest.NewRecorder()
		writeRefusal(w, r, tc.status, rules.Decision{RetryAfter: tc.retryAfter})
		if w.Body.String() != want.String() || w.Code != tc.status {
			t.Errorf("%d retry_after=%d: %d %q, want %q", tc.status, tc.retryAfter, w.Code, w.Body, want.String())
		}
		if ct, cc := w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"); ct != "application/json; charset=utf-8" || cc != "no-store" {
			t.Errorf("headers %q %q", ct, cc)
		}
	}
}

func TestRateLimitHeaderValues(t *testing.T) {
	for _, tc := range []struct {
		q            rules.Quota
		policy, left string
	}{
		{rules.Quota{Policy: "login/ip", Limit: 5, Window: 300, Remaining: 4, Reset: 112}, `"login/ip";q=5;w=300`, `"login/ip";r=4;t=112`},
		{rules.Quota{Policy: `a"b\c` + "\x01é", Limit: 1, Window: 60}, `"a\"b\\c???";q=1;w=60`, `"a\"b\\c???";r=0;t=0`},
	} {
		h := http.Header{}
		setRateLimit(h, tc.q)
		if p, l := h.Get("RateLimit-Policy"), h.Get("RateLimit"); p != tc.policy || l != tc.left {
			t.Errorf("%+v: %q %q, want %q %q", tc.q, p, l, tc.policy, tc.left)
		}
	}
	for _, n := range []int64{0, 7, 3600, 3601, 86400} {
		h := http.Header{}
		setRetryAfter(h, n)
		if got := h.Get("Retry-After"); got != itoa(n) {
			t.Errorf("Retry-After %d: %q", n, got)
		}
		h.Add("Retry-After", "x") // an append must not reach the shared table
		if smallInts[0] != "0" || (n < 3600 && smallInts[n+1] != itoa(n+1)) {
			t.Fatal("the shared Retry-After table was changed")
		}
	}
}
