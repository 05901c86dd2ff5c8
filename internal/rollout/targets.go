package rollout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wootguard/wootguard/internal/backup"
	"github.com/wootguard/wootguard/internal/config"
)

// Roles of the two instances of a target, in update order.
const (
	Staging    = "staging"
	Production = "production"
)

// Instance is one running Chatwoot that can be updated. Every method
// returns commands as data; nothing runs until the Runner runs them.
// Versions are bare ("4.15.1"); targets add the "v" where a tag needs it.
type Instance interface {
	Role() string
	URL() string
	DatabaseURL() string
	BackupOptions() backup.Options
	// Deploy puts version in place and running (before migrations).
	Deploy(version string) []Command
	// Migrate runs the database migrations of version, then whatever
	// restart makes the app see the migrated schema.
	Migrate(version string) []Command
	// Stop stops everything that writes to the database (web and workers),
	// so the database can be dropped and restored.
	Stop() []Command
	// Rollback brings the previous version back up on a restored database
	// (no migrations: the restored database already has the old schema).
	Rollback(previous string) []Command
}

// preflighter is an Instance with commands that check, at preflight
// (nothing changed yet), that the deploy of a version can work.
type preflighter interface {
	preflightCommands(version string) []Command
}

// preflightChecker is an Instance with checks that need no command (a
// file that must exist); like preflightCommands they run at preflight,
// before the backup, and the plan lists them.
type preflightChecker interface {
	preflightChecks() []staticCheck
}

// staticCheck is one such check: What for the plan, Run at preflight.
type staticCheck struct {
	What string
	Run  func() error
}

// Target is one installation: a production instance and, normally, a
// staging instance that is updated and tested first.
type Target struct {
	Name       string
	Kind       string
	Staging    Instance // nil when no staging is configured
	Production Instance
}

// Instances lists the instances in update order.
func (t *Target) Instances() []Instance {
	if t.Staging == nil {
		return []Instance{t.Production}
	}
	return []Instance{t.Staging, t.Production}
}

// Instance returns the instance with role.
func (t *Target) Instance(role string) Instance {
	if role == Staging {
		return t.Staging
	}
	return t.Production
}

// Kinds of target.
var kinds = []string{"docker-compose", "linux", "helm", "exec"}

// NewTarget builds a target from its configuration and checks it.
func NewTarget(c TargetConfig) (*Target, error) {
	t := &Target{Name: c.Name, Kind: c.Kind}
	if c.Production == nil {
		return nil, fmt.Errorf("target %q: production instance is required", c.Name)
	}
	for _, pair := range []struct {
		role string
		cfg  *InstanceConfig
		dst  *Instance
	}{{Staging, c.Staging, &t.Staging}, {Production, c.Production, &t.Production}} {
		if pair.cfg == nil {
			continue
		}
		inst, err := newInstance(c.Kind, pair.role, *pair.cfg)
		if err != nil {
			return nil, fmt.Errorf("target %q %s: %w", c.Name, pair.role, err)
		}
		*pair.dst = inst
	}
	return t, nil
}

// instanceProblem is a value of an instance that no kind can use, with
// the key it sits at.
type instanceProblem struct{ key, reason string }

// commonProblems lists what every kind needs of an instance: newInstance
// refuses the first, check-config reports each at its own key.
func commonProblems(c InstanceConfig) []instanceProblem {
	var ps []instanceProblem
	if _, err := config.ParseUpstream(c.URL); err != nil {
		ps = append(ps, instanceProblem{"url", fmt.Sprintf("url must be the instance's http(s) base URL (got %q)", c.URL)})
	}
	if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		ps = append(ps, instanceProblem{"database_url", fmt.Sprintf("database_url must be a postgres:// URL (got %q)", redactURL(c.DatabaseURL))})
	}
	if c.Backup.Dir == "" {
		ps = append(ps, instanceProblem{"backup", "backup.dir is required: every update starts with a verified backup"})
	}
	return ps
}

