package units

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// ByteSize is a size in bytes read from YAML in the size syntax of the
// package comment: the one type behind config.ByteSize and
// rollout.ByteSize.
type ByteSize int64

// UnmarshalYAML parses a size. A bad one is a YAML type error carrying the
// value's line (an empty value has no quoted text to be found by), so the
// decoder goes on and a config check lists every problem in one pass.
func (b *ByteSize) UnmarshalYAML(node *yaml.Node) error {
	var s string
	if err := node.Decode(&s); err != nil {
		return YAMLError(node.Line, fmt.Errorf("want a size like %s", SizeSyntax))
	}
	n, err := ParseSize(s)
	if err != nil {
		return YAMLError(node.Line, err)
	}
	*b = ByteSize(n)
	return nil
}

// String prints the size in MiB, or GiB from 1 GiB, with one decimal
// ("5.0 GiB"), as disk-space messages give it.
func (b ByteSize) String() string {
	const gib = 1 << 30
	if b >= gib {
		return fmt.Sprintf("%.1f GiB", float64(b)/gib)
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
