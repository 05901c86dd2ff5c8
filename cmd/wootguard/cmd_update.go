package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/journal"
	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/rollout"
)

func init() {
	register(&command{Name: "update plan", Summary: "show every step and exact command an update would run", Run: runUpdatePlan})
	register(&command{Name: "update apply", Summary: "update Chatwoot: backup, staging, production, auto-rollback", Run: runUpdateApply})
	register(&command{Name: "update resume", Summary: "finish or roll back an update that was interrupted", Run: runUpdateResume})
	register(&command{Name: "update status", Summary: "show the last update from the journal", Run: runUpdateStatus})
}

// Exit codes of the update commands beyond 0/1/2.
const (
	exitRollbackFailed = 3 // the instance may be broken: an operator is needed
	exitBlocked        = 4 // another update runs, or an interrupted one must be resumed
)

const updateExitCodes = `Exit codes:
  0  updated (or nothing to do)
  1  the update failed; nothing was changed, or the failed instance was
     rolled back to its previous version and data
  2  usage error
  3  rollback FAILED: the instance needs an operator (see the journal);
     'wootguard update resume' retries the rollback
  4  refused: another update is running, or an interrupted update must be
     settled first with 'wootguard update resume'`

type updateFlags struct {
	config, target string
	maintenance    string
}

func (u *updateFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&u.config, "config", "", "YAML config `file` with the updates: section (default $WOOTGUARD_CONFIG)")
	fs.StringVar(&u.target, "target", "", "target `name` from updates.targets (needed when there are several)")
	fs.StringVar(&u.maintenance, "maintenance", "auto", "apply/resume: gateway maintenance mode during the production swap: auto (when this config's gateway answers), on, off")
}

// load reads the config and picks the target; a problem is printed and
// its exit code returned.
func (u *updateFlags) load(env *cliEnv, name string) (rollout.Config, *rollout.Target, int) {
	path := u.config
	if path == "" {
		path = env.Getenv("WOOTGUARD_CONFIG")
	}
	if path == "" {
		fmt.Fprintf(env.Stderr, "wootguard %s: give --config FILE (or set WOOTGUARD_CONFIG); the targets are described there\n", name)
		return rollout.Config{}, nil, 2
	}
	u.config = path
	cfg, err := rollout.LoadConfig(path)
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard %s: %v\n", name, err)
		return cfg, nil, 2
	}
	if u.target == "" && name == "update resume" {
		// The interrupted update knows its target.
		if st, err := rollout.LoadState(cfg.StateDirOrDefault()); err == nil && st.Unfinished() {
			u.target = st.Target
		}
	}
	t, err := cfg.Target(u.target)
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard %s: %v\n", name, err)
		return cfg, nil, 2
	}
	return cfg, t, 0
}

// sender builds notifications from updates.notify; none configured = nil.
func (u *updateFlags) sender(env *cliEnv) (notify.Sender, error) {
	var nc notify.Config
	found, err := config.LoadSection(u.config, "updates.notify", &nc)
	if err != nil || !found || nc.Empty() {
		return nil, err
	}
	return notify.FromConfigEnv(nc, env.Getenv)
}

func runUpdatePlan(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "update plan", "--to vX.Y.Z [--target NAME] [--config FILE]", `
Print, without changing anything, every step 'wootguard update apply' would
take for this target and the exact commands it would run, including the
rollback commands used if a step fails.

The current versions are asked from each instance (GET /api) so the
rollback commands can name them; if an instance does not answer, the plan
shows PREVIOUS instead. A downgrade (an instance already runs a newer
release) is refused, with the reason, before anything else (exit 1).

--to latest picks the newest stable release that the schedule's soak
(updates.schedule.min_release_age, default 72h) allows, from the release
feed (updates.feeds.releases, else GitHub), and says so.

Example:
  wootguard update plan --to v4.18.0 --config /etc/wootguard/wootguard.yaml
  wootguard update plan --to latest --config /etc/wootguard/wootguard.yaml`)
	var u updateFlags
	u.add(fs)
	var to toFlags
	to.add(fs)
	pos, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 || to.to == "" {
		fmt.Fprintln(env.Stderr, "wootguard update plan: --to vX.Y.Z (or --to latest) is required (and no other arguments)")
		return 2
	}
	if !strings.EqualFold(to.to, "latest") {
		if _, err := rollout.NormalizeVersion(to.to); err != nil {
			fmt.Fprintf(env.Stderr, "wootguard update plan: %v\n", err)
			return 2
		}
	}
	cfg, target, code := u.load(env, "update plan")
	if target == nil {
		return code
	}
	v, why, err := to.resolve(ctx, env, u.config)
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard update plan: %v\n", err)
		return 1
	}
	if why != "" {
		fmt.Fprintln(env.Stdout, why)
	}
	current := currentVersions(ctx, target)
	if err := refuseDowngrade(current, v); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard update plan: %v\n", err)
		return 1
	}
	fmt.Fprint(env.Stdout, rollout.Plan(cfg, target, v, current))
	return 0
}