func newInstance(kind, role string, c InstanceConfig) (Instance, error) {
	if ps := commonProblems(c); len(ps) > 0 {
		return nil, errors.New(ps[0].reason)
	}
	base := baseInstance{role: role, cfg: c}
	switch kind {
	case "docker-compose":
		return newCompose(base)
	case "linux":
		return newLinux(base), nil
	case "helm":
		return newHelm(base)
	case "exec":
		return newExec(base)
	}
	return nil, fmt.Errorf("kind %q is not one of %s", kind, strings.Join(kinds, ", "))
}

type baseInstance struct {
	role string
	cfg  InstanceConfig
}

func (b baseInstance) Role() string        { return b.role }
func (b baseInstance) URL() string         { return b.cfg.URL }
func (b baseInstance) DatabaseURL() string { return b.cfg.DatabaseURL }
func (b baseInstance) BackupOptions() backup.Options {
	return backup.Options{
		DatabaseURL: b.cfg.DatabaseURL,
		Dir:         b.cfg.Backup.Dir,
		StorageDir:  b.cfg.Backup.StorageDir,
		EnvFile:     b.cfg.Backup.EnvFile,
	}
}

// --- docker compose -----------------------------------------------------------

type composeInstance struct {
	baseInstance
	c ComposeConfig

	detect  sync.Once // compose.command unset: detected on first use
	command []string
}

// ComposeOverrideName is the override file wootguard owns in the compose
// directory; the operator's own compose file is never edited.
const ComposeOverrideName = "docker-compose.wootguard.yaml"

// Image pull policies of a compose target (compose.pull).
const (
	PullAlways    = "always"     // pull the pinned image before every deploy (default)
	PullIfMissing = "if-missing" // use a local image; pull only when it is not there
	PullNever     = "never"      // never contact a registry: the image must be loaded already
)

func newCompose(b baseInstance) (Instance, error) {
	c := b.cfg.Compose
	if c.Dir == "" {
		return nil, fmt.Errorf("compose.dir is required")
	}
	if c.File == "" {
		c.File = "docker-compose.yaml"
	}
	if c.RailsService == "" {
		c.RailsService = "rails"
	}
	if c.SidekiqService == "" {
		c.SidekiqService = "sidekiq"
	}
	if c.PostgresService == "" {
		c.PostgresService = "postgres"
	}
	if c.Image == "" {
		c.Image = "chatwoot/chatwoot"
	}
	if c.Edition != "" && c.Edition != "ce" {
		return nil, fmt.Errorf("compose.edition must be empty or \"ce\" (got %q)", c.Edition)
	}
	switch c.Pull {
	case "":
		c.Pull = PullAlways
	case PullAlways, PullIfMissing, PullNever:
	default:
		return nil, fmt.Errorf("compose.pull must be %s, %s or %s (got %q)", PullAlways, PullIfMissing, PullNever, c.Pull)
	}
	if slices.Contains(c.Command, "") {
		return nil, fmt.Errorf("compose.command has an empty word (got %q)", []string(c.Command))
	}
	ci := &composeInstance{baseInstance: b, c: c}
	if len(c.Command) > 0 {
		ci.detect.Do(func() { ci.command = slices.Clone(c.Command) })
	}
	return ci, nil
}

// Compose commands: v2 is the Docker CLI plugin, v1 the Python program
// (Debian 12 ships docker-compose 1.29).
var (
	composeV2 = []string{"docker", "compose"}
	composeV1 = []string{"docker-compose"}
)

// DetectComposeCommand returns `docker compose` when the Docker CLI has
// the compose v2 plugin, else `docker-compose` when that program is on
// PATH, else `docker compose` (whose failure then names what is missing).
func DetectComposeCommand() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if exec.CommandContext(ctx, composeV2[0], composeV2[1], "version").Run() == nil {
		return slices.Clone(composeV2)
	}
	if _, err := exec.LookPath(composeV1[0]); err == nil {
		return slices.Clone(composeV1)
	}
	return slices.Clone(composeV2)
}

