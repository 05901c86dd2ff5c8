package gateway_test

import (
	"net/http"
	"testing"
)

// A raw "#" in the request target: Go's server keeps it in the path or
// query the rules read, Puma takes it for the start of a fragment and
// drops the rest. "?email=victim@x#1", "#2", ... would each be a new
// key to a per-email rule, while Rails sees one address every time.
// Chatwoot must get the "#" escaped, the value the rules saw.
func TestUpstreamRequestURIFragmentEscaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/api/v1/auth/sign_in?email=victim%40x.com#1", "/api/v1/auth/sign_in?email=victim%40x.com%231"},
		{"/x?a=1#b=2&c=3", "/x?a=1%23b=2&c=3"},
		{"/x?#", "/x?%23"},
		{"/a#b?c", "/a%23b?c"}, // in the path: escaped there already
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got string
			up, _ := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.RequestURI }))
			rig := newUpstreamRig(t, up.URL, nil)
			resp, _ := rawExchange(t, hostOf(rig.srv.URL), "GET "+tt.in+" HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp == nil || resp.StatusCode != 200 || got != tt.want {
				t.Fatalf("upstream got %q, want %q (%v)", got, tt.want, resp)
			}
		})
	}
}
