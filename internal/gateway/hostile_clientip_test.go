package gateway_test

import (
	"io"
	"net/http"
	"sync"
	"testing"
)

// Behind a local nginx (trusted 127.0.0.1, which the chatwoot preset
// safelists) a junk or missing forwarding entry must not make the client
// 127.0.0.1: it is the one shared "unknown" client, counted, not
// safelisted, and Chatwoot is told "unknown" too.
func TestUnknownClientIsNeverTheProxyAndSharesOneBucket(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("X-Forwarded-For"))
		mu.Unlock()
		io.WriteString(w, "ok\n")
	})
	// The preset's safelist for 127.0.0.1 stays; one per-IP throttle of 3.
	h := newHostile(t, up, "client_ip: {trusted_proxies: [127.0.0.1]}\n"+
		"throttles: [{name: per-ip, limit: 3, period: 60, key: ip}]\n")
	junk := []string{"unknown", "unix:", "garbage", ""} // "": no header at all
	var got []int
	for _, xff := range junk {
		req, _ := http.NewRequest("GET", h.url+"/api/v1/profile", nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	if want := []int{200, 200, 200, 429}; !equalInts(got, want) {
		t.Fatalf("unknown clients got %v, want %v (one shared bucket, not safelisted)", got, want)
	}
	mu.Lock()
	for _, s := range seen {
		if s != "unknown" {
			t.Errorf("Chatwoot saw X-Forwarded-For %q, want \"unknown\"", s)
		}
	}
	mu.Unlock()
	if n := h.gw.UnknownClients(); n != 4 {
		t.Errorf("UnknownClients() = %d, want 4", n)
	}
	if n := h.logCount("client IP unknown"); n != 1 {
		t.Errorf("%d log lines about unknown clients, want 1 (once a minute)", n)
	}
	// A real client behind the same proxy is its own bucket.
	h.stillServes("203.0.113.5")
	if n := h.gw.UnknownClients(); n != 4 {
		t.Errorf("a resolved client counted as unknown: %d", n)
	}
}

// Rack derives the scheme and port from these; a client must not set them
// (secure cookies, redirect URLs), whether the peer is trusted or not.
func TestSchemeAndPortHeadersFromClientsAreStripped(t *testing.T) {
	var mu sync.Mutex
	var last http.Header
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = r.Header.Clone()
		mu.Unlock()
	})
	for _, trusted := range []string{"", "client_ip: {trusted_proxies: [127.0.0.1]}\n"} {
		h := newHostile(t, up, "preset: none\n"+trusted)
		req, _ := http.NewRequest("GET", h.url+"/", nil)
		for _, k := range []string{"X-Forwarded-Ssl", "X-Forwarded-Port", "X-Forwarded-Scheme", "Front-End-Https",
			"X_Forwarded_Ssl", "X_Forwarded_Port", "X_Forwarded_Scheme", "Front_End_Https"} {
			req.Header[k] = []string{"on"}
		}
		req.Header.Set("X-Forwarded-For", "198.51.100.7")
		resp, err := client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		mu.Lock()
		for k := range last {
			switch http.CanonicalHeaderKey(k) {
			case "X-Forwarded-Ssl", "X-Forwarded-Port", "X-Forwarded-Scheme", "Front-End-Https",
				"X_forwarded_ssl", "X_forwarded_port", "X_forwarded_scheme", "Front_end_https":
				t.Errorf("trusted=%v: %s reached Chatwoot", trusted != "", k)
			}
		}
		// A trusted proxy's X-Forwarded-Ssl: on becomes X-Forwarded-Proto.
		want := "http"
		if trusted != "" {
			want = "https"
		}
		if p := last.Get("X-Forwarded-Proto"); p != want {
			t.Errorf("trusted=%v: X-Forwarded-Proto %q, want %s", trusted != "", p, want)
		}
		mu.Unlock()
	}
}
