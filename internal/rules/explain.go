package rules

import (
	"context"
	"errors"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// ErrNoPeek is returned by Explain when the store cannot evaluate a
// program without counting (it does not implement store.Inspector).
var ErrNoPeek = errors.New("this store cannot explain a decision without counting")

// RuleCheck is what one rule made of a request in Explain.
type RuleCheck struct {
	Type string `json:"type"`
	Name string `json:"name"`
	Mode string `json:"mode"`
	// Evaluated is false when an earlier rule decided the request first.
	Evaluated bool `json:"evaluated"`
	// Matched: its conditions (and IP list) hold. A Fail2Ban/Allow2Ban
	// ban still applies to every request of its key.
	Matched bool `json:"matched"`
	// Key is the discriminator; KeyMissing says the key could not be built
	// (the rule is then skipped, Rack::Attack's nil key).
	Key        string `json:"key,omitempty"`
	KeyMissing bool   `json:"key_missing,omitempty"`
	// Count is what the rule's counter would hold after this request.
	Count int64 `json:"count,omitempty"`
	Limit int64 `json:"limit,omitempty"`
	// Banned: a ban is in force for the key. WouldBan: this request would
	// start one.
	Banned   bool `json:"banned,omitempty"`
	WouldBan bool `json:"would_ban,omitempty"`
	// Decided marks the rule that decided the request.
	Decided bool   `json:"decided,omitempty"`
	Note    string `json:"note,omitempty"`
	// Trusted: the pair (key, client address) is trusted (trusted_for):
	// the rule neither counts nor bans this request.
	Trusted bool `json:"trusted,omitempty"`
}

// Explanation is a decision computed without counting, with every rule's
// part in it.
type Explanation struct {
	Decision Decision    `json:"-"`
	Action   string      `json:"action"` // pass | block | throttle
	Rule     string      `json:"rule,omitempty"`
	Type     string      `json:"type,omitempty"`
	Key      string      `json:"key,omitempty"`
	Path     string      `json:"path"` // the normalized path rules matched on
	Rules    []RuleCheck `json:"rules"`
}

// Explain decides r at now as Decide would, through the same code, but
// the store only peeks: no counter moves and no ban starts. It needs a
// store that implements store.Inspector.
func (e *Engine) Explain(ctx context.Context, now time.Time, r *Request) (*Explanation, error) {
	tr := &trace{}
	d, err := e.decide(ctx, now, r, tr)
	if err != nil {
		return nil, err
	}
	path := r.NormalizedPath(e.opts.StripExtension)
	x := &Explanation{Decision: d, Action: d.Action.String(), Rule: d.Rule, Type: d.Type, Key: d.Discriminator, Path: path}
	decided := false
	check := func(rl *rule, c RuleCheck) {
		c.Type, c.Name, c.Evaluated = rl.kind.String(), rl.name, !decided
		c.Mode = ModeEnforce
		if !rl.enforce {
			c.Mode = ModeDryRun
		}
		if rl.kind == kindTrack {
			c.Mode = "report"
		}
		if c.Evaluated && d.Rule == rl.name && d.Type == c.Type {
			c.Decided, decided = true, true
		}
		x.Rules = append(x.Rules, c)
	}
	for _, group := range [][]*rule{e.safelists, e.blocklists} {
		for _, rl := range group {
			check(rl, RuleCheck{Matched: rl.listMatch(r, path)})
		}
	}
	for _, group := range [][]*rule{e.bans, e.throttles, e.tracks} {
		for _, rl := range group {
			c := RuleCheck{Matched: rl.match.matches(r, path), Limit: rl.limit}
			if rl.key != nil {
				b, ok := appendDiscriminator(nil, rl, r, path)
				c.Key, c.KeyMissing = string(b), !ok
			}
			if rl.limit < 0 {
				c.Limit = 0
			}
			for _, op := range tr.ops {
				if op.rule != rl || !op.ran {
					continue
				}
				switch op.kind {
				case store.OpTrustCheck:
					c.Trusted = op.count > 0
				case store.OpTrustSet:
				case store.OpBanCheck:
					c.Banned = op.count > 0 || (tr.stop == store.StopBanned && op.index == tr.stopAt)
				default:
					c.Count, c.WouldBan = op.count, op.banned
				}
			}
			if c.Trusted {
				c.Count, c.WouldBan, c.Banned = 0, false, false
				c.Note = "trusted: this address had a successful answer for this key (trusted_for); the rule neither counts nor bans it"
			} else if rl.failure != nil && c.Matched && !c.KeyMissing {
				c.Note = "counts a failure only when Chatwoot answers one of its failure statuses"
			}
			check(rl, c)
		}
	}
	return x, nil
}

// trace records, for Explain, what each operation of a peeked program
// found.
type trace struct {
	ops    []tracedOp
	stop   store.StopReason
	stopAt int
}

type tracedOp struct {
	rule   *rule
	kind   store.OpKind
	index  int
	count  int64
	banned bool
	ran    bool
}

func (t *trace) peek(ctx context.Context, st store.Store, now time.Time, ops []store.Op, res *store.Result) error {
	in, ok := st.(store.Inspector)
	if !ok {
		return ErrNoPeek
	}
	return in.Peek(ctx, now, ops, res)
}

func (t *trace) record(sc *scratch, res *store.Result) {
	last := len(sc.ops)
	if res.Stop != store.Completed {
		last = res.StopAt + 1
	}
	t.stop, t.stopAt = res.Stop, res.StopAt
	for i := range sc.ops {
		t.ops = append(t.ops, tracedOp{rule: sc.rules[i], kind: sc.ops[i].Kind, index: i,
			count: res.Counts[i], banned: res.Banned[i], ran: i < last})
	}
}
