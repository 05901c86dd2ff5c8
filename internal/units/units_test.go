package units

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	good := []struct {
		in   string
		want time.Duration
	}{
		{"30s", 30 * time.Second}, {"5m", 5 * time.Minute}, {"1h", time.Hour}, {"1d", day}, {"1w", 7 * day},
		{"90", 90 * time.Second}, {"0", 0}, {"1h30m", 90 * time.Minute}, {"1d12h", 36 * time.Hour},
		{"1.5d", 36 * time.Hour}, {"500ms", 500 * time.Millisecond}, {" 2w ", 14 * day}, {"0s", 0},
	}
	for _, tc := range good {
		if got, err := ParseDuration(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParseSize("-5GiB"); err == nil || !strings.Contains(err.Error(), "must not be negative") {
		t.Errorf("ParseSize(-5GiB) = %v, want a negative-size error, as for durations", err)
	}
	if _, err := ParseDuration("-1s"); err == nil || !strings.Contains(err.Error(), "must not be negative") {
		t.Errorf("ParseDuration(-1s) = %v, want a negative-duration error", err)
	}
	for _, in := range []string{"", "20 minutes", "5min", "1y", "s", "1.2.3s", "99999999999999999999"} {
		if _, err := ParseDuration(in); err == nil || !strings.Contains(err.Error(), "30s, 5m, 1h, 1d, 1w") {
			t.Errorf("ParseDuration(%q) = %v, want an error naming the syntax", in, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"65536", 65536}, {"64KiB", 64 << 10}, {"64kib", 64 << 10}, {"64KB", 64000}, {"64kb", 64000}, {"64kB", 64000},
		{"64K", 64000}, {"1MiB", 1 << 20}, {"500MB", 500e6}, {"5G", 5e9}, {"5GiB", 5 << 30}, {"1.5 GiB", 3 << 29},
		{"2ti", 2 << 40}, {"10B", 10},
	}
	for _, tc := range good {
		if got, err := ParseSize(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "-1G", "64 kilobytes", "5 potatoes", "KiB", "1e9"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", 300 * time.Second: "5m", 14 * 24 * time.Hour: "2w",
		48 * time.Hour: "2d", 90 * time.Second: "90s", 1500 * time.Millisecond: "1.5s"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(FormatDuration(d)); err != nil || back != d {
			t.Errorf("round trip of %v: %v, %v", d, back, err)
		}
	}
}

// A bad value must not stop the decoder: every bad value is reported, each
// with its line, and the good ones are still read.
func TestDurationYAMLReportsEveryBadValue(t *testing.T) {
	var v struct {
		A testDuration `yaml:"a"`
		B testDuration `yaml:"b"`
		C testDuration `yaml:"c"`
	}
	err := yaml.Unmarshal([]byte("a: 20 minutes\nb: 1w\nc: -1s\n"), &v)
	te, ok := err.(*yaml.TypeError)
	if !ok || len(te.Errors) != 2 || !strings.HasPrefix(te.Errors[0], "line 1: ") || !strings.HasPrefix(te.Errors[1], "line 3: ") {
		t.Fatalf("err = %#v, want two line-numbered errors", err)
	}
	if time.Duration(v.B) != 7*24*time.Hour {
		t.Errorf("b = %v, want 1w read despite the other errors", v.B)
	}
}

// testDuration reads a duration the way wootguard's YAML types do.
type testDuration time.Duration

func (d *testDuration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return YAMLError(n.Line, err)
	}
	*d = testDuration(v)
	return nil
}