func runUpdateApply(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "update apply", "--to vX.Y.Z [--target NAME] [--config FILE] [--yes] [--json]", `
Update a Chatwoot target to a pinned version, safely:

  1. preflight: take the update lock, check free disk space, check that
     every instance is healthy now, record the running versions
  2. for staging, then production: back up the database (pg_dump) and
     verify the backup by restoring it into a scratch database; deploy the
     new version; run the migrations; run the smoke tests (/health, /api,
     /app/login and your own checks); on staging, soak and test again
  3. if anything fails after an instance was changed, roll that instance
     back automatically: stop it, restore the database (drop and recreate
     from the verified dump), bring the previous version back, and check
     that health and every table's checksum match the backup

A failure on staging never touches production. Every step is written to
the journal (STATE_DIR/journal.jsonl) and the state file, so a crash is
noticed: run 'wootguard update resume' afterwards.

Progress goes to stderr; with --json, the journal records are also printed
as JSON lines on stdout, followed by one summary object.
Run 'wootguard update plan' first to see the exact commands.

Example:
  wootguard update apply --to v4.18.0 --config /etc/wootguard/wootguard.yaml --yes

`+updateExitCodes)
	var u updateFlags
	u.add(fs)
	var to toFlags
	to.add(fs)
	yes := fs.Bool("yes", false, "do not ask for confirmation (needed when not on a terminal)")
	jsonOut := fs.Bool("json", false, "print JSON lines on stdout")
	pos, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 || to.to == "" {
		fmt.Fprintln(env.Stderr, "wootguard update apply: --to vX.Y.Z (or --to latest) is required (and no other arguments)")
		return 2
	}
	if !strings.EqualFold(to.to, "latest") {
		if _, err := rollout.NormalizeVersion(to.to); err != nil {
			fmt.Fprintf(env.Stderr, "wootguard update apply: %v\n", err)
			return 2
		}
	}
	cfg, target, code := u.load(env, "update apply")
	if target == nil {
		return code
	}
	v, why, err := to.resolve(ctx, env, u.config)
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard update apply: %v\n", err)
		return 1
	}
	if why != "" {
		fmt.Fprintln(env.Stderr, why)
	}
	if err := refuseDowngrade(currentVersions(ctx, target), v); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard update apply: %v\n", err)
		return 1
	}
	if !*yes {
		if !confirm(env, fmt.Sprintf("Update %s to v%s (staging first, then production)? Type yes: ", target.Name, v)) {
			fmt.Fprintln(env.Stderr, "wootguard update apply: not confirmed; pass --yes to run without a terminal (see 'wootguard update plan')")
			return 2
		}
	}
	r, code := newUpdateRunner(env, &u, cfg, target, *jsonOut)
	if r == nil {
		return code
	}
	st, err := r.Apply(ctx, v)
	return finishUpdate(env, "update apply", r, st, err, *jsonOut)
}

func runUpdateResume(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "update resume", "[--config FILE] [--target NAME] [--json]", `
Settle an update that was interrupted (crash, kill, power loss) or whose
rollback failed. It reads the state file and decides by the step that was
running:

  preflight, backup, verify, smoke, soak  run that step again and continue
                                          (they change nothing, or are
                                          safe to repeat)
  deploy, migrate                         roll that instance back (its state
                                          is unknown)
  a rollback step                         run the whole rollback again
  a step that had finished                continue with the next step

The decision is written to the journal. With nothing to resume it says so
and exits 0. The target is taken from the interrupted update unless
--target is given.

Example:
  wootguard update resume --config /etc/wootguard/wootguard.yaml

`+updateExitCodes)
	var u updateFlags
	u.add(fs)
	jsonOut := fs.Bool("json", false, "print JSON lines on stdout")
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	cfg, target, code := u.load(env, "update resume")
	if target == nil {
		return code
	}
	r, code := newUpdateRunner(env, &u, cfg, target, *jsonOut)
	if r == nil {
		return code
	}
	st, err := r.Resume(ctx)
	return finishUpdate(env, "update resume", r, st, err, *jsonOut)
}

func newUpdateRunner(env *cliEnv, u *updateFlags, cfg rollout.Config, t *rollout.Target, jsonOut bool) (*rollout.Runner, int) {
	sender, err := u.sender(env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard: updates.notify: %v\n", err)
		return nil, 2
	}
	r := &rollout.Runner{Config: cfg, Target: t, Notify: sender, Human: env.Stderr}
	if r.Maintenance, err = updateMaintenance(env, u.maintenance, u.config); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard: %v\n", err)
		return nil, 2
	}
	if jsonOut {
		r.JSON = env.Stdout
	}
	return r, 0
}

