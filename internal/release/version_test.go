package release

import (
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    Version
		str     string
		wantErr string
	}{
		{in: "4.15.1", want: Version{Major: 4, Minor: 15, Patch: 1}, str: "4.15.1"},
		{in: "v4.15.1", want: Version{Major: 4, Minor: 15, Patch: 1}, str: "4.15.1"},
		{in: " v4.15.1\n", want: Version{Major: 4, Minor: 15, Patch: 1}, str: "4.15.1"},
		{in: "v4.15.1-ce", want: Version{Major: 4, Minor: 15, Patch: 1, Edition: "ce"}, str: "4.15.1-ce"},
		{in: "v3.0.0-rc1", want: Version{Major: 3, Pre: "rc1"}, str: "3.0.0-rc1"},
		{in: "2.16.1", want: Version{Major: 2, Minor: 16, Patch: 1}, str: "2.16.1"},
		{in: "2.6", want: Version{Major: 2, Minor: 6}, str: "2.6.0"},
		{in: "v3.0.0-rc1-ce", want: Version{Major: 3, Pre: "rc1", Edition: "ce"}, str: "3.0.0-rc1-ce"},
		{in: "", wantErr: "empty"},
		{in: "v", wantErr: "empty"},
		{in: "latest", wantErr: "not a number"},
		{in: "develop", wantErr: "not a number"},
		{in: "4.15.1.2", wantErr: "4 dot-separated parts"},
		{in: "4..1", wantErr: "not a number"},
		{in: "4.-1.0", wantErr: "not a number"},
		{in: "4.15.1-", wantErr: "bad suffix"},
		{in: "4.15.1-rc1-rc2", wantErr: "two pre-release"},
		{in: "4.15.1-r c", wantErr: "bad suffix"},
		{in: "4.15.1-..", wantErr: "bad suffix"},
		{in: "4.x.1", wantErr: "not a number"},
	}
	for _, tt := range tests {
		got, err := ParseVersion(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseVersion(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want || got.String() != tt.str {
			t.Errorf("ParseVersion(%q) = %+v (%q), %v; want %+v (%q)", tt.in, got, got.String(), err, tt.want, tt.str)
		}
	}
}

func TestVersionCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"4.15.1", "v4.15.1", 0},
		{"4.15.1", "4.15.1-ce", 0},
		{"4.9.0", "4.10.0", -1},
		{"4.11.2", "4.11.10", -1},
		{"3.0.0-rc1", "3.0.0", -1},
		{"3.0.0-rc1", "2.18.0", 1},
		{"3.0.0-rc2", "3.0.0-rc10", -1},
		{"3.0.0-beta", "3.0.0-rc1", -1},
		{"3.0.0-rc", "3.0.0-rc1", -1},
		{"3.0.0-rc.1", "3.0.0-rc1", 0},
		{"5.0.0", "4.99.99", 1},
		{"2.16.1", "2.16.0", 1},
	}
	for _, tt := range tests {
		a, b := MustParseVersion(tt.a), MustParseVersion(tt.b)
		if got := a.Compare(b); got != tt.want {
			t.Errorf("%s vs %s = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := b.Compare(a); got != -tt.want {
			t.Errorf("%s vs %s = %d, want %d (antisymmetry)", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestRange(t *testing.T) {
	tests := []struct {
		rng     string
		in, out []string
		wantErr string
	}{
		{rng: ">= 2.14.0, < 4.13.0", in: []string{"2.14.0", "4.12.9", "v3.0.0", "4.13.0-rc1"}, out: []string{"2.13.9", "4.13.0", "4.15.1"}},
		{rng: "< 4.9.0", in: []string{"4.8.9", "1.0.0", "4.9.0-rc1"}, out: []string{"4.9.0", "4.10.0"}},
		{rng: "= 1.2.3", in: []string{"1.2.3", "v1.2.3-ce"}, out: []string{"1.2.4", "1.2.2"}},
		{rng: "1.2.3", in: []string{"1.2.3"}, out: []string{"1.2.4"}},
		{rng: "<= 4.11.2", in: []string{"4.11.2", "4.11.1"}, out: []string{"4.11.3"}},
		{rng: "> 4.0.0,<=4.1.0", in: []string{"4.0.1", "4.1.0"}, out: []string{"4.0.0", "4.1.1"}},
		{rng: "<= x", wantErr: "not a number"},
		{rng: "", wantErr: "empty"},
		{rng: ">= 1.0.0,", wantErr: "empty"},
		{rng: "~> 4.1", wantErr: "not a number"},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.rng)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseRange(%q) error = %v, want %q", tt.rng, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseRange(%q): %v", tt.rng, err)
		}
		for _, v := range tt.in {
			if !r.Contains(MustParseVersion(v)) {
				t.Errorf("%q should contain %s", tt.rng, v)
			}
		}
		for _, v := range tt.out {
			if r.Contains(MustParseVersion(v)) {
				t.Errorf("%q should not contain %s", tt.rng, v)
			}
		}
	}
	if (Range{}).Contains(MustParseVersion("1.0.0")) {
		t.Error("the zero Range must contain nothing")
	}
}
