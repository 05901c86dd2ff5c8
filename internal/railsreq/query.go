package railsreq

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Rack 3.2's QueryParser limits.
const (
	paramsLimit     = 4096
	depthLimit      = 32
	queryBytesLimit = 4 << 20
)

var (
	errTooDeep       = errors.New("params nested too deep")
	errParamType     = errors.New("conflicting param types")
	errBadEscape     = errors.New("invalid %-encoding")
	errTooMany       = errors.New("too many params")
	errInvalidUTF8   = errors.New("invalid UTF-8 in a param value")
	errBadMultipart  = errors.New("multipart body Rack would reject")
	errBadJSON       = errors.New("JSON body the json gem would reject")
	errBadMediaType  = errors.New("Content-Type Rails rejects")
	errBodyNotRead   = errors.New("body not read")
	errUnsureCharset = errors.New("multipart part in a charset other than UTF-8")
)

// node is a mutable param tree while parsing (Rack's params hash).
type node struct {
	kind  Kind
	s     string
	keys  []string
	vals  []*node
	elems []*node
	index map[string]int // key → position, once a hash has many keys
}

// indexFrom is the size from which a hash keeps an index, so that a body
// of thousands of distinct names costs linear time, not quadratic.
const indexFrom = 16

func newHash() *node {
	return &node{kind: Hash, keys: make([]string, 0, 4), vals: make([]*node, 0, 4)}
}

func (n *node) find(k string) int {
	if n.index != nil {
		if i, ok := n.index[k]; ok {
			return i
		}
		return -1
	}
	for i, key := range n.keys {
		if key == k {
			return i
		}
	}
	return -1
}

func (n *node) get(k string) *node {
	if i := n.find(k); i >= 0 {
		return n.vals[i]
	}
	return nil
}

// set is Ruby's hash[k] = v: a new key goes last, an old one keeps its place.
func (n *node) set(k string, v *node) {
	if i := n.find(k); i >= 0 {
		n.vals[i] = v
		return
	}
	n.keys = append(n.keys, k)
	n.vals = append(n.vals, v)
	switch {
	case n.index != nil:
		n.index[k] = len(n.keys) - 1
	case len(n.keys) >= indexFrom:
		n.index = make(map[string]int, 2*len(n.keys))
		for i, key := range n.keys {
			n.index[key] = i
		}
	}
}

// value converts the tree to a Value as ActionDispatch hands it on:
// nils inside arrays are dropped (deep_munge).
func (n *node) value() Value {
	if n == nil {
		return Value{Kind: Nil}
	}
	switch n.kind {
	case Hash:
		v := Value{Kind: Hash, Keys: n.keys, Vals: make([]Value, len(n.vals))}
		for i, c := range n.vals {
			v.Vals[i] = c.value()
		}
		return v
	case Array:
		v := Value{Kind: Array}
		for _, c := range n.elems {
			if c == nil || c.kind == Nil {
				continue
			}
			v.Elems = append(v.Elems, c.value())
		}
		return v
	}
	return Value{Kind: n.kind, S: n.s}
}

