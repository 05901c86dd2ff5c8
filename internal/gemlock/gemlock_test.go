package gemlock

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseChatwootLockfiles(t *testing.T) {
	tests := []struct {
		file                          string
		specs, gitSpecs, platformVars int
		platforms, deps, pinned       int
		ruby, bundler                 string
	}{
		{"00457f1c.Gemfile.lock", 333, 3, 13, 9, 128, 2, "ruby 3.3.3p89", "2.5.16"},
		{"v4.15.1.Gemfile.lock", 389, 3, 13, 9, 151, 2, "ruby 3.4.4p34", "2.5.16"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			lf, err := ParseFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			git, variants := 0, 0
			for _, s := range lf.Specs {
				if s.Source.Type == "GIT" {
					git++
				}
				if s.Platform != "" {
					variants++
				}
			}
			pinned := 0
			for _, d := range lf.Dependencies {
				if d.Pinned {
					pinned++
				}
			}
			got := []int{len(lf.Specs), git, variants, len(lf.Platforms), len(lf.Dependencies), pinned}
			want := []int{tt.specs, tt.gitSpecs, tt.platformVars, tt.platforms, tt.deps, tt.pinned}
			for i, name := range []string{"specs", "GIT specs", "platform variants", "PLATFORMS", "DEPENDENCIES", "pinned (!)"} {
				if got[i] != want[i] {
					t.Errorf("%s = %d, want %d", name, got[i], want[i])
				}
			}
			if lf.RubyVersion != tt.ruby {
				t.Errorf("RUBY VERSION = %q, want %q", lf.RubyVersion, tt.ruby)
			}
			if lf.BundledWith != tt.bundler {
				t.Errorf("BUNDLED WITH = %q, want %q", lf.BundledWith, tt.bundler)
			}
			first := lf.Sources[0]
			if first.Type != "GIT" || first.Remote() != "https://github.com/chatwoot/azure-storage-ruby" ||
				first.Revision() != "9957cf899d33a285b5dfe15bdb875292398e392b" || first.Branch() != "chatwoot" {
				t.Errorf("first source = %+v", first)
			}
			if len(first.Specs) != 2 || first.Specs[0].Name != "azure-storage-blob" || len(first.Specs[0].Deps) != 2 ||
				first.Specs[0].Deps[1].Requirement != "~> 1, >= 1.10.8" {
				t.Errorf("first GIT specs = %+v", first.Specs)
			}
		})
	}
}

