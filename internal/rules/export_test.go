package rules

// ThrottleCandidates reports, for r as decide sees it (after
// Rack::MethodOverride), whether each throttle is a candidate of the
// engine's index, whether its matcher holds, and whether the index
// settles it (decide then skips mayMatch) while mayMatch fails.
func (e *Engine) ThrottleCandidates(r *Request) (candidate, matched, wronglySettled []bool) {
	if !r.railsReady {
		r.want = e.params
	}
	if m := r.methodOverride(); m != "" {
		r.Method = m
	}
	path := r.NormalizedPath(e.opts.StripExtension)
	set := e.throttleIndex.candidates(nil, r, path)
	for i, rl := range e.throttles {
		candidate = append(candidate, has(set, i))
		matched = append(matched, rl.match.matches(r, path))
		wronglySettled = append(wronglySettled, has(set, i) && has(e.throttleIndex.settled, i) && !rl.match.mayMatch(r, r.Method, path))
	}
	return candidate, matched, wronglySettled
}

// DisableShortcuts turns off the per-request param memo and the throttle
// index: e then evaluates every throttle's matcher and reads every param
// through railsreq, as before they existed.
func (e *Engine) DisableShortcuts() {
	var walk func(m *matcher)
	walk = func(m *matcher) {
		if m == nil {
			return
		}
		for i := range m.checks {
			m.checks[i].memo = 0
		}
		m.view = m.ext // pathOf then switches on Extensions as before

		for _, sub := range m.any {
			walk(sub)
		}
	}
	for _, group := range [][]*rule{e.safelists, e.blocklists, e.bans, e.throttles, e.tracks} {
		for _, rl := range group {
			walk(rl.match)
			rl.paramOnlyPart = false
			for _, part := range rl.key {
				for j := range part {
					part[j].memo = 0
				}
			}
		}
	}
	e.throttleIndex = newRuleIndex(nil)
	e.throttleIndex.words = (len(e.throttles) + 63) / 64
	e.throttleIndex.always = e.throttleIndex.set()
	e.throttleIndex.methodBound = e.throttleIndex.set()
	e.throttleIndex.settled = e.throttleIndex.set()
	for i := range e.throttles {
		e.throttleIndex.always[i/64] |= 1 << (i % 64)
	}
}