// normalize is Rack::QueryParser#_normalize_params: it files value v
// under name ("a", "a[b]", "a[]", "a[][b]") into params.
func normalize(params *node, name string, v *node, depth int) (*node, error) {
	if depth >= depthLimit {
		return nil, errTooDeep
	}
	var k, after string
	switch {
	case depth == 0:
		if start := strings.IndexByte(name[min(1, len(name)):], '['); start >= 0 && len(name) > 0 {
			start++
			k, after = name[:start], name[start:]
		} else {
			k = name
		}
	case strings.HasPrefix(name, "[]"):
		k, after = "[]", name[2:]
	case strings.HasPrefix(name, "[") && strings.IndexByte(name[1:], ']') >= 0:
		start := strings.IndexByte(name[1:], ']') + 1
		k, after = name[1:start], name[start+1:]
	default:
		k = name
	}
	if k == "" {
		return nil, nil
	}
	switch {
	case after == "":
		if k == "[]" && depth != 0 {
			return &node{kind: Array, elems: []*node{v}}, nil
		}
		params.set(k, v)
	case after == "[":
		params.set(name, v)
	case after == "[]":
		cur := params.get(k)
		if cur == nil || cur.kind == Nil {
			cur = &node{kind: Array}
			params.set(k, cur)
		}
		if cur.kind != Array {
			return nil, errParamType
		}
		cur.elems = append(cur.elems, v)
	case strings.HasPrefix(after, "[]"):
		childKey := ""
		if len(after) > 3 && after[2] == '[' && strings.HasSuffix(after, "]") {
			childKey = after[3 : len(after)-1]
		}
		if childKey == "" || strings.ContainsAny(childKey, "[]") {
			childKey = after[2:]
		}
		cur := params.get(k)
		if cur == nil || cur.kind == Nil {
			cur = &node{kind: Array}
			params.set(k, cur)
		}
		if cur.kind != Array {
			return nil, errParamType
		}
		var last *node
		if len(cur.elems) > 0 {
			last = cur.elems[len(cur.elems)-1]
		}
		if last != nil && last.kind == Hash && !hashHasKey(last, childKey) {
			if _, err := normalize(last, childKey, v, depth+1); err != nil {
				return nil, err
			}
		} else {
			child, err := normalize(newHash(), childKey, v, depth+1)
			if err != nil {
				return nil, err
			}
			cur.elems = append(cur.elems, child)
		}
	default:
		cur := params.get(k)
		if cur == nil || cur.kind == Nil {
			cur = newHash()
		}
		if cur.kind != Hash {
			return nil, errParamType
		}
		child, err := normalize(cur, after, v, depth+1)
		if err != nil {
			return nil, err
		}
		params.set(k, child)
	}
	return params, nil
}

// hashHasKey is Rack's params_hash_has_key?.
func hashHasKey(h *node, key string) bool {
	if strings.Contains(key, "[]") {
		return false
	}
	cur := h
	for _, part := range strings.FieldsFunc(key, func(r rune) bool { return r == '[' || r == ']' }) {
		if cur == nil || cur.kind != Hash {
			return false
		}
		cur = cur.get(part)
		if cur == nil {
			return false
		}
	}
	return true
}

// parseQuery is Rack 3.2's parse_nested_query with "&" (followed by any
// spaces) as the only separator — Rack 2 also split on ";". Values are
// checked as ActionDispatch checks them: invalid UTF-8 is a 400 there.
func parseQuery(q string, params *node) error {
	if q == "" {
		return nil
	}
	if len(q) > queryBytesLimit {
		return errTooMany
	}
	n := 0
	for rest := q; ; {
		pair, tail, more := strings.Cut(rest, "&")
		if more {
			tail = strings.TrimLeft(tail, " ")
		}
		rest = tail
		n++
		if n > paramsLimit {
			return errTooMany
		}
		if pair != "" {
			rk, rv, hasValue := strings.Cut(pair, "=")
			k, err := unescapeForm(rk)
			if err != nil {
				return err
			}
			v := &node{kind: Nil}
			if hasValue {
				s, err := unescapeForm(rv)
				if err != nil {
					return err
				}
				v = &node{kind: String, s: s}
			}
			if _, err := normalize(params, k, v, 0); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}

// unescapeForm is URI.decode_www_form_component: "+" is a space, and a
// "%" not followed by two hex digits is an error.
func unescapeForm(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", errBadEscape
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b), nil
}

// checkEncoding is ActionDispatch's check_param_encoding: every string
// value must be valid UTF-8.
func checkEncoding(n *node) error {
	if n == nil {
		return nil
	}
	switch n.kind {
	case String:
		if !utf8.ValidString(n.s) {
			return errInvalidUTF8
		}
	case Hash:
		for _, c := range n.vals {
			if err := checkEncoding(c); err != nil {
				return err
			}
		}
	case Array:
		for _, c := range n.elems {
			if err := checkEncoding(c); err != nil {
				return err
			}
		}
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
