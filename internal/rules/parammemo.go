package rules

import "github.com/wootguard/wootguard/internal/railsreq"

// A sign-in is checked against several throttles that read the same few
// params (mfa_token and mfa_setup_token by four conditions and two keys).
// The first read of a top-level param the rules declare is kept on the
// Request as a few bits, so the others cost an array read instead of a
// Param call (the query, the want list, the scanned body) and a Value
// copy. Param's answer for a name does not change within a request.

// maxParamMemo is how many of the engine's params (Engine.params, in
// order) are memoized; others are read every time.
const maxParamMemo = 8

// paramState bits.
const (
	memoKnown   uint8 = 1 << iota
	memoErr           // Param failed: the params are unreadable
	memoMissing       // absent or nil (Param's value counts as no key part)
	memoPresent       // Rails' present?
	memoString        // a String
)

// paramCheck is one param condition of a matcher.
type paramCheck struct {
	name        string
	memo        int // 1 + its index in Request.paramMemo, 0: not memoized
	stringOnly  bool
	wantPresent bool
}

// paramChecks lists m's param conditions in the order matches evaluates
// them; indexParams sets their memo slots.
func paramChecks(m *matcher) []paramCheck {
	var out []paramCheck
	for _, g := range []struct {
		names                   []string
		stringOnly, wantPresent bool
	}{{m.present, false, true}, {m.absent, false, false}, {m.strPresent, true, true}, {m.strAbsent, true, false}} {
		for _, name := range g.names {
			out = append(out, paramCheck{name: name, stringOnly: g.stringOnly, wantPresent: g.wantPresent})
		}
	}
	return out
}

// indexParams gives every param condition and param key source of e's
// rules its memo slot: the name's place in e.params when it is a
// top-level name there (stored plus one: 0 is none).
func (e *Engine) indexParams() {
	slot := func(name string) int {
		if railsreq.ParamTop(name) != name {
			return 0
		}
		for i, p := range e.params {
			if p == name && i < maxParamMemo {
				return i + 1
			}
		}
		return 0
	}
	var walk func(m *matcher)
	walk = func(m *matcher) {
		if m == nil {
			return
		}
		for i := range m.checks {
			m.checks[i].memo = slot(m.checks[i].name)
		}
		for _, sub := range m.any {
			walk(sub)
		}
	}
	for _, group := range [][]*rule{e.safelists, e.blocklists, e.bans, e.throttles, e.tracks} {
		for _, rl := range group {
			walk(rl.match)
			for _, part := range rl.key {
				only := len(part) > 0
				for j := range part {
					if part[j].kind == srcParam {
						part[j].memo = slot(part[j].name)
					}
					only = only && part[j].kind == srcParam && part[j].memo > 0
				}
				rl.paramOnlyPart = rl.paramOnlyPart || only
			}
		}
	}
}

// paramState is what Param(name) says, through the memo slot (memo 0:
// none).
func (r *Request) paramState(name string, memo int) uint8 {
	if memo > 0 {
		if s := r.paramMemo[memo-1]; s != 0 {
			return s
		}
	}
	v, err := r.view().Param(name)
	s := stateOf(v, err)
	if memo > 0 {
		r.paramMemo[memo-1] = s
	}
	return s
}

func stateOf(v railsreq.Value, err error) uint8 {
	s := memoKnown
	switch {
	case err != nil:
		return s | memoErr | memoMissing
	case v.Kind == railsreq.Missing || v.Kind == railsreq.Nil:
		s |= memoMissing
	}
	if v.Present() {
		s |= memoPresent
	}
	if v.Kind == railsreq.String {
		s |= memoString
	}
	return s
}

// keyMissing reports whether rl's key is certainly missing for r
// because one of its parts is param sources only, each of them absent or
// nil (appendDiscriminator would build nothing): the key's head is then
// not built either. False whenever the params are unreadable (such a key
// is "<unparsed>:CLIENT") or unknown without reading them (no memo slot).
func (r *Request) keyMissing(rl *rule) bool {
	if !rl.paramOnlyPart {
		return false
	}
	for _, part := range rl.key {
		missing := len(part) > 0
		for j := range part {
			src := &part[j]
			if src.kind != srcParam || src.memo == 0 {
				missing = false
				break
			}
			if s := r.paramState(src.name, src.memo); s&memoMissing == 0 || s&memoErr != 0 {
				missing = false
				break
			}
		}
		if missing {
			return true
		}
	}
	return false
}

// paramCond evaluates a param condition the way it fails closed: when
// Rails' params cannot be known, the condition holds (the rule counts).
func (r *Request) paramCond(c *paramCheck) bool {
	s := r.paramState(c.name, c.memo)
	if s&memoErr != 0 {
		return true
	}
	present := s&memoPresent != 0 && (!c.stringOnly || s&memoString != 0)
	return present == c.wantPresent
}
