// Package rollout updates a Chatwoot installation safely: it takes and
// verifies a backup, updates staging first, runs migrations and smoke tests,
// soaks, then does production, and on any failure after an instance was
// touched rolls that instance back (stop, restore the database by drop and
// recreate, redeploy the previous version, re-check). Every step is
// journaled and the state is saved after each one, so a crashed update is
// never silently left half-done.
package rollout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/backup"
	"github.com/wootguard/wootguard/internal/journal"
	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/probe"
	"github.com/wootguard/wootguard/internal/smoke"
)

// ErrInterrupted means an earlier update did not finish; `update resume`
// must settle it before a new update may start.
var ErrInterrupted = errors.New("an interrupted update must be resumed first")

// Runner runs one update of one target.
type Runner struct {
	Config Config
	Target *Target
	Notify notify.Sender // nil = no notifications
	Human  io.Writer     // progress lines for a person; nil = none
	JSON   io.Writer     // journal records as JSON lines; nil = none
	Now    func() time.Time
	// Sleep waits for the soak time; nil = a real timer. Tests may inject.
	Sleep func(ctx context.Context, d time.Duration) error

	dir string
	j   *journal.Journal
	st  *State
	log io.Writer

	// Maintenance, when set, turns the fronting gateway's maintenance mode
	// on or off around the production swap (see maintenance.go).
	Maintenance    func(ctx context.Context, on bool) error
	maintenanceSet bool
}

// step is one journaled unit of the update.
type step struct {
	Name string // "staging.deploy"
	Role string // "" for preflight
	Kind string // preflight | backup | verify | deploy | migrate | smoke | soak
}

// Step kinds, and what `update resume` does with a step that was running
// when the process died (see docs/updates.md).
const (
	kindPreflight = "preflight"
	kindBackup    = "backup"
	kindVerify    = "verify"
	kindDeploy    = "deploy"
	kindMigrate   = "migrate"
	kindSmoke     = "smoke"
	kindSoak      = "soak"
)

// ResumeDecision is what resume does when the process died during a step of
// this kind: "rerun" (the step changes nothing or is safe to repeat) or
// "rollback" (the instance is in an unknown state).
var ResumeDecision = map[string]string{
	kindPreflight: "rerun",
	kindBackup:    "rerun",
	kindVerify:    "rerun",
	kindDeploy:    "rollback",
	kindMigrate:   "rollback",
	kindSmoke:     "rerun",
	kindSoak:      "rerun",
}

func (r *Runner) steps() []step {
	out := []step{{Name: kindPreflight, Kind: kindPreflight}}
	for _, inst := range r.Target.Instances() {
		role := inst.Role()
		kinds := []string{kindBackup, kindVerify, kindDeploy, kindMigrate, kindSmoke}
		if role == Staging {
			kinds = append(kinds, kindSoak)
		}
		for _, k := range kinds {
			out = append(out, step{Name: role + "." + k, Role: role, Kind: k})
		}
	}
	return out
}

// NormalizeVersion accepts "v4.15.1" or "4.15.1" (optionally with a
// pre-release suffix) and returns "4.15.1".
func NormalizeVersion(v string) (string, error) {
	s := strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.SplitN(s, "-", 2)
	nums := strings.Split(parts[0], ".")
	ok := len(nums) == 3
	for _, n := range nums {
		ok = ok && n != "" && strings.Trim(n, "0123456789") == ""
	}
	if len(parts) == 2 {
		ok = ok && parts[1] != "" && strings.Trim(strings.ToLower(parts[1]), "abcdefghijklmnopqrstuvwxyz0123456789.") == ""
	}
	if !ok {
		return "", fmt.Errorf("%q is not a Chatwoot version (expected vMAJOR.MINOR.PATCH, e.g. v4.15.1)", v)
	}
	return s, nil
}

