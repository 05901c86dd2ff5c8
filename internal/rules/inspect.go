package rules

import (
	"strconv"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// The admin API reads and changes the store through the engine's own key
// scheme, so that it never re-implements how keys are built.

// Store is the store the engine counts in.
func (e *Engine) Store() store.Store { return e.opts.Store }

// BanPrefix starts every ban key of this engine.
func (e *Engine) BanPrefix() string { return e.opts.Prefix + ":" }

// BanRuleNames lists the Fail2Ban and Allow2Ban rules, in order.
func (e *Engine) BanRuleNames() []string {
	var out []string
	for _, rl := range e.bans {
		out = append(out, rl.name)
	}
	return out
}

// ParseBanKey splits a complete ban key into its rule, the rule's type
// (fail2ban, allow2ban) and the discriminator. ok is false for a key no
// rule of this engine builds.
func (e *Engine) ParseBanKey(key string) (rule, typ, disc string, ok bool) {
	best := -1
	for _, rl := range e.bans {
		p := e.opts.Prefix + ":" + rl.banNS + ":"
		if strings.HasPrefix(key, p) && len(p) > best {
			best, rule, typ, disc, ok = len(p), rl.name, rl.kind.String(), key[len(p):], true
		}
	}
	return
}

// BanKey is the store key of rule's ban for the discriminator disc
// (normalized as the engine normalizes keys). ok is false when no
// Fail2Ban/Allow2Ban rule has that name.
func (e *Engine) BanKey(rule, disc string) (string, bool) {
	for _, rl := range e.bans {
		if rl.name == rule {
			return e.opts.Prefix + ":" + rl.banNS + ":" + NormalizeKey(disc), true
		}
	}
	return "", false
}

// CounterKey is the store key of the named rule's counter for disc in the window
// that holds now (for a Fail2Ban/Allow2Ban rule, its failure counter).
// ok is false when no counting rule has that name.
func (e *Engine) CounterKey(name, disc string, now time.Time) (string, bool) {
	keys, ok := e.CounterKeys(name, disc, now)
	if !ok {
		return "", false
	}
	return keys[0], true
}

// CounterKeys are every store key that counts for disc at now under the
// named rule: the current window's counter first, then for a sliding
// window the previous window's (it is still weighed). A GCRA throttle
// has one key with no window. Deleting them all resets the key.
func (e *Engine) CounterKeys(name, disc string, now time.Time) ([]string, bool) {
	for _, group := range [][]*rule{e.bans, e.throttles, e.tracks} {
		for _, rl := range group {
			if rl.name != name || rl.period == 0 {
				continue
			}
			key := func(unix int64) string {
				return e.opts.Prefix + ":" + strconv.FormatInt(unix/rl.period, 10) + ":" + rl.countNS + ":" + NormalizeKey(disc)
			}
			unix := rl.keyUnix(now.Unix())
			keys := []string{key(unix)}
			if rl.algo == store.SlidingWindow {
				keys = append(keys, key(unix-rl.period))
			}
			return keys, true
		}
	}
	return nil, false
}

// NormalizeKey is how a discriminator typed by an operator becomes the
// one the engine stores: stripped and lower-cased.
func NormalizeKey(s string) string { return rubyDowncase(strings.TrimSpace(s)) }