func TestPlatformVariants(t *testing.T) {
	lf, err := ParseFile("testdata/v4.15.1.Gemfile.lock")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range lf.Specs {
		if s.Name == "nokogiri" {
			got = append(got, s.Version+"|"+s.Platform+"|"+s.FullName())
		}
	}
	want := []string{
		"1.19.3||nokogiri-1.19.3",
		"1.19.3|arm64-darwin|nokogiri-1.19.3-arm64-darwin",
		"1.19.3|x86_64-darwin|nokogiri-1.19.3-x86_64-darwin",
		"1.19.3|x86_64-linux-gnu|nokogiri-1.19.3-x86_64-linux-gnu",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("nokogiri variants:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range lf.Specs {
		if s.Name == "nokogiri" && s.Platform == "x86_64-linux-gnu" && s.Line != 608 {
			t.Errorf("nokogiri x86_64-linux-gnu on line %d, want 608", s.Line)
		}
	}
}

// allSections exercises what the Chatwoot files lack: PATH, PLUGIN
// SOURCE, tag/ref/glob, several GEM remotes, CHECKSUMS, CRLF endings.
const allSections = "GIT\r\n" +
	`  remote: git://github.com/example/old.git
  revision: 0123456789abcdef0123456789abcdef01234567
  ref: 0123456
  tag: v1.2.0
  glob: gems/*/*.gemspec
  submodules: true
  specs:
    old (1.2.0)

PATH
  remote: vendor/engines/local
  specs:
    local (0.1.0.pre)
      rack (>= 2.0, < 4)

PLUGIN SOURCE
  remote: https://plugins.example.com
  type: s3
  revision: abc
  specs:
    plug (2.0.0)

GEM
  remote: https://rubygems.org/
  remote: http://gems.example.com/
  specs:
    rack (3.1.0)
    google-protobuf (3.25.0-java)
    google-protobuf (3.25.0-x86_64-linux)
    fat (1.0.0-universal-darwin-23)

PLATFORMS
  java
  ruby

DEPENDENCIES
  local!
  old!
  plug
  rack (~> 3.1, >= 3.1.0)

CHECKSUMS
  rack (3.1.0) sha256=abc

RUBY VERSION
   ruby 3.3.0p0

BUNDLED WITH
   2.6.2
`

func TestParseAllSections(t *testing.T) {
	lf, err := Parse([]byte(allSections))
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, s := range lf.Sources {
		types = append(types, s.Type)
	}
	if got := strings.Join(types, ","); got != "GIT,PATH,PLUGIN SOURCE,GEM" {
		t.Errorf("sources = %s", got)
	}
	git := lf.Sources[0]
	if git.Remote() != "git://github.com/example/old.git" || git.Ref() != "0123456" || git.Tag() != "v1.2.0" ||
		git.Glob() != "gems/*/*.gemspec" || git.Options["submodules"] != "true" {
		t.Errorf("GIT options = %+v %v", git.Options, git.Remotes)
	}
	if p := lf.Sources[2]; p.Options["type"] != "s3" || p.Specs[0].Name != "plug" {
		t.Errorf("PLUGIN SOURCE = %+v", p)
	}
	gem := lf.Sources[3]
	if len(gem.Remotes) != 2 || gem.Remotes[1] != "http://gems.example.com/" {
		t.Errorf("GEM remotes = %v", gem.Remotes)
	}
	var specs []string
	for _, s := range lf.Specs {
		specs = append(specs, s.FullName())
	}
	want := "old-1.2.0 local-0.1.0.pre plug-2.0.0 rack-3.1.0 google-protobuf-3.25.0-java google-protobuf-3.25.0-x86_64-linux fat-1.0.0-universal-darwin-23"
	if got := strings.Join(specs, " "); got != want {
		t.Errorf("specs = %s\nwant   %s", got, want)
	}
	var deps []string
	for _, d := range lf.Dependencies {
		s := d.Name + "(" + d.Requirement + ")"
		if d.Pinned {
			s += "!"
		}
		deps = append(deps, s)
	}
	if got := strings.Join(deps, " "); got != "local()! old()! plug() rack(~> 3.1, >= 3.1.0)" {
		t.Errorf("deps = %s", got)
	}
	if lf.RubyVersion != "ruby 3.3.0p0" || lf.BundledWith != "2.6.2" || strings.Join(lf.Platforms, ",") != "java,ruby" {
		t.Errorf("ruby=%q bundler=%q platforms=%v", lf.RubyVersion, lf.BundledWith, lf.Platforms)
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		reason   string
	}{
		{"empty", "", 1, "no sections"},
		{"only platforms", "PLATFORMS\n  ruby\n", 1, "no GEM, GIT or PATH"},
		{"garbage header", "hello world\n", 1, "unexpected unindented line"},
		{"indent before header", "  remote: x\n", 1, "before any section"},
		{"merge conflict", "GEM\n  remote: https://rubygems.org/\n  specs:\n<<<<<<< HEAD\n    rack (3.1.0)\n", 4, "merge conflict"},
		{"tab", "GEM\n\tremote: x\n", 2, "tab"},
		{"spec before specs:", "GEM\n  remote: https://rubygems.org/\n    rack (3.1.0)\n", 3, "before specs:"},
		{"spec without version", "GEM\n  specs:\n    rack\n", 3, "malformed spec"},
		{"spec bad version", "GEM\n  specs:\n    rack (three)\n", 3, "malformed version"},
		{"spec bad name", "GEM\n  specs:\n    ra/ck (1.0)\n", 3, "malformed spec"},
		{"spec with bang", "GEM\n  specs:\n    rack (1.0)!\n", 3, "malformed spec"},
		{"dep before spec", "GEM\n  specs:\n      rack (>= 1)\n", 3, "before any spec"},
		{"bad dep requirement", "GEM\n  specs:\n    a (1.0)\n      rack (>> 1)\n", 4, "ill-formed requirement"},
		{"odd indentation", "GEM\n  specs:\n     a (1.0)\n", 3, "indentation of 5"},
		{"option after specs", "GEM\n  specs:\n    a (1.0)\n  remote: x\n", 4, "after specs:"},
		{"bad option", "GIT\n  remote x\n", 2, "want key: value"},
		{"git without remote", "GIT\n  revision: abc\n  specs:\n    a (1.0)\n", 1, "without a remote"},
		{"bad platform", "GEM\n  specs:\nPLATFORMS\n  ruby java\n", 4, "malformed platform"},
		{"bad dependency", "GEM\n  specs:\nDEPENDENCIES\n  rack (>= 1\n", 4, "malformed dependency"},
		{"bad bundled with", "GEM\n  specs:\nBUNDLED WITH\n   two\n", 4, "BUNDLED WITH"},
		{"binary", "GEM\n\xff\xfe\n", 1, "not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LineError", err)
			}
			if le.Line != tt.line || !strings.Contains(le.Reason, tt.reason) {
				t.Errorf("err = %v, want line %d containing %q", err, tt.line, tt.reason)
			}
		})
	}
}

