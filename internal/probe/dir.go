package probe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FromDir reads the version of a Chatwoot checkout or image filesystem
// (/home/chatwoot/chatwoot on a cwctl VM, /app in the Docker image):
// VERSION_CW first, then config/app.yml (shared: version: '4.15.1'). The
// git SHA comes from .git_sha when present.
func FromDir(dir string) (*Result, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("Chatwoot directory: %v", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("Chatwoot directory %s is not a directory", dir)
	}
	res := &Result{Source: "dir"}
	if sha, err := os.ReadFile(filepath.Join(dir, ".git_sha")); err == nil {
		res.GitSHA = strings.TrimSpace(string(sha))
	}
	data, err := os.ReadFile(filepath.Join(dir, "VERSION_CW"))
	switch {
	case err == nil && strings.TrimSpace(string(data)) != "":
		res.Version = strings.TrimSpace(string(data))
		return res, nil
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("reading VERSION_CW: %v", err)
	}
	appYML := filepath.Join(dir, "config", "app.yml")
	data, err = os.ReadFile(appYML)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: neither VERSION_CW nor config/app.yml found: is this a Chatwoot directory?", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", appYML, err)
	}
	var app struct {
		Shared struct {
			// A node keeps the text as written: an unquoted 4.10 must not
			// become the float 4.1.
			Version yaml.Node `yaml:"version"`
		} `yaml:"shared"`
	}
	if err := yaml.Unmarshal(data, &app); err != nil {
		return nil, fmt.Errorf("%s: not valid YAML: %v", appYML, err)
	}
	v := app.Shared.Version
	if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
		return nil, fmt.Errorf("%s: no shared.version", appYML)
	}
	res.Version = strings.TrimSpace(v.Value)
	return res, nil
}
