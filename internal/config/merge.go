package config

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store"
)

// Merge lays the file's rules over a preset: a file rule with a preset
// rule's name replaces it in the preset's position (as redefining a
// Rack::Attack throttle keeps its place); other file rules follow the
// preset's.
func Merge(preset, file rules.Spec) rules.Spec {
	return rules.Spec{
		Safelists:  mergeBy(preset.Safelists, file.Safelists, func(r rules.ListRule) string { return r.Name }, func(r *rules.ListRule) *string { return &r.Source }),
		Blocklists: mergeBy(preset.Blocklists, file.Blocklists, func(r rules.ListRule) string { return r.Name }, func(r *rules.ListRule) *string { return &r.Source }),
		Throttles:  mergeBy(preset.Throttles, file.Throttles, func(r rules.Throttle) string { return r.Name }, func(r *rules.Throttle) *string { return &r.Source }),
		Fail2Ban:   mergeBy(preset.Fail2Ban, file.Fail2Ban, func(r rules.BanRule) string { return r.Name }, func(r *rules.BanRule) *string { return &r.Source }),
		Allow2Ban:  mergeBy(preset.Allow2Ban, file.Allow2Ban, func(r rules.BanRule) string { return r.Name }, func(r *rules.BanRule) *string { return &r.Source }),
		Tracks:     mergeBy(preset.Tracks, file.Tracks, func(r rules.Track) string { return r.Name }, func(r *rules.Track) *string { return &r.Source }),
	}
}

func mergeBy[T any](preset, file []T, name func(T) string, source func(*T) *string) []T {
	out := append([]T(nil), preset...)
	for _, r := range file {
		replaced := false
		for i := range out {
			if name(out[i]) == name(r) {
				was := *source(&out[i])
				out[i] = r
				*source(&out[i]) = "config (overrides " + was + ")"
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, r)
		}
	}
	return out
}

func withSource(s rules.Spec, src string) rules.Spec {
	set := func(p *string) {
		if *p == "" {
			*p = src
		}
	}
	for i := range s.Safelists {
		set(&s.Safelists[i].Source)
	}
	for i := range s.Blocklists {
		set(&s.Blocklists[i].Source)
	}
	for i := range s.Throttles {
		set(&s.Throttles[i].Source)
	}
	for i := range s.Fail2Ban {
		set(&s.Fail2Ban[i].Source)
	}
	for i := range s.Allow2Ban {
		set(&s.Allow2Ban[i].Source)
	}
	for i := range s.Tracks {
		set(&s.Tracks[i].Source)
	}
	return s
}

// noStore lets Compile check counting rules without a real store.
type noStore struct{}

func (noStore) Run(context.Context, time.Time, []store.Op, *store.Result) error { return nil }
func (noStore) Fail(context.Context, time.Time, store.Op) (int64, bool, error)  { return 0, false, nil }
func (noStore) Reset(context.Context, string) (int, error)                      { return 0, nil }
func (noStore) Close() error                                                    { return nil }

// lineOf finds the line of a spec path such as "throttles[2].match.path_regex"
// in the document; when part of the path is absent it returns the line of
// the deepest part that exists.
func lineOf(doc *yaml.Node, path string) int {
	n := doc
	if n == nil || n.Kind == 0 {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, seg := range strings.Split(path, ".") {
		name, idx := seg, -1
		if i := strings.IndexByte(seg, '['); i >= 0 && strings.HasSuffix(seg, "]") {
			name = seg[:i]
			idx, _ = strconv.Atoi(seg[i+1 : len(seg)-1])
		}
		if name != "" {
			next := mapValue(n, name)
			if next == nil {
				return line
			}
			line, n = mapKeyLine(n, name), next
		}
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func mapKeyLine(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return n.Line
}

func sortErrors(es Errors) Errors {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	return es
}
