package rules

import (
	"net/http"
	"strings"
	"testing"
)

func TestSecretKeyParts(t *testing.T) {
	tests := []struct {
		key    string
		header map[string]string
		hashed bool
	}{
		{"header:api_access_token", map[string]string{"Api-Access-Token": "tok123"}, true},
		{"header:authorization", map[string]string{"Authorization": "Bearer abc"}, true},
		{"header:user-agent", map[string]string{"User-Agent": "curl"}, false},
		{"chatwoot:api_user", map[string]string{"Api-Access-Token": "tok123"}, true},
		{"chatwoot:api_user", map[string]string{"Uid": "agent@example.com"}, false},
	}
	for _, tt := range tests {
		rl := &rule{secret: []byte("0123456789abcdef")}
		src, err := parseKeySource(tt.key, 0)
		if err != nil {
			t.Fatal(err)
		}
		rl.key = []keyPart{{src}}
		h := http.Header{}
		for k, v := range tt.header {
			h.Set(k, v)
		}
		r := &Request{Header: h}
		got, ok := appendDiscriminator(nil, rl, r, "/")
		if !ok {
			t.Fatalf("%s: no key", tt.key)
		}
		if strings.HasPrefix(string(got), "h:") != tt.hashed {
			t.Fatalf("%s %v: key %q, hashed want %v", tt.key, tt.header, got, tt.hashed)
		}
		again, _ := appendDiscriminator(nil, rl, r, "/")
		rl.secret = []byte("another secret!!")
		other, _ := appendDiscriminator(nil, rl, r, "/")
		if string(again) != string(got) || (tt.hashed && string(other) == string(got)) {
			t.Fatalf("%s: %q %q %q: want stable per secret, different across secrets", tt.key, got, again, other)
		}
	}
}
