package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type sectionT struct {
	Windows []struct {
		Day   string        `yaml:"day"`
		Every time.Duration `yaml:"every"`
	} `yaml:"windows"`
	Name string `yaml:"name"`
}

func TestLoadSection(t *testing.T) {
	tests := []struct {
		name, yaml, key string
		found           bool
		wantErr         string
	}{
		{"ok", "updates:\n  schedule:\n    name: x\n    windows:\n      - {day: tue, every: 1h}\n", "updates.schedule", true, ""},
		{"missing", "listen: x\n", "updates.schedule", false, ""},
		{"unknown key with line", "updates:\n  schedule:\n    name: x\n    windws: []\n", "updates.schedule", true, `c.yaml:4: unknown key "windws" (did you mean "windows"?)`},
		{"unknown nested in flow", "updates:\n  schedule:\n    windows:\n      - {day: tue}\n      - {day: wed, evry: 1h}\n", "updates.schedule", true, `c.yaml:5: unknown key "evry"`},
		{"bad duration", "updates:\n  schedule:\n    windows:\n      - every: soon\n", "updates.schedule", true, "c.yaml:4:"},
		{"bad type", "updates:\n  schedule:\n    windows: 3\n", "updates.schedule", true, "c.yaml:3: wrong type: got a number `3`, want a list"},
		{"map for list", "updates:\n  schedule:\n    windows: {a: 1}\n", "updates.schedule", true, "c.yaml:3: wrong type: got a mapping, want a list"},
		{"syntax", "updates:\n  schedule: [\n", "updates.schedule", false, "c.yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(p, []byte(tt.yaml), 0o644)
			var v sectionT
			found, err := LoadSection(p, tt.key, &v)
			if tt.wantErr == "" {
				if err != nil || found != tt.found {
					t.Fatalf("found=%v err=%v", found, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}
