package units

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestByteSizeYAML(t *testing.T) {
	tests := []struct {
		doc  string
		want ByteSize
		err  string // "" = no error
	}{
		{"size: 64KiB\n", 64 << 10, ""},
		{"size: 65536\n", 65536, ""},
		{"size: 5 GB\n", 5e9, ""},
		{"other: 1\nsize: \"\"\n", 0, `line 2: bad size ""`},
		{"size: lots\n", 0, `line 1: bad size "lots"`},
		{"size:\n  - 1\n", 0, "line 2: want a size like"},
	}
	for _, tt := range tests {
		var v struct {
			Size  ByteSize `yaml:"size"`
			Other int      `yaml:"other"`
		}
		err := yaml.Unmarshal([]byte(tt.doc), &v)
		switch {
		case tt.err == "" && (err != nil || v.Size != tt.want):
			t.Errorf("%q: %d, %v; want %d", tt.doc, v.Size, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q: error %v, want %q", tt.doc, err, tt.err)
		}
	}
	if s := ByteSize(5 << 30).String(); s != "5.0 GiB" {
		t.Errorf("5GiB prints %q", s)
	}
	if s := ByteSize(512 << 20).String(); s != "512.0 MiB" {
		t.Errorf("512MiB prints %q", s)
	}
}
