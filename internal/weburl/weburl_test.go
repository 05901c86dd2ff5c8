package weburl

import "testing"

func TestParse(t *testing.T) {
	for s, ok := range map[string]bool{
		"http://127.0.0.1:3000": true, "https://chat.example.com/hook?x=1": true,
		"": false, "127.0.0.1:3000": false, "ftp://host/": false, "http://": false, "https:///path": false,
		"http://[::1": false, "mailto:a@b": false,
	} {
		u, err := Parse(s)
		if ok != (err == nil) || ok != (u != nil) {
			t.Errorf("Parse(%q) = %v, %v; want ok=%v", s, u, err, ok)
		}
	}
}