func finishUpdate(env *cliEnv, name string, r *rollout.Runner, st *rollout.State, err error, jsonOut bool) int {
	code := 0
	switch {
	case errors.Is(err, rollout.ErrLocked) || errors.Is(err, rollout.ErrInterrupted):
		code = exitBlocked
	case st != nil && st.Status == rollout.StatusRollbackFailed:
		code = exitRollbackFailed
	case err != nil:
		code = 1
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard %s: %v\n", name, err)
	}
	if st != nil && code != exitBlocked {
		fmt.Fprintf(env.Stderr, "update %s: %s (journal: %s)\n", st.UpdateID, st.Status, filepath.Join(r.StateDir(), "journal.jsonl"))
	}
	if jsonOut {
		sum := map[string]any{"result": true, "exit_code": code, "journal": filepath.Join(r.StateDir(), "journal.jsonl")}
		if st != nil {
			sum["update_id"], sum["status"], sum["to"], sum["from"], sum["backups"] = st.UpdateID, st.Status, st.To, st.From, st.Backups
		}
		if err != nil {
			sum["error"] = err.Error()
		}
		line, _ := json.Marshal(sum)
		fmt.Fprintln(env.Stdout, string(line))
	}
	return code
}

// updateStdin is where apply reads its confirmation; tests replace it.
var updateStdin = func() (in io.Reader, terminal bool) { return os.Stdin, isTerminal(os.Stdin) }

// confirm asks on the terminal; without one it answers no.
func confirm(env *cliEnv, question string) bool {
	in, terminal := updateStdin()
	if !terminal {
		return false
	}
	fmt.Fprint(env.Stderr, question)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	return strings.EqualFold(strings.TrimSpace(answer), "yes")
}

func runUpdateStatus(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "update status", "[--config FILE | --state-dir DIR] [--json]", `
Show the last update recorded in the journal: who ran it, from and to which
version, every step with its outcome, rollback decisions and errors, and
whether an interrupted update is waiting for 'wootguard update resume'.

Example:
  wootguard update status --config /etc/wootguard/wootguard.yaml

Exit codes: 0 shown (or no update yet), 1 the journal cannot be read,
2 usage error, 4 an interrupted update must be resumed.`)
	cfgPath := fs.String("config", "", "YAML config `file` (for updates.state_dir; default $WOOTGUARD_CONFIG)")
	stateDir := fs.String("state-dir", "", "state `directory` (default updates.state_dir, else "+rollout.DefaultStateDir+")")
	jsonOut := fs.Bool("json", false, "print the records as JSON lines")
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	dir := *stateDir
	if dir == "" {
		path := *cfgPath
		if path == "" {
			path = env.Getenv("WOOTGUARD_CONFIG")
		}
		dir = rollout.DefaultStateDir
		if path != "" {
			var sd string
			if _, err := config.LoadSection(path, "updates.state_dir", &sd); err != nil {
				fmt.Fprintf(env.Stderr, "wootguard update status: %v\n", err)
				return 2
			}
			if sd != "" {
				dir = sd
			}
		}
	}
	recs, err := journal.ReadAll(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard update status: %v\n", err)
		return 1
	}
	last := journal.LastUpdate(recs)
	st, stErr := rollout.LoadState(dir)
	if len(last) == 0 {
		fmt.Fprintf(env.Stdout, "no update recorded in %s\n", dir)
		return 0
	}
	if *jsonOut {
		for _, r := range last {
			line, _ := json.Marshal(r)
			fmt.Fprintln(env.Stdout, string(line))
		}
	} else {
		first := last[0]
		fmt.Fprintf(env.Stdout, "update %s of %s to v%s, started %s by %s@%s\n", first.UpdateID, first.Target, first.To,
			first.Time.Local().Format("2006-01-02 15:04:05"), first.User, first.Host)
		for _, r := range last {
			line := r.Time.Local().Format("15:04:05") + "  " + r.Step
			switch {
			case r.Phase == journal.PhaseNote:
				line += "  " + r.Decision
			case r.Phase == journal.PhaseStart:
				line += "  started"
			default:
				line += "  " + r.Outcome
				if r.BackupID != "" {
					line += "  backup " + r.BackupID
				}
				if r.Decision != "" {
					line += "  " + r.Decision
				}
			}
			fmt.Fprintln(env.Stdout, line)
			if r.Error != "" {
				fmt.Fprintf(env.Stdout, "          error: %s\n", strings.ReplaceAll(r.Error, "\n", "\n          "))
			}
		}
	}
	if stErr != nil {
		fmt.Fprintf(env.Stderr, "wootguard update status: %v\n", stErr)
		return 1
	}
	if st.Unfinished() {
		fmt.Fprintf(env.Stderr, "update %s is unfinished (status %s at step %s): run 'wootguard update resume'\n", st.UpdateID, st.Status, st.Step)
		return exitBlocked
	}
	return 0
}
