package rollout

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/backup"
)

func writeConfig(t *testing.T, c Config) string {
	t.Helper()
	data, err := yaml.Marshal(map[string]any{"updates": c})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "wootguard.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runWootguard(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), o.String(), e.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String()
}

var wootguardBin struct {
	once sync.Once
	path string
	err  error
}

// wootguardBinary builds the real CLI once for all tests.
func wootguardBinary(t *testing.T) string {
	t.Helper()
	wootguardBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "wootguard-bin-")
		if err != nil {
			wootguardBin.err = err
			return
		}
		cleanupDirs = append(cleanupDirs, dir)
		wootguardBin.path = filepath.Join(dir, "wootguard")
		out, err := exec.Command("go", "build", "-o", wootguardBin.path, "github.com/wootguard/wootguard/cmd/wootguard").CombinedOutput()
		if err != nil {
			wootguardBin.err = fmt.Errorf("build wootguard: %v\n%s", err, out)
		}
	})
	if wootguardBin.err != nil {
		t.Fatal(wootguardBin.err)
	}
	return wootguardBin.path
}

// TestKillThenResume kills `wootguard update apply` with SIGKILL at a known
// step, checks that the crash is detected, and that `wootguard update
// resume` settles it as documented: roll back an instance interrupted in
// deploy, repeat an interrupted soak.
func TestKillThenResume(t *testing.T) {
	tests := []struct {
		name     string
		killAt   string // step running when the process is killed
		decision string // journaled resume decision contains this
		wantCode int
		status   string
		wantProd string
	}{
		{"kill in production deploy rolls production back", "production.deploy", "interrupted during production.deploy, so production is in an unknown state; rolling it back", 1, StatusRolledBack, vBase},
		{"kill in staging soak repeats the soak and finishes", "staging.soak", "interrupted during staging.soak, which is safe to repeat", 0, StatusDone, vGood},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stag := newFakeInstance(t, Staging)
			prod := newFakeInstance(t, Production)
			bin := wootguardBinary(t)
			markers := t.TempDir()
			reached, release := filepath.Join(markers, "reached"), filepath.Join(markers, "release")
			// The deploy command announces itself and waits for the test's
			// go, so the kill lands at a known step. It is a shell string,
			// as an operator might write it.
			blocking := ExecCommand{Shell: fmt.Sprintf(`touch %s; while [ ! -e %s ]; do sleep 0.05; done; ln -sfn %s %s`,
				reached, release, filepath.Join(prod.bins, "fakechatwoot-{{version}}"), prod.current())}
			stateDir := t.TempDir()
			cfg := Config{
				StateDir: stateDir, Smoke: testSmoke,
				Targets: []TargetConfig{{Name: "main", Kind: "exec", Staging: stag.config(nil), Production: prod.config(&blocking)}},
			}
			if tc.killAt == "staging.soak" {
				cfg.Soak = time.Hour // the process is killed long before
				os.WriteFile(release, nil, 0o644)
			}
			cfgPath := writeConfig(t, cfg)

			apply := exec.Command(bin, "update", "apply", "--to", "v"+vGood, "--config", cfgPath, "--yes", "--json")
			var applyOut, applyErr bytes.Buffer
			apply.Stdout, apply.Stderr = &applyOut, &applyErr
			apply.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // kill it with its children
			if err := apply.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- apply.Wait() }()
			for {
				// The step's start is journaled (and fsynced) before it runs.
				j, _ := os.ReadFile(filepath.Join(stateDir, "journal.jsonl"))
				if strings.Contains(string(j), `"step":"`+tc.killAt+`","phase":"start"`) {
					if _, err := os.Stat(reached); err == nil || tc.killAt != "production.deploy" {
						break
					}
				}
				select {
				case err := <-exited:
					t.Fatalf("apply ended before %s: %v\n%s", tc.killAt, err, applyErr.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
			syscall.Kill(-apply.Process.Pid, syscall.SIGKILL)
			<-exited

			st, err := LoadState(stateDir)
			if err != nil || st == nil {
				t.Fatalf("state after kill: %v %v", st, err)
			}
			if st.Status != StatusRunning || st.Step != tc.killAt || st.StepDone {
				t.Fatalf("state after kill = %+v, want running in %s", st, tc.killAt)
			}
			// The deploy command runs after the --json line was printed.
			if tc.killAt == "production.deploy" && !strings.Contains(applyOut.String(), `"step":"`+tc.killAt+`","phase":"start"`) {
				t.Errorf("--json output lacks the start of %s:\n%s", tc.killAt, applyOut.String())
			}

			// A new apply detects the crash (and the stale lock) and refuses.
			code, _, stderr := runWootguard(t, bin, "update", "apply", "--to", "v"+vGood, "--config", cfgPath, "--yes")
			if code != 4 || !strings.Contains(stderr, "wootguard update resume") || !strings.Contains(stderr, "stale update lock from dead PID") {
				t.Fatalf("second apply: exit %d, stderr:\n%s", code, stderr)
			}
			if code, _, _ := runWootguard(t, bin, "update", "status", "--config", cfgPath); code != 4 {
				t.Errorf("update status exit %d, want 4 while an update is unfinished", code)
			}

			os.WriteFile(release, nil, 0o644) // a rollback redeploys with the same command
			if tc.killAt == "staging.soak" {
				cfg.Soak = 0 // the operator shortens the soak before resuming
				cfgPath = writeConfig(t, cfg)
			}
			code, stdout, stderr := runWootguard(t, bin, "update", "resume", "--config", cfgPath, "--json")
			if code != tc.wantCode {
				t.Fatalf("resume: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, `"status":"`+tc.status+`"`) {
				t.Errorf("resume --json summary lacks status %s:\n%s", tc.status, stdout)
			}
			st, _ = LoadState(stateDir)
			if st.Status != tc.status {
				t.Fatalf("status after resume %s, want %s", st.Status, tc.status)
			}
			if got := servingVersion(t, prod.url); got != tc.wantProd {
				t.Errorf("production serves %q after resume, want %q", got, tc.wantProd)
			}
			if got := servingVersion(t, stag.url); got != vGood {
				t.Errorf("staging serves %q, want %q", got, vGood)
			}
			recs, lines := journalSteps(t, stateDir)
			var decided bool
			for _, r := range recs {
				if r.Phase == "note" && strings.Contains(r.Decision, tc.decision) {
					decided = true
				}
			}
			if !decided {
				t.Errorf("journal does not record the resume decision %q:\n%s", tc.decision, strings.Join(lines, "\n"))
			}
			if tc.status == StatusRolledBack {
				m, err := backup.Load(filepath.Join(prod.dir, "backups"), st.Backups[Production])
				if err != nil {
					t.Fatal(err)
				}
				if !sameChecksums(checksums(t, prod.db), m.TableChecksums) {
					t.Errorf("production tables differ from its pre-update backup after resume")
				}
				for _, want := range []string{"production.rollback.restore end ok", "production.rollback.checksums end ok", "production.rollback.smoke end ok", "update end failed"} {
					if !slices.Contains(lines, want) {
						t.Errorf("journal lacks %q", want)
					}
				}
				if code, stdout, _ := runWootguard(t, bin, "update", "status", "--config", cfgPath); code != 0 || !strings.Contains(stdout, "rolled back production") {
					t.Errorf("update status after resume: exit %d\n%s", code, stdout)
				}
			} else {
				if !slices.Contains(migrations(t, prod.db), "20250201000000") {
					t.Errorf("production not migrated after resume")
				}
				if !slices.Contains(lines, "staging.soak end ok") || lines[len(lines)-1] != "update end ok" {
					t.Errorf("journal after resume:\n%s", strings.Join(lines, "\n"))
				}
			}
			// Settled: nothing left to resume.
			if code, _, stderr := runWootguard(t, bin, "update", "resume", "--config", cfgPath); code != 0 || !strings.Contains(stderr, "nothing to resume") {
				t.Errorf("second resume: exit %d\n%s", code, stderr)
			}
		})
	}
}
