package gateway_test

import "testing"

// TestAlgorithmSlidingWindow: no 2×limit burst across a window edge, and
// Retry-After says when one more request fits. (Run on both stores: the
// Redis conformance run includes it.)
func TestAlgorithmSlidingWindow(t *testing.T) {
	r := newRig(t, "preset: none\nthrottles: [{name: s, limit: 4, period: 60s, key: ip, algorithm: sliding-window}]\n", nil)
	if got := r.statuses(req{ip: ip1}, 5); !equalInts(got, codes(200, 200, 200, 200, 429)) {
		t.Fatalf("first window %v", got)
	}
	// 15s into the next window the previous 5 still weigh 5×45/60 = 3.75:
	// a fixed window would admit 4 more here, the sliding one none.
	r.clock.add(75)
	resp := r.do(req{ip: ip1})
	// Weighted: ceil(3.75 + 1) = 5 > 4. One more fits once
	// 5×(60-e)/60 + 1 + 1 <= 4, i.e. at e = 36: 21 s from now.
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "21" {
		t.Fatalf("across the edge: %d Retry-After %q, want 429 and 21", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	r.clock.add(21)
	if got := r.do(req{ip: ip1}).StatusCode; got != 200 {
		t.Fatalf("after Retry-After: %d", got)
	}
}

// TestAlgorithmGCRA: a burst, then one request per period/limit, with
// Retry-After and RateLimit headers from the arrival time.
func TestAlgorithmGCRA(t *testing.T) {
	r := newRig(t, "preset: none\nthrottles: [{name: g, limit: 6, period: 60s, key: ip, algorithm: gcra, burst: 2}]\n", nil)
	first := r.do(req{ip: ip1})
	if first.StatusCode != 200 || first.Header.Get("RateLimit") != `"g";r=1;t=10` {
		t.Fatalf("first: %d RateLimit %q", first.StatusCode, first.Header.Get("RateLimit"))
	}
	r.do(req{ip: ip1})
	resp := r.do(req{ip: ip1}) // burst of 2 used: the next cell frees in 10s
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "10" {
		t.Fatalf("over the burst: %d Retry-After %q, want 429 and 10", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	r.clock.add(9)
	if got := r.do(req{ip: ip1}); got.StatusCode != 429 || got.Header.Get("Retry-After") != "1" {
		t.Fatalf("t+9: %d Retry-After %q (refused requests are not counted)", got.StatusCode, got.Header.Get("Retry-After"))
	}
	r.clock.add(1)
	if got := r.statuses(req{ip: ip1}, 2); !equalInts(got, codes(200, 429)) {
		t.Fatalf("t+10: %v, want one request through", got)
	}
}
