package rollout

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestComposePullPolicies checks the commands each compose.pull policy
// and compose.command produce (never: the image is checked at preflight,
// before anything changes); nothing runs.
func TestComposePullPolicies(t *testing.T) {
	v1 := "docker-compose --project-directory /opt/cw -f /opt/cw/docker-compose.yaml -f /opt/cw/docker-compose.wootguard.yaml"
	v2 := "docker compose --project-directory /opt/cw -f /opt/cw/docker-compose.yaml -f /opt/cw/docker-compose.wootguard.yaml"
	write := "write /opt/cw/docker-compose.wootguard.yaml (181 bytes, owned by wootguard)"
	tests := []struct {
		name             string
		yaml             string // the compose block
		deploy, rollback []string
		preflight        []string
	}{
		{"default: always pull, v1 as a string", `{dir: /opt/cw, command: docker-compose}`,
			[]string{write, v1 + " pull rails sidekiq", v1 + " up -d"},
			[]string{write, v1 + " up -d"}, nil},
		{"if-missing: up pulls only what is missing", `{dir: /opt/cw, command: [docker, compose], pull: if-missing}`,
			[]string{write, v2 + " up -d"},
			[]string{write, v2 + " up -d"}, nil},
		{"never: the image must be local", `{dir: /opt/cw, command: [docker, compose], pull: never}`,
			[]string{write, "docker image inspect --format '{{.Id}}' chatwoot/chatwoot:v4.18.0", v2 + " up -d"},
			[]string{write, "docker image inspect --format '{{.Id}}' chatwoot/chatwoot:v4.15.1", v2 + " up -d"},
			[]string{"docker image inspect --format '{{.Id}}' chatwoot/chatwoot:v4.18.0"}},
		{"never with v1 checks with docker", `{dir: /opt/cw, command: [/usr/bin/docker-compose], pull: never}`,
			[]string{write, "docker image inspect --format '{{.Id}}' chatwoot/chatwoot:v4.18.0", "/usr/bin/" + v1 + " up -d"},
			[]string{write, "docker image inspect --format '{{.Id}}' chatwoot/chatwoot:v4.15.1", "/usr/bin/" + v1 + " up -d"},
			[]string{"docker image inspect --format '{{.Id}}' chatwoot/chatwoot:v4.18.0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := "updates:\n  targets:\n    - name: main\n      kind: docker-compose\n      production:\n" +
				"        url: http://127.0.0.1:3000\n        database_url: postgres://db/cw\n        backup: {dir: /b}\n" +
				"        compose: " + tc.yaml + "\n"
			c, err := LoadConfig(writeFile(t, cfg))
			if err != nil {
				t.Fatal(err)
			}
			target, err := c.Target("main")
			if err != nil {
				t.Fatal(err)
			}
			for _, phase := range []struct {
				name string
				cmds []Command
				want []string
			}{
				{"preflight", target.Production.(preflighter).preflightCommands("4.18.0"), tc.preflight},
				{"deploy", target.Production.Deploy("4.18.0"), tc.deploy},
				{"rollback", target.Production.Rollback("4.15.1"), tc.rollback},
			} {
				var got []string
				for _, c := range phase.cmds {
					got = append(got, c.String())
				}
				if !slices.Equal(got, phase.want) {
					t.Errorf("%s:\n%s\nwant:\n%s", phase.name, strings.Join(got, "\n"), strings.Join(phase.want, "\n"))
				}
			}
			// The plan shows the preflight check among the preflight lines.
			plan := Plan(c, target, "4.18.0", nil)
			pre := plan[strings.Index(plan, "preflight"):strings.Index(plan, "production.backup")]
			for _, want := range tc.preflight {
				if !strings.Contains(pre, "$ "+want+"\n") {
					t.Errorf("plan's preflight lacks %q:\n%s", want, pre)
				}
			}
		})
	}
}

// TestDetectComposeCommand puts only shims on PATH: a docker with or
// without the compose plugin, with or without docker-compose.
func TestDetectComposeCommand(t *testing.T) {
	tests := []struct {
		name          string
		dockerCompose bool // `docker compose version` succeeds
		v1            bool // docker-compose is on PATH
		want          string
	}{
		{"v2 plugin", true, true, "docker compose"},
		{"only v1", false, true, "docker-compose"},
		{"neither: v2, whose error says what is missing", false, false, "docker compose"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			docker := "#!/bin/sh\n[ \"$1 $2\" = 'compose version' ] && exit 1\nexit 0\n"
			if tc.dockerCompose {
				docker = "#!/bin/sh\nexit 0\n"
			}
			os.WriteFile(filepath.Join(dir, "docker"), []byte(docker), 0o755)
			if tc.v1 {
				os.WriteFile(filepath.Join(dir, "docker-compose"), []byte("#!/bin/sh\nexit 0\n"), 0o755)
			}
			t.Setenv("PATH", dir)
			if got := strings.Join(DetectComposeCommand(), " "); got != tc.want {
				t.Errorf("detected %q, want %q", got, tc.want)
			}
			// An instance detects once and uses the result everywhere.
			target, err := NewTarget(TargetConfig{Name: "t", Kind: "docker-compose", Production: &InstanceConfig{
				URL: "http://127.0.0.1:3000", DatabaseURL: "postgres://db/cw", Backup: BackupConfig{Dir: "/b"},
				Compose: ComposeConfig{Dir: "/opt/cw"}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(target.Production.BackupOptions().ToolPrefix, " "); !strings.HasPrefix(got, tc.want+" --project-directory") {
				t.Errorf("ToolPrefix = %s", got)
			}
		})
	}
}
