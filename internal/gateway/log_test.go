package gateway

import "testing"

func TestMaskKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":                  "203.0.113.7",
		"2001:db8::1":                  "2001:db8::1",
		"2001:db8::1:websitetoken123":  "2001:db8::1:websi...[REDACTED]",
		"203.0.113.7:websitetoken123":  "203.0.113.7:websi...[REDACTED]",
		"victim@example.com":           "v***@example.com",
		"agent@x.io:42":                "a***@x.io:42",
		"abc":                          "*****",
		"":                             "",
		"eyjhbgcioijiuzi1nij9.payload": "eyjhb...[REDACTED]",
		"::1":                          "::1",
	} {
		if got := MaskKey(in); got != want {
			t.Errorf("MaskKey(%q) = %q, want %q", in, got, want)
		}
	}
}
