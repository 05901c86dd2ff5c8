package rollout

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// installShims puts fake docker/helm/kubectl/sudo/systemctl first on PATH.
// Each logs its name and arguments (one [bracketed] word per argument) to
// the returned log file and succeeds: Docker, Kubernetes and a Chatwoot VM
// cannot run here, so these targets are tested by the exact commands they
// would run.
func installShims(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "argv.log")
	script := "#!/bin/sh\n{ printf '%s' \"$(basename \"$0\")\"; for a in \"$@\"; do printf ' [%s]' \"$a\"; done; printf '\\n'; } >> " + log + "\n"
	for _, name := range []string{"docker", "helm", "kubectl", "sudo", "systemctl"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

func TestTargetCommandsThroughShims(t *testing.T) {
	composeDir := t.TempDir()
	operatorCompose := "services:\n  rails:\n    image: chatwoot/chatwoot:latest\n"
	os.WriteFile(filepath.Join(composeDir, "docker-compose.yaml"), []byte(operatorCompose), 0o644)
	base := InstanceConfig{URL: "http://127.0.0.1:3000", DatabaseURL: "postgres://postgres:secret@127.0.0.1:5432/chatwoot", Backup: BackupConfig{Dir: "/var/backups/cw"}}
	compose := base
	compose.Compose = ComposeConfig{Dir: composeDir, Project: "cw", Edition: "ce"}
	helm := base
	helm.Helm = HelmConfig{Release: "chatwoot", Namespace: "chat", Values: []string{"/etc/cw/values.yaml"}, Timeout: 10 * time.Minute}
	linux := base

	c := func(dir string, s string) string { return strings.ReplaceAll(s, "DIR", dir) }
	dc := "docker [compose] [--project-directory] [DIR] [-f] [DIR/docker-compose.yaml]"
	dco := dc + " [-f] [DIR/docker-compose.wootguard.yaml] [-p] [cw]"
	asCW := "sudo [-u] [chatwoot] [-i] [--] [env] [-C] [/home/chatwoot/chatwoot] [RAILS_ENV=production]"
	tests := []struct {
		kind string
		cfg  InstanceConfig
		want []string // Deploy(4.18.0), Migrate(4.18.0), Stop(), Rollback(4.15.1)
	}{
		{"docker-compose", compose, []string{
			"docker [compose] [version]", // detection: the shim answers, so v2
			c(composeDir, dco+" [pull] [rails] [sidekiq]"),
			c(composeDir, dco+" [up] [-d]"),
			c(composeDir, dco+" [exec] [-T] [-e] [POSTGRES_STATEMENT_TIMEOUT=600s] [rails] [bundle] [exec] [rails] [db:chatwoot_prepare]"),
			c(composeDir, dco+" [restart] [rails] [sidekiq]"),
			c(composeDir, dc+" [-p] [cw] [stop] [rails] [sidekiq]"),
			c(composeDir, dco+" [up] [-d]"),
		}},
		{"helm", helm, []string{
			"helm [upgrade] [chatwoot] [chatwoot/chatwoot] [-f] [/etc/cw/values.yaml] [--reuse-values] [--set] [image.tag=v4.18.0] [--wait] [--timeout] [10m0s] [--namespace] [chat]",
			"kubectl [scale] [deployment] [--selector] [app.kubernetes.io/instance=chatwoot] [--replicas=0] [--namespace] [chat]",
			"helm [rollback] [chatwoot] [--wait] [--timeout] [10m0s] [--namespace] [chat]",
		}},
		{"linux", linux, []string{
			asCW + " [git] [fetch] [--tags] [origin]",
			asCW + " [git] [checkout] [v4.18.0]",
			asCW + " [bundle] [install]",
			asCW + " [pnpm] [install]",
			asCW + " [bundle] [exec] [rake] [assets:precompile]",
			asCW + " [env] [POSTGRES_STATEMENT_TIMEOUT=600s] [bundle] [exec] [rake] [db:migrate]",
			"systemctl [restart] [chatwoot.target]",
			"systemctl [stop] [chatwoot.target]",
			asCW + " [git] [fetch] [--tags] [origin]",
			asCW + " [git] [checkout] [v4.15.1]",
			asCW + " [bundle] [install]",
			asCW + " [pnpm] [install]",
			asCW + " [bundle] [exec] [rake] [assets:precompile]",
			"systemctl [restart] [chatwoot.target]",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			log := installShims(t)
			target, err := NewTarget(TargetConfig{Name: "t", Kind: tc.kind, Production: &tc.cfg})
			if err != nil {
				t.Fatal(err)
			}
			inst := target.Production
			r := &Runner{log: io.Discard, Now: time.Now}
			override := filepath.Join(composeDir, ComposeOverrideName)
			for _, phase := range []struct {
				name string
				cmds []Command
				pin  string // image the override must pin afterwards (compose)
			}{
				{"deploy", inst.Deploy("4.18.0"), "chatwoot/chatwoot:v4.18.0-ce"},
				{"migrate", inst.Migrate("4.18.0"), "chatwoot/chatwoot:v4.18.0-ce"},
				{"stop", inst.Stop(), "chatwoot/chatwoot:v4.18.0-ce"},
				{"rollback", inst.Rollback("4.15.1"), "chatwoot/chatwoot:v4.15.1-ce"},
			} {
				if err := r.runCommands(context.Background(), phase.cmds); err != nil {
					t.Fatalf("%s: %v", phase.name, err)
				}
				if tc.kind == "docker-compose" {
					data, err := os.ReadFile(override)
					if err != nil {
						t.Fatal(err)
					}
					if strings.Count(string(data), "image: "+phase.pin+"\n") != 2 {
						t.Errorf("after %s the override pins:\n%s\nwant %s for rails and sidekiq", phase.name, data, phase.pin)
					}
				}
			}
			data, _ := os.ReadFile(log)
			got := strings.Split(strings.TrimSpace(string(data)), "\n")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("commands run:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if tc.kind == "docker-compose" {
				if data, _ := os.ReadFile(filepath.Join(composeDir, "docker-compose.yaml")); string(data) != operatorCompose {
					t.Errorf("the operator's compose file was changed:\n%s", data)
				}
				if got := strings.Join(inst.BackupOptions().ToolPrefix, " "); got != c(composeDir, "docker compose --project-directory DIR -f DIR/docker-compose.yaml -p cw exec -T postgres") {
					t.Errorf("backup ToolPrefix = %s", got)
				}
			}
		})
	}
}

func TestExecCommandExpansionAndShell(t *testing.T) {
	target, err := NewTarget(TargetConfig{Name: "t", Kind: "exec", Production: &InstanceConfig{
		URL: "http://127.0.0.1:3000", DatabaseURL: "postgres://u:pw@db/cw", Backup: BackupConfig{Dir: "/b"},
		Exec: ExecConfig{
			Dir:     "/srv/cw",
			Env:     map[string]string{"DATABASE_URL": "postgres://u:pw@db/cw", "API_TOKEN": "abc", "MODE": "prod"},
			Stop:    ExecCommand{Argv: []string{"systemctl", "stop", "cw"}},
			Start:   ExecCommand{Argv: []string{"systemctl", "start", "cw"}},
			Deploy:  ExecCommand{Shell: "git checkout {{tag}} && make VERSION={{version}}"},
			Migrate: ExecCommand{Argv: []string{"./migrate", "--to", "{{version}}"}},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	deploy := target.Production.Deploy("4.18.0")
	want := []string{
		"(in /srv/cw) API_TOKEN=REDACTED DATABASE_URL=postgres://u:xxxxx@db/cw MODE=prod systemctl stop cw",
		"(in /srv/cw) API_TOKEN=REDACTED DATABASE_URL=postgres://u:xxxxx@db/cw MODE=prod sh -c 'git checkout v4.18.0 && make VERSION=4.18.0'   # operator's shell string",
	}
	for i := range want {
		if got := deploy[i].String(); got != want[i] {
			t.Errorf("deploy[%d] = %s\nwant        %s", i, got, want[i])
		}
	}
	if got := target.Production.Migrate("4.18.0")[0].Argv; strings.Join(got, " ") != "./migrate --to 4.18.0" {
		t.Errorf("migrate argv = %q", got)
	}
	if deploy[1].Env["DATABASE_URL"] != "postgres://u:pw@db/cw" {
		t.Errorf("the real environment must keep the secret; only the display hides it")
	}
}

// NewTarget refuses what check-config refuses: one list of checks serves
// both, so a file that passes check-config does not fail at update time.
func TestNewTargetRefusesWhatCheckConfigRefuses(t *testing.T) {
	ok := InstanceConfig{URL: "http://127.0.0.1:3000", DatabaseURL: "postgres://db/cw", Backup: BackupConfig{Dir: "/b"}}
	for _, c := range []struct {
		name string
		edit func(*InstanceConfig)
		want string
	}{
		{"url without a host", func(c *InstanceConfig) { c.URL = "http://" }, "url must be the instance's http(s) base URL"},
		{"url without a scheme", func(c *InstanceConfig) { c.URL = "127.0.0.1:3000" }, "url must be the instance's http(s) base URL"},
		{"mysql database", func(c *InstanceConfig) { c.DatabaseURL = "mysql://x" }, `database_url must be a postgres:// URL (got "mysql://x")`},
		{"no backup dir", func(c *InstanceConfig) { c.Backup.Dir = "" }, "backup.dir is required"},
	} {
		inst := ok
		c.edit(&inst)
		_, err := NewTarget(TargetConfig{Name: "main", Kind: "linux", Production: &inst})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: NewTarget error %v, want %q", c.name, err, c.want)
		}
		ps := Targets{{Name: "main", Kind: "linux", Production: &inst}}.ConfigProblems()
		if len(ps) != 1 || !strings.Contains(fmt.Sprint(ps[0]), c.want) {
			t.Errorf("%s: check-config problems %v, want one with %q", c.name, ps, c.want)
		}
	}
}

// A compose target whose compose file is missing stops at preflight,
// before the backup: neither the deploy nor a rollback could run.
func TestComposePreflightNeedsTheComposeFile(t *testing.T) {
	dir := t.TempDir()
	for name, file := range map[string]string{"missing": "docker-compose.yaml", "a directory": "sub"} {
		t.Run(name, func(t *testing.T) {
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			tc := TargetConfig{Name: "main", Kind: "docker-compose", Production: &InstanceConfig{
				URL: "http://127.0.0.1:1", DatabaseURL: "postgres://127.0.0.1:1/cw", Backup: BackupConfig{Dir: filepath.Join(dir, "backups")},
				Compose: ComposeConfig{Dir: dir, File: file, Command: ComposeCommand{"false"}},
			}}
			target, err := NewTarget(tc)
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(dir, file)
			if plan := Plan(Config{}, target, "4.18.0", nil); !strings.Contains(plan, "compose file "+want+" exists") {
				t.Errorf("plan does not list the compose file check:\n%s", plan)
			}
			stateDir := t.TempDir()
			r := &Runner{Config: Config{StateDir: stateDir, Smoke: testSmoke}, Target: target}
			st, err := r.Apply(context.Background(), vGood)
			if err == nil || !strings.Contains(err.Error(), "production cannot be deployed: compose file "+want) {
				t.Fatalf("err = %v, want the missing compose file named", err)
			}
			if st.Status != StatusFailed || len(st.Backups) != 0 || st.Touched[Production] {
				t.Errorf("state after refused preflight = %+v", st)
			}
			if _, lines := journalSteps(t, stateDir); hasStepPrefix(lines, "production.") {
				t.Errorf("steps ran after a failed preflight: %v", lines)
			}
		})
	}
}
