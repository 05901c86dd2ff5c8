package rollout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/backup"
)

// TestUpdateScenarios runs whole updates against stand-in Chatwoots with
// real PostgreSQL databases, driven through the exec target.
func TestUpdateScenarios(t *testing.T) {
	tests := []struct {
		name        string
		withStaging bool
		to          string
		wantStatus  string
		// wantServing is what each instance serves afterwards.
		wantStaging, wantProduction string
		rolledBack                  string // role rolled back, "" = none
		wantEvents                  []string
	}{
		{
			name: "successful update", withStaging: true, to: "v" + vGood, wantStatus: StatusDone,
			wantStaging: vGood, wantProduction: vGood,
			wantEvents: []string{"update.started", "update.backup_verified", "update.staging_ok", "update.backup_verified", "update.production_ok", "update.done"},
		},
		{
			name: "failed migration on production rolls back", to: vBadMigration, wantStatus: StatusRolledBack,
			wantProduction: vBase, rolledBack: Production,
			wantEvents: []string{"update.started", "update.backup_verified", "update.failed", "update.rolled_back"},
		},
		{
			name: "failing smoke test on production rolls back", to: vFailingDBInfo, wantStatus: StatusRolledBack,
			wantProduction: vBase, rolledBack: Production,
			wantEvents: []string{"update.started", "update.backup_verified", "update.failed", "update.rolled_back"},
		},
		{
			name: "staging failure leaves production untouched", withStaging: true, to: vBadMigration, wantStatus: StatusRolledBack,
			wantStaging: vBase, wantProduction: vBase, rolledBack: Staging,
			wantEvents: []string{"update.started", "update.backup_verified", "update.failed", "update.rolled_back"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prod := newFakeInstance(t, Production)
			tc0 := TargetConfig{Name: "main", Kind: "exec", Production: prod.config(nil)}
			var stag *fakeInstance
			if tc.withStaging {
				stag = newFakeInstance(t, Staging)
				tc0.Staging = stag.config(nil)
			}
			prodBefore := checksums(t, prod.db)
			target, err := NewTarget(tc0)
			if err != nil {
				t.Fatal(err)
			}
			stateDir := t.TempDir()
			rec := &recorder{}
			var human, jsonOut bytes.Buffer
			r := &Runner{
				Config: Config{StateDir: stateDir, Smoke: testSmoke, Targets: []TargetConfig{tc0}},
				Target: target, Notify: rec, Human: &human, JSON: &jsonOut,
			}
			st, err := r.Apply(context.Background(), tc.to)
			if st == nil {
				t.Fatalf("no state: %v", err)
			}
			if st.Status != tc.wantStatus {
				t.Fatalf("status %s, want %s (err %v)\n%s", st.Status, tc.wantStatus, err, human.String())
			}
			if (err == nil) != (tc.wantStatus == StatusDone) {
				t.Errorf("err = %v with status %s", err, st.Status)
			}
			if got := servingVersion(t, prod.url); got != tc.wantProduction {
				t.Errorf("production serves %q, want %q", got, tc.wantProduction)
			}
			if stag != nil {
				if got := servingVersion(t, stag.url); got != tc.wantStaging {
					t.Errorf("staging serves %q, want %q", got, tc.wantStaging)
				}
			}
			if got := rec.kinds(); !slices.Equal(got, tc.wantEvents) {
				t.Errorf("notifications %v, want %v", got, tc.wantEvents)
			}
			recs, lines := journalSteps(t, stateDir)
			for _, r := range recs {
				if r.UpdateID != st.UpdateID || r.User == "" || r.Host == "" || r.To != strings.TrimPrefix(tc.to, "v") {
					t.Errorf("journal record lacks context: %+v", r)
				}
			}
			if n := strings.Count(jsonOut.String(), "\n"); n != len(recs) {
				t.Errorf("--json stream has %d lines, journal %d records", n, len(recs))
			}

			switch tc.rolledBack {
			case "":
				// Every step started and ended ok, in order.
				var want []string
				for _, s := range r.steps() {
					want = append(want, s.Name+" start", s.Name+" end ok")
				}
				want = append(want, "update end ok")
				if !slices.Equal(lines, want) {
					t.Errorf("journal:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
				}
				for _, db := range []string{prod.db, stag.db} {
					if m := migrations(t, db); !slices.Contains(m, "20250201000000") {
						t.Errorf("migrations of %s = %v, want 20250201000000 applied", db, m)
					}
				}
			default:
				inst := prod
				if tc.rolledBack == Staging {
					inst = stag
				}
				m, err := backup.Load(filepath.Join(inst.dir, "backups"), st.Backups[tc.rolledBack])
				if err != nil {
					t.Fatal(err)
				}
				if got := checksums(t, inst.db); !sameChecksums(got, m.TableChecksums) {
					t.Errorf("after rollback, tables %v differ from the backup's %v", sortedKeys(got), sortedKeys(m.TableChecksums))
				}
				if tableExists(t, inst.db, "captain_scratch") || tableExists(t, inst.db, "labels") {
					t.Errorf("a table created by the failed update survived the rollback")
				}
				for _, want := range []string{tc.rolledBack + ".rollback.restore end ok", tc.rolledBack + ".rollback.checksums end ok", tc.rolledBack + ".rollback.smoke end ok", "update end failed"} {
					if !slices.Contains(lines, want) {
						t.Errorf("journal lacks %q:\n%s", want, strings.Join(lines, "\n"))
					}
				}
				last := recs[len(recs)-1]
				if !strings.Contains(last.Decision, "rolled back "+tc.rolledBack) || last.BackupID == "" || last.Error == "" {
					t.Errorf("last journal record does not explain the rollback: %+v", last)
				}
			}
			if tc.rolledBack == Staging {
				if hasStepPrefix(lines, "production.") {
					t.Errorf("production steps ran after staging failed:\n%s", strings.Join(lines, "\n"))
				}
				if !sameChecksums(checksums(t, prod.db), prodBefore) {
					t.Errorf("production data changed although only staging was updated")
				}
			}
		})
	}
}

func TestPreflightRefusesUnhealthyInstance(t *testing.T) {
	t.Parallel()
	prod := newFakeInstance(t, Production)
	prod.run(t, "stop") // production is down before the update
	tc := TargetConfig{Name: "main", Kind: "exec", Production: prod.config(nil)}
	target, err := NewTarget(tc)
	if err != nil {
		t.Fatal(err)
	}
	stateDir := t.TempDir()
	r := &Runner{Config: Config{StateDir: stateDir, Smoke: testSmoke}, Target: target}
	st, err := r.Apply(context.Background(), vGood)
	if err == nil || !strings.Contains(err.Error(), "not healthy before the update") {
		t.Fatalf("err = %v, want a preflight refusal", err)
	}
	if st.Status != StatusFailed || len(st.Backups) != 0 || st.Touched[Production] {
		t.Errorf("state after refused preflight = %+v", st)
	}
	if _, lines := journalSteps(t, stateDir); hasStepPrefix(lines, "production.") {
		t.Errorf("steps ran after a failed preflight: %v", lines)
	}
	// A finished (failed) update does not block the next one.
	prod.run(t, "start")
	if st, err := r.Apply(context.Background(), vGood); err != nil || st.Status != StatusDone {
		t.Fatalf("second apply: %v (%+v)", err, st)
	}
}

func TestApplyRefusesWhileInterrupted(t *testing.T) {
	t.Parallel()
	stateDir := t.TempDir()
	if err := saveState(stateDir, &State{UpdateID: "x", Target: "main", To: "4.2.0", Step: "production.migrate", Status: StatusRunning}); err != nil {
		t.Fatal(err)
	}
	target, err := NewTarget(TargetConfig{Name: "main", Kind: "exec", Production: &InstanceConfig{
		URL: "http://127.0.0.1:1", DatabaseURL: "postgres://x/y", Backup: BackupConfig{Dir: t.TempDir()},
		Exec: ExecConfig{Stop: ExecCommand{Shell: "true"}, Start: ExecCommand{Shell: "true"}, Deploy: ExecCommand{Shell: "true"}, Migrate: ExecCommand{Shell: "true"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Config: Config{StateDir: stateDir}, Target: target}
	_, err = r.Apply(context.Background(), "v4.2.0")
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "wootguard update resume") {
		t.Fatalf("err = %v, want ErrInterrupted naming resume", err)
	}
}

// TestInterruptDuringDeployRollsBack cancels the update (as Ctrl-C or
// SIGTERM does) while production's deploy runs: the update stops and the
// rollback still runs to the end.
func TestInterruptDuringDeployRollsBack(t *testing.T) {
	t.Parallel()
	prod := newFakeInstance(t, Production)
	reached := filepath.Join(t.TempDir(), "reached")
	cfg := prod.config(nil)
	// The first deploy hangs until the update is cancelled (exec: the
	// cancel kills the sleep itself); the rollback's redeploy works.
	cfg.Exec.Deploy = ExecCommand{Shell: fmt.Sprintf(`if [ -e %[1]s.done ]; then ln -sfn %[2]s %[3]s; else touch %[1]s.done %[1]s; exec sleep 600; fi`,
		reached, filepath.Join(prod.bins, "fakechatwoot-{{version}}"), prod.current())}
	target, err := NewTarget(TargetConfig{Name: "main", Kind: "exec", Production: cfg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			if _, err := os.Stat(reached); err == nil {
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	r := &Runner{Config: Config{StateDir: t.TempDir(), Smoke: testSmoke}, Target: target}
	st, err := r.Apply(ctx, vGood)
	if err == nil || st == nil || st.Status != StatusRolledBack {
		t.Fatalf("status %v, err %v; want rolled_back", st, err)
	}
	if got := servingVersion(t, prod.url); got != vBase {
		t.Errorf("production serves %q, want %q", got, vBase)
	}
}

// With a gateway in front, maintenance mode is on during production's
// deploy and migration, and off before its smoke tests, on success and
// on failure alike.
func TestMaintenanceAroundProductionSwap(t *testing.T) {
	for _, tc := range []struct{ to, status string }{{"v" + vGood, StatusDone}, {vBadMigration, StatusRolledBack}} {
		t.Run(tc.to, func(t *testing.T) {
			prod := newFakeInstance(t, Production)
			tc0 := TargetConfig{Name: "main", Kind: "exec", Production: prod.config(nil)}
			target, err := NewTarget(tc0)
			if err != nil {
				t.Fatal(err)
			}
			stateDir := t.TempDir()
			var calls []bool
			r := &Runner{Config: Config{StateDir: stateDir, Smoke: testSmoke, Targets: []TargetConfig{tc0}}, Target: target,
				Maintenance: func(_ context.Context, on bool) error { calls = append(calls, on); return nil }}
			st, _ := r.Apply(context.Background(), tc.to)
			if st == nil || st.Status != tc.status {
				t.Fatalf("state %+v", st)
			}
			if !slices.Equal(calls, []bool{true, false}) {
				t.Fatalf("maintenance calls %v, want on then off", calls)
			}
			_, lines := journalSteps(t, stateDir)
			on := slices.Index(lines, "production.deploy start")
			if on < 0 || !strings.HasPrefix(lines[on+1], "decision note") {
				t.Fatalf("maintenance not noted at the production deploy:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}
