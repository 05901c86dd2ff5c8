package rules

import (
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/railsreq"
	"github.com/wootguard/wootguard/internal/store"
)

// SpecError is a problem in a Spec, located by its path in the document
// (for example "throttles[2].match.path_regex"), which the config loader
// turns into a file:line.
type SpecError struct {
	Path   string
	Reason string
}

func (e *SpecError) Error() string { return e.Path + ": " + e.Reason }

// SpecErrors is every problem found in a Spec.
type SpecErrors []*SpecError

func (es SpecErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

type ruleKind uint8

const (
	kindSafelist ruleKind = iota
	kindBlocklist
	kindFail2Ban
	kindAllow2Ban
	kindThrottle
	kindTrack
)

var kindNames = [...]string{"safelist", "blocklist", "fail2ban", "allow2ban", "throttle", "track"}

func (k ruleKind) String() string { return kindNames[k] }

// rule is a compiled rule.
type rule struct {
	kind    ruleKind
	name    string
	enforce bool
	ips     []netip.Prefix // list rules: client IP must be in one (empty = any)
	match   *matcher       // nil = every request
	key     []keyPart      // counted rules
	limit   int64          // throttle, track (-1 = track without limit), ban maxretry
	period  int64          // seconds: throttle/track window, ban findtime
	banTime time.Duration
	failure []int  // response statuses that count; nil = the request itself counts
	countNS string // counter key namespace (see Compile)
	banNS   string
	strictRule
	algo   store.Algorithm // throttles
	rate   int64           // GCRA: requests per period (limit is then the burst)
	secret []byte          // Options.KeySecret: HMAC key for secret key parts
	// paramOnlyPart: a key part is memoized params only (Request.keyMissing).
	paramOnlyPart bool
}

type matcher struct {
	methods    []string
	paths      []string
	prefixes   []string
	re         *regexp.Regexp
	reLiterals []string // substrings every match contains: a cheap pre-check
	present    []string
	absent     []string
	headers    []headerCond
	ips        []netip.Prefix
	any        []*matcher
	usesParams bool
	notIPs     []netip.Prefix // client IP must be in none
	ext        pathView
	// view is ext resolved against the engine's StripExtension:
	// viewDefault whenever it reads the engine's default path.
	view       pathView
	strPresent []string
	strAbsent  []string
	checks     []paramCheck // the four lists above, as matches reads them
}

// pathView selects the path a matcher reads.
type pathView uint8

const (
	viewDefault pathView = iota // the engine's StripExtension
	viewStrip
	viewKeep
	viewExact // not decoded: Rack::Attack's req.path
)

type headerCond struct {
	name, value string // value "*" = present
}

type keySourceKind uint8

const (
	srcIP keySourceKind = iota
	srcParam
	srcHeader
	srcCapture
	srcAPIUser
	srcAuthEmail       // chatwoot:auth_email
	srcSuperAdminEmail // chatwoot:super_admin_email
)

type keySource struct {
	kind keySourceKind
	name string
	n    int
	mods []keyMod // applied innermost first
	bits int      // ip/N: the IPv6 prefix length (0: the engine's)
	memo int      // param: 1 + its Request.paramMemo slot, 0 none (indexParams)
}

// keyMod is a key modifier written as a function: present(param:x).
type keyMod uint8

const (
	modPresent keyMod = iota // blank is missing (Rails' presence)
	modString                // a non-String value is missing
	modNoSpace               // all ASCII white space removed (gsub(/\s+/, ''))
	modInt                   // Ruby's to_i ("09" and "9-x" are "9")
)

var modNames = map[string]keyMod{"present": modPresent, "string": modString, "nospace": modNoSpace, "int": modInt}

// keyPart is one ":"-joined part of a key; its alternatives ("a|b") are
// tried in order and the first present one is used.
type keyPart []keySource

type compiler struct {
	errs   SpecErrors
	ipv6   int          // Options.IPv6Prefix, for "ip" keys
	strip  bool         // Options.StripExtension: the default path view
	dotted []dottedPath // path conditions with a "." (see checkDotted)
}

func (c *compiler) errf(path, format string, args ...any) {
	c.errs = append(c.errs, &SpecError{Path: path, Reason: fmt.Sprintf(format, args...)})
}

func (c *compiler) mode(path, m string) bool {
	switch m {
	case "", ModeEnforce:
		return true
	case ModeDryRun:
		return false
	}
	c.errf(path+".mode", "unknown mode %q: want enforce or dry-run", m)
	return true
}

func (c *compiler) name(path, n string, seen map[string]bool) {
	switch {
	case strings.TrimSpace(n) == "":
		c.errf(path+".name", "name is required")
	case seen[n]:
		c.errf(path+".name", "duplicate name %q", n)
	}
	seen[n] = true
}

func (c *compiler) listRule(path string, k ruleKind, s ListRule, seen map[string]bool) *rule {
	c.name(path, s.Name, seen)
	r := &rule{kind: k, name: s.Name, enforce: c.mode(path, s.Mode)}
	r.ips = c.prefixes(path+".ip", s.IP)
	r.match = c.matcher(path+".match", s.Match)
	if len(s.IP) == 0 && s.Match == nil {
		c.errf(path, "%s %q has neither ip nor match: it would match every request", k, s.Name)
	}
	return r
}

// counted compiles a throttle or a track with a limit: key, limit and
// period are all required.
func (c *compiler) counted(path string, k ruleKind, name string, limit *int64, period Duration, key StringList, m *Match) *rule {
	r := &rule{kind: k, name: name, match: c.matcher(path+".match", m), limit: -1}
	r.key = c.key(path+".key", key, m)
	if limit == nil {
		c.errf(path, "limit is required")
	} else {
		if *limit < 0 {
			c.errf(path+".limit", "limit must be 0 or more")
		}
		r.limit = *limit
	}
	r.period = c.period(path+".period", period)
	return r
}

// period checks a window length: whole seconds, at least one, as in
// Rack::Attack (which keys windows by integer Unix seconds).
func (c *compiler) period(path string, d Duration) int64 {
	t := time.Duration(d)
	key := path[strings.LastIndexByte(path, '.')+1:] // period or findtime
	switch {
	case t <= 0:
		c.errf(path, "%s is required and must be at least 1s", key)
		return 1
	case t%time.Second != 0:
		c.errf(path, "%s must be whole seconds, got %s", key, t)
	}
	return max(int64(t/time.Second), 1)
}

func (c *compiler) prefixes(path string, ips []string) []netip.Prefix {
	var out []netip.Prefix
	for i, s := range ips {
		p, err := ParsePrefix(s)
		if err != nil {
			c.errf(fmt.Sprintf("%s[%d]", path, i), "%v", err)
			continue
		}
		out = append(out, p)
	}
	return out
}

// ParsePrefix parses an address ("203.0.113.7") or a CIDR
// ("203.0.113.0/24"; host bits are masked, as IPAddr does).
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad CIDR %q", s)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad IP address %q", s)
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

