package rules

import "strings"

// ruleIndex picks, once per request, the rules whose matcher can hold:
// it checks the conditions many rules share — the exact path (one map
// look-up per path view), the method, and the first literal of a path
// regex — for all of them at once. A rule it leaves out is one whose
// matcher would fail, so visiting only the candidates, in order, decides
// exactly what visiting every rule does, without the 20-odd failing
// matchers of a sign-in or an API call (the Chatwoot preset binds most
// throttles to one path, one method or one family of paths). A matcher
// with alternatives (any) is always a candidate.
type ruleIndex struct {
	words  int      // uint64s in a set: one bit per rule
	always []uint64 // rules without an exact path condition
	views  []indexedView
	// methodBound are the rules with a method condition; methods[i]
	// lists, for the method methodNames[i], those it satisfies.
	methodBound []uint64
	methodNames []string
	methods     [][]uint64
	literals    []literalGate
	// settled are the rules whose every method and path condition the
	// index checks (exact paths and methods only): for a candidate among
	// them, mayMatch holds and matcher.holds decides.
	settled []uint64
}

type indexedView struct {
	view   pathView // as matcher.view
	byPath map[string][]uint64
}

// literalGate is the rules whose path regex needs lit in the path of
// view (matcher.reLiterals[0]).
type literalGate struct {
	view  pathView
	lit   string
	rules []uint64
}

// newRuleIndex indexes rules.
func newRuleIndex(rules []*rule) *ruleIndex {
	ix := &ruleIndex{words: (len(rules) + 63) / 64}
	ix.always = ix.set()
	ix.methodBound = ix.set()
	ix.settled = ix.set()
	for i, rl := range rules {
		m := rl.match
		if m == nil || len(m.any) > 0 {
			ix.always[i/64] |= 1 << (i % 64)
			continue
		}
		if m.re == nil && len(m.prefixes) == 0 {
			ix.settled[i/64] |= 1 << (i % 64)
		}
		if len(m.paths) == 0 {
			ix.always[i/64] |= 1 << (i % 64)
		} else {
			iv := ix.view(m.view)
			for _, p := range m.paths {
				set := iv.byPath[p]
				if set == nil {
					set = ix.set()
					iv.byPath[p] = set
				}
				set[i/64] |= 1 << (i % 64)
			}
		}
		if len(m.methods) > 0 {
			ix.methodBound[i/64] |= 1 << (i % 64)
			for _, meth := range m.methods {
				j := indexOf(ix.methodNames, meth)
				if j < 0 {
					ix.methodNames = append(ix.methodNames, meth)
					ix.methods = append(ix.methods, ix.set())
					j = len(ix.methodNames) - 1
				}
				ix.methods[j][i/64] |= 1 << (i % 64)
			}
		}
		if m.re != nil && len(m.reLiterals) > 0 {
			g := ix.gate(m.view, m.reLiterals[0])
			g.rules[i/64] |= 1 << (i % 64)
		}
	}
	return ix
}

func (ix *ruleIndex) set() []uint64 { return make([]uint64, ix.words) }

func (ix *ruleIndex) view(v pathView) *indexedView {
	for j := range ix.views {
		if ix.views[j].view == v {
			return &ix.views[j]
		}
	}
	ix.views = append(ix.views, indexedView{view: v, byPath: map[string][]uint64{}})
	return &ix.views[len(ix.views)-1]
}

func (ix *ruleIndex) gate(v pathView, lit string) *literalGate {
	for j := range ix.literals {
		if g := &ix.literals[j]; g.view == v && g.lit == lit {
			return g
		}
	}
	ix.literals = append(ix.literals, literalGate{view: v, lit: lit, rules: ix.set()})
	return &ix.literals[len(ix.literals)-1]
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// candidates writes into dst (reused, resized) the set of rules r may
// match; path is the engine's default view of r's path.
func (ix *ruleIndex) candidates(dst []uint64, r *Request, path string) []uint64 {
	dst = append(dst[:0], ix.always...)
	for i := range ix.views {
		iv := &ix.views[i]
		for w, bits := range iv.byPath[viewPath(r, iv.view, path)] {
			dst[w] |= bits
		}
	}
	// An empty method meets every method condition (mayMatch).
	if r.Method != "" {
		j := indexOf(ix.methodNames, r.Method)
		for w := range dst {
			out := ix.methodBound[w]
			if j >= 0 {
				out &^= ix.methods[j][w]
			}
			dst[w] &^= out
		}
	}
	for i := range ix.literals {
		g := &ix.literals[i]
		if !strings.Contains(viewPath(r, g.view, path), g.lit) {
			for w := range dst {
				dst[w] &^= g.rules[w]
			}
		}
	}
	return dst
}

// viewPath is the path a matcher with view v reads.
func viewPath(r *Request, v pathView, path string) string {
	if v == viewDefault {
		return path
	}
	return r.pathIn(v)
}

// has reports whether rule i is in the set.
func has(set []uint64, i int) bool { return set[i/64]&(1<<(i%64)) != 0 }
