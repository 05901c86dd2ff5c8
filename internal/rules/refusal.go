package rules

import (
	"context"
	"slices"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// Decide evaluates every rule for r at time now. When the gateway refuses
// the request (403/429), the Fail2Ban/Allow2Ban rules whose
// failure.refused_by names the refusing rule count a failure: that is one
// more store call, made only for refused requests. A dry-run rule's
// would-be refusal counts only for dry-run ban rules, so a dry-run rule
// never makes an enforced ban.
func (e *Engine) Decide(ctx context.Context, now time.Time, r *Request) (Decision, error) {
	d, err := e.decide(ctx, now, r, nil)
	if err != nil || len(e.refusers) == 0 {
		return d, err
	}
	return d, e.countRefusals(ctx, now, r, &d)
}

func (e *Engine) countRefusals(ctx context.Context, now time.Time, r *Request, d *Decision) error {
	refused := ""
	if d.Action != ActionPass {
		refused = d.Rule
	}
	var wouldRefuse []string
	for _, ev := range d.Events {
		if ev.DryRun && !ev.BanStarted && ev.Type != "safelist" && ev.Type != "track" {
			wouldRefuse = append(wouldRefuse, ev.Rule)
		}
	}
	if refused == "" && len(wouldRefuse) == 0 {
		return nil
	}
	path := r.NormalizedPath(e.opts.StripExtension)
	unix := now.Unix()
	var sc *scratch
	for _, rl := range e.refusers {
		hit := refused != "" && slices.Contains(rl.refusedBy, refused)
		if !hit && !rl.enforce {
			for _, n := range wouldRefuse {
				hit = hit || slices.Contains(rl.refusedBy, n)
			}
		}
		if !hit || !rl.match.matches(r, path) || dryBanned(d.Events, rl) {
			continue
		}
		if sc == nil {
			sc = e.pool.Get().(*scratch)
			defer e.pool.Put(sc)
		}
		countKey, disc, ok := e.counterKey(sc, unix, rl, r, path)
		if !ok {
			continue
		}
		// windowed: the eviction class of a failure counter, and the
		// store's clock for the window, as for every other failure.
		op := e.windowed(rl, store.Op{Kind: store.OpFailure, Key: countKey, TTL: ttl(unix, rl.period), Limit: rl.limit,
			BanKey: e.opts.Prefix + ":" + rl.banNS + ":" + disc, BanTTL: rl.banTime})
		e.escalate(&op, rl, disc)
		count, banned, err := e.opts.Store.Fail(ctx, now, op)
		if err != nil {
			return err
		}
		if banned {
			d.Events = append(d.Events, Event{Type: rl.kind.String(), Rule: rl.name, Discriminator: disc,
				Count: count, Limit: rl.limit, BanStarted: true, DryRun: !rl.enforce})
		}
	}
	return nil
}

// dryBanned reports whether rl is a dry-run rule whose would-be ban is
// running: like its enforced self, it then neither counts nor extends it.
func dryBanned(events []Event, rl *rule) bool {
	if rl.enforce {
		return false
	}
	for _, ev := range events {
		if ev.Rule == rl.name && ev.Type == rl.kind.String() && ev.DryRun && !ev.BanStarted {
			return true
		}
	}
	return false
}
