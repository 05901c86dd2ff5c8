package rules

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// strictRule holds what the rule-language extensions add to a compiled
// rule: ban scope, refusal-counted failures, ban escalation, trusted
// pairs (Fail2Ban/Allow2Ban) and exempt tokens (throttles).
type strictRule struct {
	scopeMatch  bool       // ban blocks only requests that fit match
	refusedBy   []string   // failures are refusals by these rules
	incr        *increment // nil: every ban lasts banTime
	historyNS   string
	trustFor    time.Duration // 0: no trusted pairs
	trustStatus []int
	trustNS     string
	exempt      [][sha256.Size]byte // throttles: api_access_token hashes not counted
}

type increment struct {
	factor   float64
	max      time.Duration
	remember time.Duration
}

// Defaults of bantime_increment. Addresses are shared (offices, mobile
// carriers' NAT), so their bans stay short; other keys may grow longer.
const (
	DefaultIncrementFactor     = 2
	DefaultIncrementMaxAddress = 24 * time.Hour
	DefaultIncrementMax        = 7 * 24 * time.Hour
	DefaultIncrementRemember   = 7 * 24 * time.Hour
)

// banExtras compiles scope, failure.refused_by, bantime_increment and
// trusted_for of a Fail2Ban/Allow2Ban rule.
func (c *compiler) banExtras(path string, k ruleKind, b BanRule, r *rule) {
	switch b.Scope {
	case "", "all":
	case "match":
		r.scopeMatch = true
	default:
		c.errf(path+".scope", "unknown scope %q: want all or match", b.Scope)
	}
	if b.Failure != nil && len(b.Failure.RefusedBy) > 0 {
		if len(b.Failure.Status) > 0 {
			c.errf(path+".failure", "failure takes status or refused_by, not both")
		}
		for i, n := range b.Failure.RefusedBy {
			if strings.TrimSpace(n) == "" {
				c.errf(fmt.Sprintf("%s.failure.refused_by[%d]", path, i), "empty rule name")
			}
		}
		r.refusedBy = append([]string{}, b.Failure.RefusedBy...)
		r.failure = nil
	}
	if inc := b.BanTimeIncrement; inc != nil {
		ip := path + ".bantime_increment"
		r.incr = &increment{factor: inc.Factor, max: time.Duration(inc.Max), remember: time.Duration(inc.Remember)}
		if r.incr.factor == 0 {
			r.incr.factor = DefaultIncrementFactor
		} else if r.incr.factor < 1 || r.incr.factor > 100 {
			c.errf(ip+".factor", "factor must be between 1 and 100, got %g", inc.Factor)
		}
		if r.incr.max == 0 {
			r.incr.max = DefaultIncrementMax
			if keyHasAddress(r.key) {
				r.incr.max = DefaultIncrementMaxAddress
			}
			r.incr.max = max(r.incr.max, r.banTime)
		} else if r.incr.max < r.banTime {
			c.errf(ip+".max", "max (%s) is shorter than bantime (%s)", inc.Max, b.BanTime)
		}
		if r.incr.remember == 0 {
			r.incr.remember = DefaultIncrementRemember
		} else if r.incr.remember < time.Second {
			c.errf(ip+".remember", "remember must be at least 1s")
		}
		r.historyNS = k.String() + ":history:" + b.Name
	}
	if b.TrustedFor != 0 || len(b.TrustedStatus) > 0 {
		if time.Duration(b.TrustedFor) < time.Second {
			c.errf(path+".trusted_for", "trusted_for is required with trusted_status and must be at least 1s")
		}
		if b.Failure == nil || len(b.Failure.Status) == 0 {
			c.errf(path+".trusted_for", "trusted_for needs failure.status: trust is learnt from the upstream's answers")
		}
		r.trustFor = time.Duration(b.TrustedFor)
		r.trustStatus = b.TrustedStatus
		if len(r.trustStatus) == 0 {
			r.trustStatus = []int{200}
		}
		for j, st := range r.trustStatus {
			if st < 100 || st > 599 {
				c.errf(fmt.Sprintf("%s.trusted_status[%d]", path, j), "bad HTTP status %d", st)
			}
			if b.Failure != nil && slices.Contains(b.Failure.Status, st) {
				c.errf(fmt.Sprintf("%s.trusted_status[%d]", path, j), "status %d is also a failure status", st)
			}
		}
		r.trustNS = k.String() + ":trust:" + b.Name
	}
}

func keyHasAddress(key []keyPart) bool {
	for _, p := range key {
		for _, s := range p {
			if s.kind == srcIP {
				return true
			}
		}
	}
	return false
}

