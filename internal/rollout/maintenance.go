package rollout

import (
	"context"
)

// Maintenance mode around the production swap: when Runner.Maintenance is
// set (the gateway fronts production), it is turned on before
// production's deploy, so clients get a 503 page with Retry-After instead
// of 502s while Chatwoot is replaced and migrated, and off again before
// production's smoke tests — and, whatever happens, at the end of the
// apply or resume that turned it on.

func (r *Runner) maintenanceOn(ctx context.Context) {
	if r.Maintenance == nil || r.maintenanceSet {
		return
	}
	if err := r.Maintenance(ctx, true); err != nil {
		r.note(Production, "maintenance mode could not be turned on ("+err.Error()+"); clients may see 502s during the swap")
		return
	}
	r.maintenanceSet = true
	r.note(Production, "maintenance mode on: the gateway answers 503 with Retry-After during the swap")
}

func (r *Runner) maintenanceOff(ctx context.Context) {
	if !r.maintenanceSet {
		return
	}
	if err := r.Maintenance(context.WithoutCancel(ctx), false); err != nil {
		r.note(Production, "maintenance mode is STILL ON ("+err.Error()+"): run 'wootguard maintenance off'")
		return
	}
	r.maintenanceSet = false
	r.note(Production, "maintenance mode off")
}