func TestParseFileNames(t *testing.T) {
	dir := t.TempDir()
	if _, err := ParseFile(dir); err == nil || !strings.Contains(err.Error(), "no Gemfile.lock or gems.locked") {
		t.Errorf("empty dir: err = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gems.locked"), []byte(allSections), 0o644); err != nil {
		t.Fatal(err)
	}
	lf, err := ParseFile(dir)
	if err != nil || filepath.Base(lf.Path) != "gems.locked" {
		t.Fatalf("gems.locked: %v %v", lf, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Gemfile.lock"), []byte("GEM\n  specs:\n    x (1.0)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lf, err = ParseFile(dir)
	if err != nil || filepath.Base(lf.Path) != "Gemfile.lock" || len(lf.Specs) != 1 {
		t.Fatalf("Gemfile.lock preferred: %+v %v", lf, err)
	}
	_, err = ParseFile(filepath.Join(dir, "missing.lock"))
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing file: err = %v", err)
	}
	bad := filepath.Join(dir, "bad.lock")
	os.WriteFile(bad, []byte("GEM\n  specs:\n    rack\n"), 0o644)
	if _, err := ParseFile(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":3: ") {
		t.Errorf("error should start with file:line, got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"00457f1c.Gemfile.lock", "v4.15.1.Gemfile.lock"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:min(len(data), 3000)])
	}
	f.Add([]byte(allSections))
	f.Add([]byte("GEM\n  specs:\n    a (1.0-x86_64-linux)\n      b (~> 1, >= 1.2)\nDEPENDENCIES\n  a!\n"))
	f.Add([]byte("GIT\n  remote: https://github.com/x/y\n  revision: abc\n  specs:\n    y (1.0)\n\nBUNDLED WITH\n   2.5.0\n"))
	f.Add([]byte("GEM\r\n  remote: x\r\n  specs:\r\n    a (1)\r\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lf, err := Parse(data)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line < 1 || le.Line > bytes.Count(data, []byte("\n"))+1 {
				t.Fatalf("error without a line of the file: %v", err)
			}
			return
		}
		for _, s := range lf.Specs {
			if s.Name == "" || s.Version == "" || s.Line < 1 || s.Source == nil {
				t.Fatalf("incomplete spec %+v", s)
			}
		}
	})
}
