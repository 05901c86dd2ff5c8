// Package gemlock parses Bundler lockfiles (Gemfile.lock, gems.locked):
// the GEM, GIT, PATH and PLUGIN SOURCE sections with their specs and
// platform variants, PLATFORMS, DEPENDENCIES, RUBY VERSION and BUNDLED
// WITH. Malformed input gives an error naming the line; it never panics.
package gemlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Lockfile is a parsed lockfile.
type Lockfile struct {
	Path         string
	Sources      []*Source
	Specs        []*Spec // every spec of every source, in file order
	Platforms    []string
	Dependencies []Dependency
	RubyVersion  string // "ruby 3.4.4p34"
	BundledWith  string // "2.5.16"
	// Unknown lists section headers this parser does not know; Bundler
	// ignores them too, so they are not errors.
	Unknown []string
}

// Source is one GEM, GIT, PATH or PLUGIN SOURCE section.
type Source struct {
	Type    string   // "GEM", "GIT", "PATH" or "PLUGIN SOURCE"
	Line    int      // line of the section header
	Remotes []string // "remote:" values; GEM sections may list several
	// Options holds every other "key: value" line (revision, branch, ref,
	// tag, glob, submodules, type for plugins...).
	Options map[string]string
	Specs   []*Spec
}

// Remote is the first remote, or "".
func (s *Source) Remote() string {
	if len(s.Remotes) == 0 {
		return ""
	}
	return s.Remotes[0]
}

// Revision, Branch, Ref, Tag and Glob return GIT/PATH options.
func (s *Source) Revision() string { return s.Options["revision"] }
func (s *Source) Branch() string   { return s.Options["branch"] }
func (s *Source) Ref() string      { return s.Options["ref"] }
func (s *Source) Tag() string      { return s.Options["tag"] }
func (s *Source) Glob() string     { return s.Options["glob"] }

// Spec is one resolved gem: "nokogiri (1.19.3-x86_64-linux-gnu)" is
// Name nokogiri, Version 1.19.3, Platform x86_64-linux-gnu.
type Spec struct {
	Name     string
	Version  string // as written, without the platform
	Platform string // "" for the generic "ruby" platform
	Line     int
	Source   *Source
	Deps     []Dependency
}

// FullName is "name-version[-platform]" as RubyGems prints it.
func (s *Spec) FullName() string {
	if s.Platform == "" {
		return s.Name + "-" + s.Version
	}
	return s.Name + "-" + s.Version + "-" + s.Platform
}

// Dependency is a dependency line of a spec or of DEPENDENCIES.
type Dependency struct {
	Name        string
	Requirement string // "~> 1, >= 1.10.8" or "" for any version
	// Pinned is the "!" marker in DEPENDENCIES: the gem comes from a
	// source other than the default (GIT, PATH, or a source block).
	Pinned bool
	Line   int
}

// Names are the lockfile names Bundler writes, in the order it prefers.
var Names = []string{"Gemfile.lock", "gems.locked"}

// Find returns the lockfile in dir: Gemfile.lock, else gems.locked.
func Find(dir string) (string, error) {
	for _, n := range Names {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Gemfile.lock or gems.locked in %s", dir)
}

// ParseFile reads and parses a lockfile. A directory is searched with Find.
func ParseFile(path string) (*Lockfile, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		p, err := Find(path)
		if err != nil {
			return nil, err
		}
		path = p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("lockfile %s not found (run 'bundle lock' to create it, or pass its path)", path)
		}
		return nil, err
	}
	lf, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", path, err)
	}
	lf.Path = path
	return lf, nil
}
