package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wootguard/wootguard/internal/backup"
	"github.com/wootguard/wootguard/internal/journal"
)

// fail handles a failed step: roll back the instance if it was touched,
// otherwise stop with nothing changed on it.
func (r *Runner) fail(ctx context.Context, s step, cause error) error {
	r.maintenanceOff(ctx) // a rollback's smoke tests may go through the gateway
	if s.Role != "" && r.st.Touched[s.Role] {
		r.note(s.Role, fmt.Sprintf("rollback %s: %s failed after %s was changed", s.Role, s.Name, s.Role))
		return r.rollback(ctx, s.Role, cause)
	}
	r.st.Status = StatusFailed
	r.st.Error = cause.Error()
	r.save()
	decision := "update stopped; nothing was changed on " + orWord(s.Role, "any instance")
	if s.Role == Production && r.st.Touched[Staging] {
		decision += " (staging stays on v" + r.st.To + ", where it passed its tests)"
	}
	r.record(journal.Record{Step: "update", Phase: journal.PhaseEnd, Outcome: journal.OutcomeFailed, Decision: decision, Error: cause.Error()})
	r.notify(ctx, "update.failed", "warning", fmt.Sprintf("Chatwoot update of %s to v%s failed at %s; nothing changed", r.Target.Name, r.st.To, s.Name), cause.Error())
	return cause
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// rollback restores role to its state before the update. Each part is safe
// to repeat, which is what lets resume run it again after a crash.
func (r *Runner) rollback(ctx context.Context, role string, cause error) error {
	// An interrupt (Ctrl-C, SIGTERM) aborts the update, not its rollback:
	// stopping half-way through a restore would be worse than either.
	ctx = context.WithoutCancel(ctx)
	r.st.Status, r.st.RollbackRole, r.st.Error = StatusRollingBack, role, cause.Error()
	if err := r.save(); err != nil {
		return err
	}
	r.notify(ctx, "update.failed", "critical", fmt.Sprintf("Chatwoot update of %s to v%s failed on %s; rolling back", r.Target.Name, r.st.To, role), cause.Error())
	inst := r.Target.Instance(role)
	prev := r.st.From[role]
	id := r.st.Backups[role]
	parts := []struct {
		name string
		cmds []Command // shown in the journal
		run  func(rec *journal.Record) error
	}{
		{"stop", inst.Stop(), func(*journal.Record) error { return r.runCommands(ctx, inst.Stop()) }},
		{"restore", nil, func(rec *journal.Record) error {
			rec.BackupID = id
			return backup.Restore(ctx, r.backupOptions(inst), id)
		}},
		{"checksums", nil, func(rec *journal.Record) error {
			rec.BackupID = id
			return r.compareChecksums(ctx, inst, id)
		}},
		{"redeploy", inst.Rollback(prev), func(*journal.Record) error { return r.runCommands(ctx, inst.Rollback(prev)) }},
		{"smoke", nil, func(rec *journal.Record) error { return r.smoke(ctx, inst, prev, rec) }},
	}
	for _, p := range parts {
		name := role + ".rollback." + p.name
		r.st.Step, r.st.StepDone = name, false
		r.save()
		var lines []string
		for _, c := range p.cmds {
			lines = append(lines, c.String())
		}
		r.record(journal.Record{Step: name, Instance: role, Phase: journal.PhaseStart, Commands: lines})
		end := journal.Record{Step: name, Instance: role, Phase: journal.PhaseEnd, Outcome: journal.OutcomeOK}
		err := p.run(&end)
		if err != nil {
			end.Outcome, end.Error = journal.OutcomeFailed, err.Error()
		}
		r.record(end)
		if err != nil {
			r.st.Status = StatusRollbackFailed
			r.st.Error = fmt.Sprintf("%v; then rollback failed at %s: %v", cause, name, err)
			r.save()
			r.record(journal.Record{Step: "update", Phase: journal.PhaseEnd, Outcome: journal.OutcomeFailed, Instance: role, BackupID: id,
				Decision: "rollback failed: operator needed; 'wootguard update resume' retries the rollback", Error: r.st.Error})
			r.notify(ctx, "update.rollback_failed", "critical", fmt.Sprintf("ROLLBACK FAILED on %s %s: manual action needed", r.Target.Name, role), r.st.Error)
			return errors.New(r.st.Error)
		}
	}
	r.st.Status = StatusRolledBack
	r.st.Touched[role] = false
	r.st.StepDone = true
	r.save()
	r.record(journal.Record{Step: "update", Phase: journal.PhaseEnd, Outcome: journal.OutcomeFailed, Instance: role, BackupID: id,
		Decision: fmt.Sprintf("rolled back %s to v%s from backup %s; data equals the backup", role, prev, id), Error: cause.Error()})
	r.notify(ctx, "update.rolled_back", "warning", fmt.Sprintf("Chatwoot %s %s rolled back to v%s", r.Target.Name, role, prev), cause.Error())
	return fmt.Errorf("%w (rolled back %s to v%s)", cause, role, prev)
}

func (r *Runner) compareChecksums(ctx context.Context, inst Instance, id string) error {
	m, err := backup.Load(inst.BackupOptions().Dir, id)
	if err != nil {
		return err
	}
	got, err := backup.TableChecksums(ctx, inst.DatabaseURL())
	if err != nil {
		return err
	}
	var diff []string
	for t, sum := range m.TableChecksums {
		if got[t] != sum {
			diff = append(diff, t)
		}
	}
	for t := range got {
		if _, ok := m.TableChecksums[t]; !ok {
			diff = append(diff, t+" (not in backup)")
		}
	}
	if len(diff) > 0 {
		return fmt.Errorf("restored database differs from backup %s in: %s", id, strings.Join(diff, ", "))
	}
	return nil
}