// composeCommand is compose.command, or the detected one.
func (ci *composeInstance) composeCommand() []string {
	ci.detect.Do(func() { ci.command = DetectComposeCommand() })
	return ci.command
}

// compose builds a docker compose command with absolute paths (backup runs
// it from anywhere). Only commands that start containers need the override;
// stop and exec work before wootguard ever wrote it. v1 and v2 accept the
// same flags and subcommands for everything used here.
func (ci *composeInstance) compose(withOverride bool, args ...string) Command {
	argv := append(slices.Clone(ci.composeCommand()), "--project-directory", ci.c.Dir, "-f", filepath.Join(ci.c.Dir, ci.c.File))
	if withOverride {
		argv = append(argv, "-f", filepath.Join(ci.c.Dir, ComposeOverrideName))
	}
	if ci.c.Project != "" {
		argv = append(argv, "-p", ci.c.Project)
	}
	return Command{Argv: append(argv, args...)}
}

func (ci *composeInstance) image(version string) string {
	tag := "v" + version
	if ci.c.Edition == "ce" {
		tag += "-ce"
	}
	return ci.c.Image + ":" + tag
}

func (ci *composeInstance) override(version string) Command {
	img := ci.image(version)
	return Command{
		WriteFile: filepath.Join(ci.c.Dir, ComposeOverrideName),
		Content: "# Written by wootguard to pin the Chatwoot image; rewritten on every update.\n" +
			"services:\n" +
			"  " + ci.c.RailsService + ":\n    image: " + img + "\n" +
			"  " + ci.c.SidekiqService + ":\n    image: " + img + "\n",
	}
}

// imagePresent fails, without contacting a registry, when the image is
// not in the local Docker engine (compose.pull: never). It uses the
// Docker CLI that runs compose v2, else `docker`.
func (ci *composeInstance) imagePresent(version string) Command {
	docker := "docker"
	if cmd := ci.composeCommand(); len(cmd) > 1 && filepath.Base(cmd[0]) == "docker" {
		docker = cmd[0]
	}
	return Command{Argv: []string{docker, "image", "inspect", "--format", "{{.Id}}", ci.image(version)}}
}

// preflightCommands checks, before anything changes, what the deploy of
// version needs: with compose.pull never, that the image is loaded.
func (ci *composeInstance) preflightCommands(version string) []Command {
	if ci.c.Pull != PullNever {
		return nil
	}
	return []Command{ci.imagePresent(version)}
}

// preflightChecks checks that the compose file exists: without it the
// deploy (and the rollback) could not run, so the update must stop before
// the backup, not after.
func (ci *composeInstance) preflightChecks() []staticCheck {
	file := filepath.Join(ci.c.Dir, ci.c.File)
	return []staticCheck{{What: "compose file " + file + " exists", Run: func() error {
		st, err := os.Stat(file)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("compose file %s does not exist (compose.dir %q, compose.file %q)", file, ci.c.Dir, ci.c.File)
		case err != nil:
			return fmt.Errorf("compose file: %w", err)
		case st.IsDir():
			return fmt.Errorf("compose file %s is a directory (compose.file names the file inside compose.dir)", file)
		}
		return nil
	}}}
}

func (ci *composeInstance) BackupOptions() backup.Options {
	o := ci.baseInstance.BackupOptions()
	// pg_dump must not be older than the server: use the container's own.
	o.ToolPrefix = ci.compose(false, "exec", "-T", ci.c.PostgresService).Argv
	return o
}