// throttleExtras compiles exempt_tokens.
func (c *compiler) throttleExtras(path string, t Throttle, r *rule) {
	for i, tok := range t.ExemptTokens {
		sum, err := ParseTokenHash(tok)
		if err != nil {
			c.errf(fmt.Sprintf("%s.exempt_tokens[%d]", path, i), "%v", err)
			continue
		}
		r.exempt = append(r.exempt, sum)
	}
}

// ParseTokenHash reads "sha256:" followed by the 64 hex digits of a
// token's SHA-256 (`wootguard hash-token` prints it).
func ParseTokenHash(s string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	h, ok := strings.CutPrefix(strings.TrimSpace(s), "sha256:")
	if !ok {
		return sum, fmt.Errorf("want sha256:<64 hex digits> (the token's SHA-256, never the token itself; wootguard hash-token prints it)")
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return sum, fmt.Errorf("bad token hash %q: want sha256: and 64 hex digits", s)
	}
	copy(sum[:], b)
	return sum, nil
}

// HashToken is the form exempt_tokens holds: "sha256:" and the hex SHA-256
// of the exact token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// exempted reports whether r carries, in its api_access_token header
// (either spelling), the exact token of a trusted integration. Nothing
// else exempts: not the uid header, not a Bearer token or its payload,
// which a client chooses freely.
func (rl *rule) exempted(r *Request) bool {
	if len(rl.exempt) == 0 {
		return false
	}
	tok := headerValue(r.Header, "Api_access_token")
	if tok == "" {
		return false
	}
	sum := sha256.Sum256([]byte(tok))
	for i := range rl.exempt {
		if subtle.ConstantTimeCompare(sum[:], rl.exempt[i][:]) == 1 {
			return true
		}
	}
	return false
}

// linkRefusals checks failure.refused_by names and lists the rules that
// count refusals.
func (c *compiler) linkRefusals(e *Engine, o Options) {
	names := map[string]bool{}
	for _, group := range [][]*rule{e.blocklists, e.bans, e.throttles} {
		for _, rl := range group {
			names[rl.name] = true
		}
	}
	fail2ban, allow2ban := 0, 0
	for _, rl := range e.bans {
		i := &fail2ban
		if rl.kind == kindAllow2Ban {
			i = &allow2ban
		}
		path := fmt.Sprintf("%s[%d].failure.refused_by", rl.kind, *i)
		*i++
		if rl.refusedBy == nil {
			continue
		}
		for j, n := range rl.refusedBy {
			switch {
			case n == rl.name:
				c.errf(fmt.Sprintf("%s[%d]", path, j), "a rule cannot count its own refusals")
			case !names[n] && !o.LaxRefusedBy:
				c.errf(fmt.Sprintf("%s[%d]", path, j), "no blocklist, fail2ban, allow2ban or throttle named %q", n)
			}
		}
		e.refusers = append(e.refusers, rl)
	}
}

// escalate adds the bantime_increment fields to a failure op.
func (e *Engine) escalate(op *store.Op, rl *rule, disc string) {
	if rl.incr == nil {
		return
	}
	op.HistoryKey = e.opts.Prefix + ":" + rl.historyNS + ":" + disc
	op.HistoryTTL = rl.incr.remember
	op.BanFactor = rl.incr.factor
	op.BanMaxTTL = rl.incr.max
}

// trustKey is the store key of the pair (rule key, client address), or ""
// when rl has no trusted_for or the client address is unknown. An IPv6
// client is its client_ip.ipv6_prefix network, as in "ip" keys: its
// temporary addresses change within it.
func (e *Engine) trustKey(rl *rule, r *Request, disc string) string {
	if rl.trustFor == 0 || !r.IP.IsValid() {
		return ""
	}
	return e.opts.Prefix + ":" + rl.trustNS + ":" + disc + ":" + string(appendIP(nil, r.IP, e.opts.IPv6Prefix))
}

// markTrusted flags the pending failures whose pair the store found
// trusted.
func markTrusted(pending []Pending, res *store.Result) {
	for i := range pending {
		if p := &pending[i]; p.trustAt >= 0 && p.trustKey != "" && res.Counts[p.trustAt] == 1 {
			p.trusted = true
		}
	}
}

// recordTrust remembers (or refreshes) a successful pair for trusted_for.
func (e *Engine) recordTrust(ctx context.Context, now time.Time, p Pending) error {
	prog := [1]store.Op{{Kind: store.OpTrustSet, Key: p.trustKey, TTL: p.rule.trustFor}}
	var counts [1]int64
	var banned [1]bool
	return e.opts.Store.Run(ctx, now, prog[:], &store.Result{Counts: counts[:], Banned: banned[:]})
}