var methodRE = regexp.MustCompile(`^[A-Z]+$`)

func (c *compiler) matcher(path string, m *Match) *matcher {
	if m == nil {
		return nil
	}
	out := &matcher{}
	for i, meth := range m.Method {
		meth = strings.ToUpper(strings.TrimSpace(meth))
		if !methodRE.MatchString(meth) {
			c.errf(fmt.Sprintf("%s.method[%d]", path, i), "bad HTTP method %q", meth)
		} else if !knownMethod(meth) {
			c.errf(fmt.Sprintf("%s.method[%d]", path, i), "unknown HTTP method %q: a rule on it can never fire (Rails answers other methods itself)", meth)
		}
		out.methods = append(out.methods, meth)
	}
	for i, p := range m.Path {
		if !strings.HasPrefix(p, "/") {
			c.errf(fmt.Sprintf("%s.path[%d]", path, i), "path must start with /: %q", p)
		}
		out.paths = append(out.paths, NormalizePath(p))
	}
	for i, p := range m.PathPrefix {
		if !strings.HasPrefix(p, "/") {
			c.errf(fmt.Sprintf("%s.path_prefix[%d]", path, i), "path_prefix must start with /: %q", p)
		}
		out.prefixes = append(out.prefixes, p)
	}
	if m.PathRegex != "" {
		re, err := regexp.Compile(m.PathRegex)
		if err != nil {
			c.errf(path+".path_regex", "bad regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		} else {
			out.re = re
			out.reLiterals = requiredLiterals(m.PathRegex)
		}
	}
	out.present = trimAll(m.ParamPresent)
	out.absent = trimAll(m.ParamAbsent)
	out.strPresent = trimAll(m.StringParamPresent)
	out.strAbsent = trimAll(m.StringParamAbsent)
	out.usesParams = len(out.present)+len(out.absent)+len(out.strPresent)+len(out.strAbsent) > 0
	out.checks = paramChecks(out)
	switch m.Extensions {
	case "":
	case "strip":
		out.ext = viewStrip
	case "keep":
		out.ext = viewKeep
	case "exact":
		out.ext = viewExact
	default:
		c.errf(path+".extensions", "unknown extensions %q: want strip, keep or exact", m.Extensions)
	}
	out.view = out.ext
	if out.ext == viewStrip && c.strip || out.ext == viewKeep && !c.strip {
		out.view = viewDefault
	}
	c.noteDotted(path, "path", m.Path, out.ext)
	c.noteDotted(path, "path_prefix", m.PathPrefix, out.ext)
	for name, v := range m.Header {
		if strings.TrimSpace(name) == "" {
			c.errf(path+".header", "empty header name")
		}
		out.headers = append(out.headers, headerCond{name: http.CanonicalHeaderKey(strings.TrimSpace(name)), value: v})
	}
	out.ips = c.prefixes(path+".ip", m.IP)
	out.notIPs = c.prefixes(path+".not_ip", m.NotIP)
	for i := range m.Any {
		sub := c.matcher(fmt.Sprintf("%s.any[%d]", path, i), &m.Any[i])
		out.usesParams = out.usesParams || sub.usesParams
		out.any = append(out.any, sub)
	}
	return out
}

// requiredLiterals returns the literals that every match of a top-level
// concatenation must contain, so most requests skip the regular
// expression after a few strings.Contains.
func requiredLiterals(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	var out []string
	for _, r := range subs {
		if r.Op == syntax.OpLiteral && r.Flags&syntax.FoldCase == 0 {
			out = append(out, string(r.Rune))
		}
	}
	return out
}

func trimAll(in []string) []string {
	var out []string
	for _, s := range in {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

// key parses a key spec: a list of parts joined with ":", each part a
// source or alternatives "a|b". Sources: ip (ip/N: IPv6 prefix length),
// param:NAME, header:NAME, capture:N (a group of match.path_regex),
// chatwoot:api_user, chatwoot:auth_email, chatwoot:super_admin_email;
// each may be wrapped in modifiers: present(), string(), nospace(), int().
func (c *compiler) key(path string, key StringList, m *Match) []keyPart {
	if len(key) == 0 {
		c.errf(path, "key is required (ip, param:NAME, header:NAME, capture:N, chatwoot:api_user, chatwoot:auth_email, or a list)")
		return nil
	}
	groups := 0
	if m != nil && m.PathRegex != "" {
		if re, err := regexp.Compile(m.PathRegex); err == nil {
			groups = re.NumSubexp()
		}
	}
	var parts []keyPart
	for i, p := range key {
		var part keyPart
		for _, alt := range strings.Split(p, "|") {
			src, err := parseKeySource(strings.TrimSpace(alt), groups)
			if err != nil {
				c.errf(fmt.Sprintf("%s[%d]", path, i), "%v", err)
				continue
			}
			// A params source keys an unparsed request by the client
			// (appendDiscriminator): by its IPv6 network too.
			if (src.kind == srcIP || src.readsParams()) && src.bits == 0 {
				src.bits = c.ipv6
			}
			part = append(part, src)
		}
		parts = append(parts, part)
	}
	return parts
}

const keyHelp = "want ip, ip/N, param:NAME, header:NAME, capture:N, chatwoot:api_user, chatwoot:auth_email or chatwoot:super_admin_email, optionally inside present(), string(), nospace() or int()"

func parseKeySource(s string, groups int) (keySource, error) {
	var mods []keyMod
	inner := s
	for strings.HasSuffix(inner, ")") {
		open := strings.IndexByte(inner, '(')
		if open < 0 {
			break
		}
		mod, ok := modNames[strings.TrimSpace(inner[:open])]
		if !ok {
			return keySource{}, fmt.Errorf("bad key %q: unknown modifier %q (want present, string, nospace or int)", s, inner[:open])
		}
		mods = append(mods, mod)
		inner = strings.TrimSpace(inner[open+1 : len(inner)-1])
	}
	src, err := parseBareSource(inner, groups)
	if err != nil {
		if inner != s {
			return keySource{}, fmt.Errorf("bad key %q: %w", s, err)
		}
		return keySource{}, err
	}
	for i := len(mods) - 1; i >= 0; i-- { // innermost first
		src.mods = append(src.mods, mods[i])
	}
	return src, nil
}

func parseBareSource(s string, groups int) (keySource, error) {
	kind, arg, _ := strings.Cut(s, ":")
	if bits, ok := strings.CutPrefix(s, "ip/"); ok {
		n, err := strconv.Atoi(bits)
		if err != nil || n < 1 || n > 128 {
			return keySource{}, fmt.Errorf("bad key %q: ip/N needs an IPv6 prefix length from 1 to 128", s)
		}
		return keySource{kind: srcIP, bits: n}, nil
	}
	switch {
	case s == "ip":
		return keySource{kind: srcIP}, nil
	case s == "chatwoot:api_user":
		return keySource{kind: srcAPIUser}, nil
	case s == "chatwoot:auth_email":
		return keySource{kind: srcAuthEmail}, nil
	case s == "chatwoot:super_admin_email":
		return keySource{kind: srcSuperAdminEmail}, nil
	case kind == "param" && arg != "":
		return keySource{kind: srcParam, name: arg}, nil
	case kind == "header" && arg != "":
		return keySource{kind: srcHeader, name: http.CanonicalHeaderKey(arg)}, nil
	case kind == "capture":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 {
			return keySource{}, fmt.Errorf("bad key %q: capture needs a group number from 1", s)
		}
		if n > groups {
			return keySource{}, fmt.Errorf("bad key %q: match.path_regex has %d capture groups", s, groups)
		}
		return keySource{kind: srcCapture, n: n}, nil
	}
	return keySource{}, fmt.Errorf("bad key %q: %s", s, keyHelp)
}

func (k keyPart) usesParams() bool {
	for _, s := range k {
		if s.readsParams() {
			return true
		}
	}
	return false
}

func (k keyPart) usesCapture() bool {
	for _, s := range k {
		if s.kind == srcCapture {
			return true
		}
	}
	return false
}

// paramNames lists the params rl reads (conditions and keys).
func (rl *rule) paramNames() []string {
	var out []string
	var walk func(m *matcher)
	walk = func(m *matcher) {
		if m == nil {
			return
		}
		out = append(out, m.present...)
		out = append(out, m.absent...)
		out = append(out, m.strPresent...)
		out = append(out, m.strAbsent...)
		for _, sub := range m.any {
			walk(sub)
		}
	}
	walk(rl.match)
	for _, part := range rl.key {
		for _, src := range part {
			switch src.kind {
			case srcParam:
				out = append(out, src.name)
			case srcAuthEmail:
				out = append(out, "email")
			case srcSuperAdminEmail:
				out = append(out, "email", "super_admin")
			}
		}
	}
	return out
}

// paramTops is the top-level param names (railsreq.ParamTop) any rule
// of e reads, each once.
func (e *Engine) paramTops() []string {
	var out []string
	for _, group := range [][]*rule{e.safelists, e.blocklists, e.bans, e.throttles, e.tracks} {
		for _, rl := range group {
			for _, name := range rl.paramNames() {
				if top := railsreq.ParamTop(name); !slices.Contains(out, top) {
					out = append(out, top)
				}
			}
		}
	}
	return out
}