// bringUp pins version and starts it. With if-missing there is no pull
// command: `up -d` itself pulls only images that are not present.
func (ci *composeInstance) bringUp(v string, pull bool) []Command {
	cmds := []Command{ci.override(v)}
	switch {
	case ci.c.Pull == PullNever:
		cmds = append(cmds, ci.imagePresent(v))
	case ci.c.Pull == PullAlways && pull:
		cmds = append(cmds, ci.compose(true, "pull", ci.c.RailsService, ci.c.SidekiqService))
	}
	return append(cmds, ci.compose(true, "up", "-d"))
}

func (ci *composeInstance) Deploy(v string) []Command { return ci.bringUp(v, true) }

// Migrate runs the migration inside the running rails container, as
// Chatwoot's upgrade guide does (`exec`, not `run --rm`: compose v1 links a
// one-off container to the service's running ones, which host networking
// refuses).
func (ci *composeInstance) Migrate(v string) []Command {
	return []Command{
		ci.compose(true, "exec", "-T", "-e", "POSTGRES_STATEMENT_TIMEOUT=600s", ci.c.RailsService, "bundle", "exec", "rails", "db:chatwoot_prepare"),
		// Rails and Sidekiq booted before the migration; restart them so
		// they load the new schema.
		ci.compose(true, "restart", ci.c.RailsService, ci.c.SidekiqService),
	}
}

func (ci *composeInstance) Stop() []Command {
	return []Command{ci.compose(false, "stop", ci.c.RailsService, ci.c.SidekiqService)}
}

// Rollback pins the previous image again; it ran before the update, so it
// is normally still local and is not pulled.
func (ci *composeInstance) Rollback(prev string) []Command { return ci.bringUp(prev, false) }

// --- Linux VM (cwctl layout) --------------------------------------------------

type linuxInstance struct {
	baseInstance
	c LinuxConfig
}

func newLinux(b baseInstance) Instance {
	c := b.cfg.Linux
	if c.User == "" {
		c.User = "chatwoot"
	}
	if c.AppDir == "" {
		c.AppDir = "/home/" + c.User + "/chatwoot"
	}
	if c.SystemdTarget == "" {
		c.SystemdTarget = "chatwoot.target"
	}
	return &linuxInstance{baseInstance: b, c: c}
}

// asApp runs argv as the Chatwoot user in a login environment (sudo -i),
// which is what loads rvm's Ruby, inside the app directory (env -C).
func (li *linuxInstance) asApp(argv ...string) Command {
	return Command{Argv: append([]string{"sudo", "-u", li.c.User, "-i", "--", "env", "-C", li.c.AppDir, "RAILS_ENV=production"}, argv...)}
}

// checkout is what `cwctl -U vX.Y.Z` does minus its interactive pgvector
// prompt and its self-update.
func (li *linuxInstance) checkout(v string) []Command {
	return []Command{
		li.asApp("git", "fetch", "--tags", "origin"),
		li.asApp("git", "checkout", "v"+v),
		li.asApp("bundle", "install"),
		li.asApp("pnpm", "install"),
		li.asApp("bundle", "exec", "rake", "assets:precompile"),
	}
}

func (li *linuxInstance) Deploy(v string) []Command { return li.checkout(v) }

func (li *linuxInstance) Migrate(v string) []Command {
	return []Command{
		li.asApp("env", "POSTGRES_STATEMENT_TIMEOUT=600s", "bundle", "exec", "rake", "db:migrate"),
		{Argv: []string{"systemctl", "restart", li.c.SystemdTarget}},
	}
}

func (li *linuxInstance) Stop() []Command {
	return []Command{{Argv: []string{"systemctl", "stop", li.c.SystemdTarget}}}
}

func (li *linuxInstance) Rollback(prev string) []Command {
	return append(li.checkout(prev), Command{Argv: []string{"systemctl", "restart", li.c.SystemdTarget}})
}

// --- Helm ------------------------------------------------------------------------

type helmInstance struct {
	baseInstance
	c HelmConfig
}

