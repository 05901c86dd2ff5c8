package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/editdist"
)

// Error is a configuration problem at a place in a file. Its text is
// "file:line: reason", the form editors and operators can jump to.
type Error struct {
	File   string
	Line   int // 0 when the problem has no single line (e.g. a missing file)
	Reason string
	// key is the mapping key of a value the decoder could not read, so
	// that later checks of the (now zero) value do not report it twice.
	key string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Reason)
}

// Errors is every problem found in one file, in line order.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// errf builds an Error at the line of node n.
func errf(file string, n *yaml.Node, format string, args ...any) *Error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: file, Line: line, Reason: fmt.Sprintf(format, args...)}
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// fromYAML turns the yaml package's errors ("line 7: field foo not found in
// type x") into Errors carrying file and line.
func fromYAML(file string, err error) error {
	if err == nil {
		return nil
	}
	var te *yaml.TypeError
	var lines []string
	if errors.As(err, &te) {
		lines = te.Errors
	} else {
		lines = []string{err.Error()}
	}
	var out Errors
	for _, l := range lines {
		e := &Error{File: file, Reason: strings.TrimPrefix(l, "yaml: ")}
		if m := yamlLineRE.FindStringSubmatch(l); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Reason = friendlyYAML(m[2])
		}
		out = append(out, e)
	}
	return out
}

// friendlyYAML rewords the yaml package's Go-flavoured messages.
func friendlyYAML(s string) string {
	if m := regexp.MustCompile(`^field (\S+) not found in type .*$`).FindStringSubmatch(s); m != nil {
		return fmt.Sprintf("unknown key %q", m[1])
	}
	if m := regexp.MustCompile(`^cannot unmarshal !!(\w+)(?: (.*))? into (.*)$`).FindStringSubmatch(s); m != nil {
		got := map[string]string{"map": "a mapping", "seq": "a list", "str": "a string", "int": "a number",
			"float": "a number", "bool": "true/false", "null": "nothing"}[m[1]]
		if got == "" {
			got = m[1]
		}
		if m[2] != "" {
			got += " " + m[2]
		}
		return fmt.Sprintf("wrong type: got %s, want %s", got, goTypeWord(m[3]))
	}
	return s
}

func goTypeWord(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case t == "time.Duration":
		return "a duration like 30s, 5m, 1h"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a whole number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	}
	return "a " + t[strings.LastIndex(t, ".")+1:]
}

// DecodeNode decodes n into v strictly: unknown keys and wrong types are
// errors naming file and line. Every problem is reported, not only the
// first: values of types that report their errors as YAML type errors
// (durations, sizes: internal/units) do not stop the decoder, and the
// good values are still decoded into v.
func DecodeNode(file string, n *yaml.Node, v any) error {
	if n == nil || n.Kind == 0 {
		return nil
	}
	// yaml.Node.Decode has no KnownFields switch, so unknown keys are found
	// by walking the node against v's type; this keeps exact line numbers.
	errs := unknownKeys(file, n, reflect.TypeOf(v))
	errs = append(errs, normalizeDurations(file, n, reflect.TypeOf(v), "")...)
	if err := n.Decode(v); err != nil {
		out, ok := fromYAML(file, err).(Errors)
		if !ok {
			return fromYAML(file, err)
		}
		// Errors from scalar types' own parsers (durations, sizes) may
		// carry no line; they quote the bad value, so find the scalar
		// holding it (in document order, which is the decoder's order).
		// Those that carry a line still need the key, so that the later
		// checks' errors about the same value are dropped.
		used := map[*yaml.Node]bool{}
		for _, e := range out {
			if e.key == "" {
				if s, key := scalarQuotedIn(n, nil, e.Reason, e.Line, used); s != nil {
					e.Line, e.key = s.Line, key
				}
			}
		}
		errs = append(errs, out...)
	}
	if len(errs) > 0 {
		return sortErrors(errs)
	}
	return nil
}

// scalarQuotedIn finds the first unused scalar whose quoted value appears
// in msg, with the mapping key it is the value of. With line > 0 only that
// line's scalars count, and an empty value ("") is then found too.
func scalarQuotedIn(n, parent *yaml.Node, msg string, line int, used map[*yaml.Node]bool) (*yaml.Node, string) {
	if n.Kind == yaml.ScalarNode && (n.Value != "" || line > 0) && (line == 0 || n.Line == line) &&
		!used[n] && strings.Contains(msg, strconv.Quote(n.Value)) {
		used[n] = true
		key := ""
		if parent != nil && parent.Kind == yaml.MappingNode {
			for i := 1; i < len(parent.Content); i += 2 {
				if parent.Content[i] == n {
					key = parent.Content[i-1].Value
				}
			}
		}
		return n, key
	}
	for _, c := range n.Content {
		if s, key := scalarQuotedIn(c, n, msg, line, used); s != nil {
			return s, key
		}
	}
	return nil, ""
}

// unknownKeys reports mapping keys with no matching struct field.
func unknownKeys(file string, n *yaml.Node, t reflect.Type) Errors {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if t == nodeType || (t.Kind() != reflect.Struct && reflect.PointerTo(t).Implements(unmarshalerType)) {
		return nil // raw sections are checked by their owners; scalars check themselves
	}
	var errs Errors
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				errs = append(errs, errf(file, k, "unknown key %q%s", k.Value, suggest(k.Value, fields)))
				continue
			}
			errs = append(errs, unknownKeys(file, val, ft)...)
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			errs = append(errs, unknownKeys(file, c, t.Elem())...)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			errs = append(errs, unknownKeys(file, n.Content[i], t.Elem())...)
		}
	}
	return errs
}

var (
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	nodeType        = reflect.TypeOf(yaml.Node{})
)

// yamlFields maps YAML keys to field types, following ",inline".
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// suggest names the closest known key when the typo is small.
func suggest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for k := range fields {
		if d := editdist.Distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// LoadSection reads the YAML file at path and strictly decodes the value at
// the dotted key (for example "updates.schedule") into v. A missing key
// leaves v unchanged and returns found=false.
func LoadSection(path, key string, v any) (found bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, &Error{File: path, Reason: err.Error()}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return false, fromYAML(path, err)
	}
	n := lookup(&doc, key)
	if n == nil {
		return false, nil
	}
	var decoded Errors
	if err := DecodeNode(path, n, v); err != nil {
		es, ok := err.(Errors)
		if !ok {
			return true, err
		}
		decoded = es
	}
	// A section that checks its own values is refused here as it is by
	// check-config, so that no command runs on a value check-config rejects.
	var later error
	if c, ok := v.(Checker); ok {
		if ps := problemsAt(path, n, c.ConfigProblems()); len(ps) > 0 {
			later = ps
		}
	}
	if len(decoded) == 0 && later == nil {
		return true, nil
	}
	return true, mergeErrors(decoded, later)
}

// lookup walks a dotted key path through mapping nodes.
func lookup(doc *yaml.Node, key string) *yaml.Node {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, part := range strings.Split(key, ".") {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}
