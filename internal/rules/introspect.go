package rules

import (
	"strconv"
	"strings"
	"time"
)

// This file lets tools that evaluate recorded traffic (wootguard replay
// and tune) see what a compiled rule reads, and which rule a store key
// belongs to, without changing how a request is decided.

// RuleInfo describes one compiled rule.
type RuleInfo struct {
	Type    string // safelist, blocklist, fail2ban, allow2ban, throttle, track
	Name    string
	DryRun  bool
	Limit   int64 // throttle/track limit (-1: a track without one), ban maxretry
	Period  int64 // seconds: the window (throttle, track) or findtime (bans); 0 for lists
	BanTime time.Duration
	Failure []int // response statuses a ban rule counts (nil: the request itself counts)
	// Present and Absent are the params the match requires present or
	// absent (in any alternative); Headers are the headers it tests.
	Present, Absent, Headers []string
	// Key lists the key parts, each as its alternatives, written as in a
	// config: "ip", "param:NAME", "header:Name", "capture:N",
	// "chatwoot:api_user".
	Key [][]string
}

// Rules lists the compiled rules in evaluation order: safelists,
// blocklists, fail2ban, allow2ban, throttles, tracks. The index of a rule
// in this list is the one MayApply and KeyIndex use.
func (e *Engine) Rules() []RuleInfo {
	var out []RuleInfo
	for _, rl := range e.all() {
		info := RuleInfo{Type: rl.kind.String(), Name: rl.name, DryRun: !rl.enforce, Limit: rl.limit,
			Period: rl.period, BanTime: rl.banTime, Failure: rl.failure}
		if rl.kind == kindSafelist || rl.kind == kindBlocklist {
			info.Limit, info.Period = 0, 0
		}
		rl.match.reads(&info)
		for _, part := range rl.key {
			var alts []string
			for _, src := range part {
				alts = append(alts, src.String())
			}
			info.Key = append(info.Key, alts)
		}
		out = append(out, info)
	}
	return out
}

// MayApply reports whether rule i's method and path conditions hold for
// r (its params, headers and IP are not looked at). Call it after Decide,
// which applies a method override to r.
func (e *Engine) MayApply(i int, r *Request) bool {
	rl := e.ruleAt(i)
	if rl == nil {
		return false
	}
	return rl.match.mayMatch(r, r.Method, r.NormalizedPath(e.opts.StripExtension))
}

// ruleAt returns the i-th rule in evaluation order, without allocating.
func (e *Engine) ruleAt(i int) *rule {
	for _, group := range [...][]*rule{e.safelists, e.blocklists, e.bans, e.throttles, e.tracks} {
		if i < 0 {
			return nil
		}
		if i < len(group) {
			return group[i]
		}
		i -= len(group)
	}
	return nil
}

func (e *Engine) all() []*rule {
	var out []*rule
	for _, group := range [][]*rule{e.safelists, e.blocklists, e.bans, e.throttles, e.tracks} {
		out = append(out, group...)
	}
	return out
}

func (m *matcher) reads(info *RuleInfo) {
	if m == nil {
		return
	}
	info.Present = appendNew(info.Present, m.present...)
	info.Present = appendNew(info.Present, m.strPresent...) // string_param_*: the same params, read as Chatwoot's auth_param
	info.Absent = appendNew(info.Absent, m.absent...)
	info.Absent = appendNew(info.Absent, m.strAbsent...)
	for _, h := range m.headers {
		info.Headers = appendNew(info.Headers, h.name)
	}
	for _, sub := range m.any {
		sub.reads(info)
	}
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		found := false
		for _, have := range list {
			found = found || have == it
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}

// String writes a key source as a config would.
func (s keySource) String() string {
	switch s.kind {
	case srcIP:
		return "ip"
	case srcParam:
		return "param:" + s.name
	case srcHeader:
		return "header:" + s.name
	case srcCapture:
		return "capture:" + strconv.Itoa(s.n)
	case srcAPIUser:
		return "chatwoot:api_user"
	case srcAuthEmail:
		return "chatwoot:auth_email"
	case srcSuperAdminEmail:
		return "chatwoot:super_admin_email"
	}
	return "source#" + strconv.Itoa(int(s.kind))
}

// KeyIndex maps the store keys an Engine builds back to their rules.
type KeyIndex struct {
	prefix string
	ns     map[string]int // counter and ban namespaces → rule index
	banNS  map[string]bool
}

// KeyIndex returns an index of this engine's key namespaces.
func (e *Engine) KeyIndex() *KeyIndex {
	k := &KeyIndex{prefix: e.opts.Prefix + ":", ns: map[string]int{}, banNS: map[string]bool{}}
	for i, rl := range e.all() {
		if rl.countNS != "" {
			k.ns[rl.countNS] = i
		}
		if rl.banNS != "" {
			k.ns[rl.banNS] = i
			k.banNS[rl.banNS] = true
		}
	}
	return k
}

// Parse splits a store key into its rule (an index into Rules), its
// window number (-1 for a ban key) and its discriminator.
func (k *KeyIndex) Parse(key string) (rule int, window int64, disc string, ok bool) {
	rest, found := strings.CutPrefix(key, k.prefix)
	if !found {
		return 0, 0, "", false
	}
	window = -1
	// Counter keys are prefix:WINDOW:NS:DISC; ban keys prefix:NS:DISC,
	// and no ban namespace starts with a digit.
	if i := strings.IndexByte(rest, ':'); i > 0 && isDigits(rest[:i]) {
		window, _ = strconv.ParseInt(rest[:i], 10, 64)
		rest = rest[i+1:]
	}
	// Names may hold ":" themselves ("/api/v1/accounts/:account_id/…"):
	// take the longest known namespace.
	for i := len(rest) - 1; i > 0; i-- {
		if rest[i] != ':' {
			continue
		}
		if idx, known := k.ns[rest[:i]]; known && k.banNS[rest[:i]] == (window < 0) {
			return idx, window, rest[i+1:], true
		}
	}
	return 0, 0, "", false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Rule names the response-based rule a Pending belongs to.
func (p Pending) Rule() (typ, name string) {
	if p.rule == nil {
		return "", ""
	}
	return p.rule.kind.String(), p.rule.name
}