func newHelm(b baseInstance) (Instance, error) {
	c := b.cfg.Helm
	if c.Release == "" {
		return nil, fmt.Errorf("helm.release is required")
	}
	if c.Chart == "" {
		c.Chart = "chatwoot/chatwoot"
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Minute
	}
	return &helmInstance{baseInstance: b, c: c}, nil
}

func (hi *helmInstance) scope() []string {
	var a []string
	if hi.c.Namespace != "" {
		a = append(a, "--namespace", hi.c.Namespace)
	}
	if hi.c.KubeContext != "" {
		a = append(a, "--kube-context", hi.c.KubeContext)
	}
	return a
}

func (hi *helmInstance) Deploy(v string) []Command {
	argv := []string{"helm", "upgrade", hi.c.Release, hi.c.Chart}
	for _, f := range hi.c.Values {
		argv = append(argv, "-f", f)
	}
	argv = append(argv, "--reuse-values", "--set", "image.tag=v"+v, "--wait", "--timeout", hi.c.Timeout.String())
	return []Command{{Argv: append(argv, hi.scope()...)}}
}

// Migrate is empty: the chart's post-upgrade hook Job runs
// db:chatwoot_prepare, and `helm upgrade --wait` waits for it.
func (hi *helmInstance) Migrate(string) []Command { return nil }

func (hi *helmInstance) Stop() []Command {
	argv := []string{"kubectl", "scale", "deployment", "--selector", "app.kubernetes.io/instance=" + hi.c.Release, "--replicas=0"}
	if hi.c.Namespace != "" {
		argv = append(argv, "--namespace", hi.c.Namespace)
	}
	if hi.c.KubeContext != "" {
		argv = append(argv, "--context", hi.c.KubeContext)
	}
	return []Command{{Argv: argv}}
}

// Rollback uses helm's own history (previous revision), which also brings
// the replica counts back after Stop scaled them to zero.
func (hi *helmInstance) Rollback(string) []Command {
	argv := []string{"helm", "rollback", hi.c.Release, "--wait", "--timeout", hi.c.Timeout.String()}
	return []Command{{Argv: append(argv, hi.scope()...)}}
}

// --- exec: the operator's own commands -------------------------------------------

type execInstance struct {
	baseInstance
	c ExecConfig
}

func newExec(b baseInstance) (Instance, error) {
	c := b.cfg.Exec
	for name, cmd := range map[string]ExecCommand{"stop": c.Stop, "start": c.Start, "deploy": c.Deploy, "migrate": c.Migrate} {
		if cmd.IsZero() {
			return nil, fmt.Errorf("exec.%s is required", name)
		}
	}
	return &execInstance{baseInstance: b, c: c}, nil
}

// expand fills {{version}} ("4.15.1") and {{tag}} ("v4.15.1").
func (ei *execInstance) expand(c ExecCommand, v string) Command {
	r := strings.NewReplacer("{{version}}", v, "{{tag}}", "v"+v)
	out := Command{Dir: ei.c.Dir, Env: ei.c.Env}
	if c.Shell != "" {
		out.Argv = []string{"sh", "-c", r.Replace(c.Shell)}
		out.Shell = true
		return out
	}
	for _, a := range c.Argv {
		out.Argv = append(out.Argv, r.Replace(a))
	}
	return out
}

func (ei *execInstance) Deploy(v string) []Command {
	return []Command{ei.expand(ei.c.Stop, v), ei.expand(ei.c.Deploy, v)}
}

func (ei *execInstance) Migrate(v string) []Command {
	return []Command{ei.expand(ei.c.Migrate, v), ei.expand(ei.c.Start, v)}
}

func (ei *execInstance) Stop() []Command { return []Command{ei.expand(ei.c.Stop, "")} }

func (ei *execInstance) Rollback(prev string) []Command {
	return []Command{ei.expand(ei.c.Deploy, prev), ei.expand(ei.c.Start, prev)}
}
