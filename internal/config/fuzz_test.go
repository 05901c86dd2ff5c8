package config

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// loadBytes is Load for file content, without touching the disk.
func loadBytes(data []byte) (*Gateway, error) {
	const path = "wootguard.yaml"
	f := &File{}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fromYAML(path, err)
	}
	if err := DecodeNode(path, &doc, f); err != nil {
		return nil, err
	}
	return build(path, &doc, f, func(string) string { return "" })
}

// FuzzLoad: no file can crash or hang the loader, and every refusal names
// the file (file:line: reason, or file: reason).
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"",
		"listen: 127.0.0.1:8080\nupstream: http://127.0.0.1:3000\n",
		"client_ip: {trusted_proxies: [127.0.0.1, 10.0.0.0/8], header: forwarded}\n",
		"throttles:\n  - {name: a, limit: 5, period: 1m, key: [ip, param:email], match: {method: POST, path: /auth/sign_in}}\n",
		"fail2ban:\n  - {name: f, key: ip, maxretry: 3, findtime: 1m, bantime: 1h, failure: {status: [401]}}\n",
		"blocklists:\n  - {name: b, ip: [192.0.2.0/24]}\nsafelists:\n  - {name: s, match: {header: {X-Internal: '*'}}}\n",
		"limits: {connections: 10, body_memory: 1MiB, small_body_timeout: 5s, websocket_paths: [/cable]}\n",
		"server: {read_header_timeout: 5s, body_timeout: -1s}\nbody_limit: 64KiB\n",
		"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
		"throttles: [{name: r, limit: 1, period: 60, key: capture:1, match: {path_regex: '(a+)+$'}}]\n",
		"preset: none\nstore: {kind: memory, max_keys: -1}\n",
		"updates: {schedule: nightly}\naudit: [1, 2]\n",
		"\t- bad\n",
		"throttles: [\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// An env file is read from disk: a fuzzed path could name a device.
		if bytes.Contains(data, []byte("env_file")) {
			t.Skip()
		}
		err := withinDeadline(t, data, func() error { _, err := loadBytes(data); return err })
		if err == nil {
			return
		}
		var es Errors
		var e *Error
		switch {
		case errors.As(err, &es):
			for _, e := range es {
				if e.File != "wootguard.yaml" || e.Reason == "" {
					t.Fatalf("error without file or reason: %#v", e)
				}
			}
		case errors.As(err, &e):
			if e.File != "wootguard.yaml" || e.Reason == "" {
				t.Fatalf("error without file or reason: %#v", e)
			}
		default:
			t.Fatalf("error of type %T, not file:line: reason: %v", err, err)
		}
		if !strings.HasPrefix(err.Error(), "wootguard.yaml") {
			t.Fatalf("error does not start with the file name: %v", err)
		}
	})
}

// withinDeadline runs load and fails the fuzz input when it hangs (the
// fuzzer itself has no notion of a hang).
func withinDeadline(t *testing.T, data []byte, load func() error) error {
	done := make(chan error, 1)
	go func() { done <- load() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("loading took more than 5s: %q", data)
		return nil
	}
}
