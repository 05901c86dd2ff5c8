package gateway

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRefusalSamplerFirstLinesThenOneSummary(t *testing.T) {
	var buf bytes.Buffer
	s := newRefusalSampler(0, slog.New(slog.NewTextHandler(&buf, nil)))
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	allowed := 0
	for i := 0; i < 100; i++ {
		if s.allow("login/ip", "192.0.2.1") {
			allowed++
		}
	}
	for i := 0; i < 3; i++ {
		if s.allow("login/ip", "192.0.2.2") {
			allowed++
		}
	}
	if allowed != DefaultRefusalLogLimit+3 {
		t.Fatalf("allowed %d lines, want %d", allowed, DefaultRefusalLogLimit+3)
	}
	if buf.Len() != 0 {
		t.Fatalf("summary before the minute ended: %s", buf.String())
	}
	now = now.Add(time.Minute) // the next refusal in a new minute writes the summary
	if !s.allow("login/ip", "192.0.2.1") {
		t.Fatal("a new minute starts a new sample")
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "suppressed=95") || !strings.Contains(out, "keys=1") || !strings.Contains(out, "rule=login/ip") {
		t.Fatalf("summary: %q", out)
	}
	s.flush() // nothing suppressed in this minute: no line
	if strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("empty summary written: %q", buf.String())
	}
}

func TestRefusalSamplerBoundedUnderSpray(t *testing.T) {
	var buf bytes.Buffer
	s := newRefusalSampler(2, slog.New(slog.NewTextHandler(&buf, nil)))
	s.now = func() time.Time { return time.Unix(1_800_000_000, 0) }
	for i := 0; i < sampleKeys+500; i++ {
		s.allow("req/ip", string(rune(i)))
	}
	if len(s.seen) > sampleKeys {
		t.Fatalf("%d keys remembered, bound %d", len(s.seen), sampleKeys)
	}
	s.flush()
	if !strings.Contains(buf.String(), "suppressed=500") {
		t.Fatalf("summary: %q", buf.String())
	}
	if all := newRefusalSampler(-1, slog.Default()); !all.allow("a", "b") || !all.allow("a", "b") {
		t.Fatal("a negative limit logs every refusal")
	}
}