// compareVersions compares the numeric parts of two normalized versions.
func compareVersions(a, b string) int {
	pa := strings.Split(strings.SplitN(a, "-", 2)[0], ".")
	pb := strings.Split(strings.SplitN(b, "-", 2)[0], ".")
	for i := 0; i < 3 && i < len(pa) && i < len(pb); i++ {
		var x, y int
		fmt.Sscan(pa[i], &x)
		fmt.Sscan(pb[i], &y)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func (r *Runner) init() error {
	if r.Target == nil {
		return errors.New("rollout: no target")
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Sleep == nil {
		r.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
	r.dir = r.Config.StateDirOrDefault()
	if err := os.MkdirAll(filepath.Join(r.dir, "logs"), 0o750); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	r.j = journal.Open(filepath.Join(r.dir, "journal.jsonl"), r.Now)
	return nil
}

// StateDir is where the state file, journal, lock and command logs are.
func (r *Runner) StateDir() string { return r.Config.StateDirOrDefault() }

func (r *Runner) lock() (*Lock, error) {
	l, stale, err := AcquireLock(r.dir)
	if err != nil {
		return nil, err
	}
	if stale != "" {
		r.say("note: %s", stale)
	}
	return l, nil
}

// begin prepares the state directory, takes the update lock and reads
// the saved state; the caller releases the lock.
func (r *Runner) begin() (*Lock, *State, error) {
	if err := r.init(); err != nil {
		return nil, nil, err
	}
	l, err := r.lock()
	if err != nil {
		return nil, nil, err
	}
	st, err := LoadState(r.dir)
	if err != nil {
		l.Release()
		return nil, nil, err
	}
	return l, st, nil
}

// Apply updates the target to version to.
func (r *Runner) Apply(ctx context.Context, to string) (*State, error) {
	v, err := NormalizeVersion(to)
	if err != nil {
		return nil, err
	}
	l, prev, err := r.begin()
	if err != nil {
		return nil, err
	}
	defer l.Release()
	defer r.maintenanceOff(ctx)
	if prev.Unfinished() {
		return prev, fmt.Errorf("%w: update %s to v%s of target %q stopped at step %s (status %s); run 'wootguard update resume'",
			ErrInterrupted, prev.UpdateID, prev.To, prev.Target, prev.Step, prev.Status)
	}
	host, _ := os.Hostname()
	now := r.Now().UTC()
	r.st = &State{
		UpdateID: now.Format("20060102T150405Z") + "-" + randomHex(3),
		Target:   r.Target.Name, To: v,
		From: map[string]string{}, Backups: map[string]string{}, Touched: map[string]bool{},
		Status: StatusRunning, PID: os.Getpid(), Host: host, Started: now,
	}
	if err := r.openLog(); err != nil {
		return nil, err
	}
	if err := r.save(); err != nil {
		return r.st, err
	}
	r.notify(ctx, "update.started", "info", fmt.Sprintf("Chatwoot update to v%s started on %s", v, r.Target.Name), "")
	return r.st, r.runFrom(ctx, 0)
}

// Resume settles an interrupted update: it continues when the interrupted
// step is safe to repeat and rolls the instance back when it is not.
func (r *Runner) Resume(ctx context.Context) (*State, error) {
	l, st, err := r.begin()
	if err != nil {
		return nil, err
	}
	defer l.Release()
	defer r.maintenanceOff(ctx)
	if !st.Unfinished() {
		if st == nil {
			r.say("nothing to resume: no update has run here")
		} else {
			r.say("nothing to resume: update %s ended with status %s", st.UpdateID, st.Status)
		}
		return st, nil
	}
	if st.Target != r.Target.Name {
		return st, fmt.Errorf("the interrupted update is for target %q; run resume with --target %s", st.Target, st.Target)
	}
	r.st = st
	r.st.PID = os.Getpid()
	if err := r.openLog(); err != nil {
		return st, err
	}
	if st.Status == StatusRollingBack || st.Status == StatusRollbackFailed {
		r.note(st.RollbackRole, "resume: the rollback of "+st.RollbackRole+" did not finish; running it again (every rollback step is safe to repeat)")
		return st, r.rollback(ctx, st.RollbackRole, errors.New("resumed an unfinished rollback"))
	}
	steps := r.steps()
	idx := -1
	for i, s := range steps {
		if s.Name == st.Step {
			idx = i
		}
	}
	if idx < 0 {
		return st, fmt.Errorf("state names step %q, which this target does not have; inspect %s", st.Step, statePath(r.dir))
	}
	s := steps[idx]
	if st.StepDone {
		r.note(s.Role, fmt.Sprintf("resume: step %s had finished; continuing with the next step", s.Name))
		return st, r.runFrom(ctx, idx+1)
	}
	switch ResumeDecision[s.Kind] {
	case "rollback":
		r.note(s.Role, fmt.Sprintf("resume: interrupted during %s, so %s is in an unknown state; rolling it back", s.Name, s.Role))
		return st, r.rollback(ctx, s.Role, fmt.Errorf("update was interrupted during %s", s.Name))
	default:
		r.note(s.Role, fmt.Sprintf("resume: interrupted during %s, which is safe to repeat; running it again", s.Name))
		return st, r.runFrom(ctx, idx)
	}
}

func (r *Runner) runFrom(ctx context.Context, first int) error {
	steps := r.steps()
	for _, s := range steps[first:] {
		if err := r.runStep(ctx, s); err != nil {
			return r.fail(ctx, s, err)
		}
		if s.Kind == kindPreflight {
			if done, err := r.alreadyCurrent(ctx); done || err != nil {
				return err
			}
		}
	}
	r.st.Status = StatusDone
	r.st.Error = ""
	if err := r.save(); err != nil {
		return err
	}
	r.record(journal.Record{Step: "update", Phase: journal.PhaseEnd, Outcome: journal.OutcomeOK, Decision: "update complete"})
	r.notify(ctx, "update.done", "info", fmt.Sprintf("Chatwoot %s updated to v%s", r.Target.Name, r.st.To), "")
	return nil
}

// alreadyCurrent ends the update after preflight when production already
// runs the requested version, and refuses downgrades.
func (r *Runner) alreadyCurrent(ctx context.Context) (bool, error) {
	from := r.st.From[Production]
	switch c := compareVersions(r.st.To, from); {
	case c == 0 && r.st.To == from:
		r.st.Status = StatusDone
		r.save()
		r.record(journal.Record{Step: "update", Phase: journal.PhaseEnd, Outcome: journal.OutcomeSkipped, Decision: "production already runs v" + from + "; nothing to do"})
		return true, nil
	case c < 0:
		err := fmt.Errorf("production runs v%s, newer than v%s: downgrades are not supported (restore a backup instead)", from, r.st.To)
		return true, r.fail(ctx, step{Name: kindPreflight, Kind: kindPreflight}, err)
	}
	return false, nil
}

// runStep journals and runs one step, saving state before and after.
func (r *Runner) runStep(ctx context.Context, s step) error {
	r.st.Step, r.st.StepDone = s.Name, false
	if s.Kind == kindDeploy {
		// Saved before the first command runs: from here on, a failure or a
		// crash means this instance must be rolled back.
		r.st.Touched[s.Role] = true
	}
	if err := r.save(); err != nil {
		return err
	}
	start := journal.Record{Step: s.Name, Instance: s.Role, Phase: journal.PhaseStart, Commands: r.commandLines(s)}
	r.record(start)
	end := journal.Record{Step: s.Name, Instance: s.Role, Phase: journal.PhaseEnd}
	err := r.do(ctx, s, &end)
	if err != nil {
		end.Outcome, end.Error = journal.OutcomeFailed, err.Error()
	} else {
		end.Outcome = journal.OutcomeOK
	}
	r.record(end)
	if err != nil {
		return err
	}
	r.st.StepDone = true
	return r.save()
}

func (r *Runner) commandLines(s step) []string {
	if s.Role == "" {
		return nil
	}
	inst := r.Target.Instance(s.Role)
	var cmds []Command
	switch s.Kind {
	case kindDeploy:
		cmds = inst.Deploy(r.st.To)
	case kindMigrate:
		cmds = inst.Migrate(r.st.To)
	}
	var out []string
	for _, c := range cmds {
		out = append(out, c.String())
	}
	return out
}

func (r *Runner) do(ctx context.Context, s step, rec *journal.Record) error {
	if s.Kind == kindPreflight {
		return r.preflight(ctx, rec)
	}
	inst := r.Target.Instance(s.Role)
	switch s.Kind {
	case kindBackup:
		o := r.backupOptions(inst)
		o.Label = fmt.Sprintf("pre-update %s v%s -> v%s (%s)", s.Role, r.st.From[s.Role], r.st.To, r.st.UpdateID)
		m, err := backup.Create(ctx, o)
		if err != nil {
			return fmt.Errorf("backup of %s: %w", s.Role, err)
		}
		r.st.Backups[s.Role] = m.ID
		rec.BackupID = m.ID
		saveDumpSize(r.dir, r.Target.Name+"/"+s.Role, m.DumpSize)
		return nil
	case kindVerify:
		id := r.st.Backups[s.Role]
		rec.BackupID = id
		m, err := backup.Verify(ctx, r.backupOptions(inst), id)
		if err != nil {
			return fmt.Errorf("verify backup %s of %s: %w", id, s.Role, err)
		}
		if m.Verified == nil || !m.Verified.OK {
			var problems []string
			if m.Verified != nil {
				problems = m.Verified.Problems
			}
			return fmt.Errorf("backup %s of %s did not verify: %s", id, s.Role, strings.Join(problems, "; "))
		}
		r.notify(ctx, "update.backup_verified", "info", fmt.Sprintf("Backup %s of %s %s verified", id, r.Target.Name, s.Role), "")
		return nil
	case kindDeploy:
		if s.Role == Production {
			r.maintenanceOn(ctx)
		}
		return r.runCommands(ctx, inst.Deploy(r.st.To))
	case kindMigrate:
		return r.runCommands(ctx, inst.Migrate(r.st.To))
	case kindSmoke:
		if s.Role == Production {
			r.maintenanceOff(ctx) // smoke tests may go through the gateway
		}
		if err := r.smoke(ctx, inst, r.st.To, rec); err != nil {
			return err
		}
		if s.Role == Production {
			r.notify(ctx, "update.production_ok", "info", fmt.Sprintf("Production of %s passed smoke tests on v%s", r.Target.Name, r.st.To), "")
		}
		return nil
	case kindSoak:
		if d := r.Config.Soak; d > 0 {
			r.say("  soaking %s for %s", s.Role, d)
			if err := r.Sleep(ctx, d); err != nil {
				return fmt.Errorf("soak interrupted: %w", err)
			}
		}
		if err := r.smoke(ctx, inst, r.st.To, rec); err != nil {
			return fmt.Errorf("after soak: %w", err)
		}
		r.notify(ctx, "update.staging_ok", "info", fmt.Sprintf("Staging of %s healthy on v%s; updating production", r.Target.Name, r.st.To), "")
		return nil
	}
	return fmt.Errorf("unknown step kind %q", s.Kind)
}

func (r *Runner) backupOptions(inst Instance) backup.Options {
	o := inst.BackupOptions()
	o.Now = r.Now
	o.Log = r.log
	return o
}

// preflight checks every instance before anything is changed: disk space,
// current health, current version.
func (r *Runner) preflight(ctx context.Context, rec *journal.Record) error {
	for _, inst := range r.Target.Instances() {
		role := inst.Role()
		if c, ok := inst.(preflightChecker); ok {
			for _, check := range c.preflightChecks() {
				if err := check.Run(); err != nil {
					return fmt.Errorf("%s cannot be deployed: %w", role, err)
				}
			}
		}
		dir := inst.BackupOptions().Dir
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("%s backup dir: %w", role, err)
		}
		free, err := freeBytes(dir)
		if err != nil {
			return fmt.Errorf("%s: free disk space of %s: %w", role, dir, err)
		}
		need := int64(r.Config.MinFreeDisk)
		if last := lastDumpSize(r.dir, r.Target.Name+"/"+role); 2*last > need {
			need = 2 * last
		}
		if free < need {
			return fmt.Errorf("%s: only %s free in %s, need %s (min_free_disk, and twice the last dump)", role, ByteSize(free), dir, ByteSize(need))
		}
		// The instance should already be up: do not wait as long as for a
		// freshly deployed one.
		sc := r.Config.Smoke
		if sc.Deadline <= 0 || sc.Deadline > 30*time.Second {
			sc.Deadline = 30 * time.Second
		}
		rep := smoke.Run(ctx, inst.URL(), "", sc)
		rec.Checks = append(rec.Checks, journalChecks(role+" ", rep)...)
		if !rep.OK {
			return fmt.Errorf("%s is not healthy before the update (%s); fix that first, a rollback could not be verified", role, strings.Join(rep.Failed(), ", "))
		}
		res, err := probe.Probe(ctx, inst.URL())
		if err != nil {
			return fmt.Errorf("%s: reading the running version: %w", role, err)
		}
		from, err := NormalizeVersion(res.Version)
		if err != nil {
			return fmt.Errorf("%s reports version %q: %w", role, res.Version, err)
		}
		r.st.From[role] = from
		if p, ok := inst.(preflighter); ok {
			if err := r.runCommands(ctx, p.preflightCommands(r.st.To)); err != nil {
				return fmt.Errorf("%s cannot be deployed: %w", role, err)
			}
		}
	}
	rec.From = r.st.From[Production]
	return nil
}

func (r *Runner) smoke(ctx context.Context, inst Instance, version string, rec *journal.Record) error {
	rep := smoke.Run(ctx, inst.URL(), version, r.Config.Smoke)
	rec.Checks = append(rec.Checks, journalChecks("", rep)...)
	if !rep.OK {
		var why []string
		for _, c := range rep.Results {
			if !c.OK {
				why = append(why, c.Name+": "+c.Detail)
			}
		}
		return fmt.Errorf("smoke tests failed on %s: %s", inst.Role(), strings.Join(why, "; "))
	}
	return nil
}

func journalChecks(prefix string, rep smoke.Report) []journal.Check {
	var out []journal.Check
	for _, c := range rep.Results {
		out = append(out, journal.Check{Name: prefix + c.Name, OK: c.OK, Attempts: c.Attempts, Detail: c.Detail})
	}
	return out
}

func (r *Runner) runCommands(ctx context.Context, cmds []Command) error {
	for _, c := range cmds {
		r.say("  $ %s", c.Short())
		fmt.Fprintf(r.log, "$ %s\n", c)
		if err := c.run(ctx, r.log); err != nil {
			return err
		}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
