package advisory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// IgnoreRule suppresses one advisory id and its aliases.
type IgnoreRule struct {
	ID      string
	Reason  string
	Expires time.Time // zero: never; otherwise the last day the rule holds
	Origin  string    // "file.yml:12" or "--ignore"
}

// Expired reports whether today is after the rule's last day.
func (r IgnoreRule) Expired(today time.Time) bool {
	if r.Expires.IsZero() {
		return false
	}
	y, m, d := today.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).After(r.Expires)
}

// IgnoreList is the merged ignore rules of every source.
type IgnoreList struct {
	Rules []IgnoreRule
}

// Add appends rules given on the command line (no reason, no expiry).
func (l *IgnoreList) Add(origin string, ids ...string) {
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" {
			l.Rules = append(l.Rules, IgnoreRule{ID: id, Origin: origin})
		}
	}
}

// Split returns the rules still in force and the expired ones.
func (l *IgnoreList) Split(today time.Time) (active, expired []IgnoreRule) {
	for _, r := range l.Rules {
		if r.Expired(today) {
			expired = append(expired, r)
		} else {
			active = append(active, r)
		}
	}
	return active, expired
}

// matchIgnore returns the index of the first rule naming one of ids.
func matchIgnore(rules []IgnoreRule, ids []string) int {
	for i, r := range rules {
		if containsFold(ids, r.ID) {
			return i
		}
	}
	return -1
}

// LoadBundlerAuditConfig reads bundler-audit's .bundler-audit.yml
// ("ignore:" list of ids). A missing file is no error.
func (l *IgnoreList) LoadBundlerAuditConfig(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var doc struct {
		Ignore yaml.Node `yaml:"ignore"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if doc.Ignore.Kind == 0 {
		return nil
	}
	if doc.Ignore.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s:%d: ignore: must be a list of advisory ids", path, doc.Ignore.Line)
	}
	for _, n := range doc.Ignore.Content {
		if n.Kind != yaml.ScalarNode || strings.TrimSpace(n.Value) == "" {
			return fmt.Errorf("%s:%d: ignore: entries must be advisory ids such as CVE-2024-1234", path, n.Line)
		}
		l.Rules = append(l.Rules, IgnoreRule{ID: n.Value, Origin: fmt.Sprintf("%s:%d", path, n.Line)})
	}
	return nil
}

// LoadIgnoreFile reads wootguard's ignore file:
//
//	ignore:
//	  - id: CVE-2026-1234
//	    reason: only reachable through the XML importer, which we disabled
//	    expires: 2026-12-31
//
// reason is required; expires is optional (the last day the rule holds).
// A missing file is an error only when required is set.
func (l *IgnoreList) LoadIgnoreFile(path string, required bool) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return nil
	} else if err != nil {
		return fmt.Errorf("ignore file: %w", err)
	}
	type entry struct {
		ID      string `yaml:"id"`
		Reason  string `yaml:"reason"`
		Expires string `yaml:"expires"`
	}
	var doc struct {
		Ignore []yaml.Node `yaml:"ignore"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %v", path, err)
	}
	for i := range doc.Ignore {
		n := &doc.Ignore[i]
		at := fmt.Sprintf("%s:%d", path, n.Line)
		if err := checkKeys(n, "id", "reason", "expires"); err != nil {
			return fmt.Errorf("%s: %v", at, err)
		}
		var e entry
		if err := n.Decode(&e); err != nil {
			return fmt.Errorf("%s: %v", at, err)
		}
		if strings.TrimSpace(e.ID) == "" {
			return fmt.Errorf("%s: entry without id", at)
		}
		if strings.TrimSpace(e.Reason) == "" {
			return fmt.Errorf("%s: %s has no reason: say why it is safe to ignore", at, e.ID)
		}
		r := IgnoreRule{ID: e.ID, Reason: e.Reason, Origin: at}
		if e.Expires != "" {
			t, err := time.Parse("2006-01-02", e.Expires)
			if err != nil {
				return fmt.Errorf("%s: expires %q is not a date (want YYYY-MM-DD)", at, e.Expires)
			}
			r.Expires = t
		}
		l.Rules = append(l.Rules, r)
	}
	return nil
}

func checkKeys(n *yaml.Node, allowed ...string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("each ignore entry must be a mapping with id, reason and expires")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return fmt.Errorf("line %d: unknown key %q (allowed: %s)", n.Content[i].Line, k, strings.Join(allowed, ", "))
		}
	}
	return nil
}
