package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// time.Duration fields of any section read wootguard's one duration
// syntax (1d, 1w, plain seconds), and every bad one is reported at its line.
func TestSectionDurationsUseTheOneSyntax(t *testing.T) {
	p := filepath.Join(t.TempDir(), "w.yaml")
	os.WriteFile(p, []byte("updates:\n  x:\n    a: 1d\n    b: 1w\n    c: 90\n    d: 1h30m\n    e: soon\n    f: -5m\n    g: [2d, nope]\n"), 0o644)
	var v struct {
		A, B, C, D, E, F time.Duration
		G                []time.Duration
	}
	_, err := LoadSection(p, "updates.x", &v)
	want := []time.Duration{24 * time.Hour, 7 * 24 * time.Hour, 90 * time.Second, 90 * time.Minute}
	for i, got := range []time.Duration{v.A, v.B, v.C, v.D} {
		if got != want[i] {
			t.Errorf("field %d = %v, want %v", i, got, want[i])
		}
	}
	if len(v.G) != 2 || v.G[0] != 48*time.Hour {
		t.Errorf("g = %v", v.G)
	}
	es, ok := err.(Errors)
	if !ok || len(es) != 3 {
		t.Fatalf("err = %v, want three errors", err)
	}
	for i, w := range []string{`w.yaml:7: e: bad duration "soon"`, `w.yaml:8: f: bad duration "-5m": must not be negative`, `w.yaml:9: g: bad duration "nope"`} {
		if !strings.Contains(es[i].Error(), w) {
			t.Errorf("error %d = %q, want %q", i, es[i], w)
		}
	}
}
