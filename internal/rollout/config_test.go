package rollout

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const goodConfig = `
updates:
  chatwoot_url: http://127.0.0.1:3000   # other engineers' keys are left alone
  schedule: {window: "Tue 02:00"}
  feeds: [whatever]
  notify: {webhooks: [{url: "https://hooks.example.com/x"}]}
  state_dir: /var/lib/wootguard/updates
  min_free_disk: 5GiB
  soak: 30m
  smoke:
    interval: 5s
    deadline: 3m
    checks:
      - {name: widget, path: "/widget?website_token=abc", expect_status: 200, expect_body: chatwoot}
  targets:
    - name: main
      kind: docker-compose
      staging:
        url: http://127.0.0.1:3100
        database_url: postgres://postgres@127.0.0.1:5433/chatwoot
        backup: {dir: /var/backups/cw-staging}
        compose: {dir: /opt/chatwoot-staging, edition: ce}
      production:
        url: http://127.0.0.1:3000
        database_url: postgres://postgres@127.0.0.1:5432/chatwoot
        backup: {dir: /var/backups/cw, storage_dir: /opt/chatwoot/storage, env_file: /opt/chatwoot/.env}
        compose: {dir: /opt/chatwoot}
    - name: vm
      kind: exec
      production:
        url: http://10.0.0.5:3000
        database_url: postgres://chatwoot@10.0.0.5/chatwoot_production
        backup: {dir: /var/backups/vm}
        exec:
          stop: [ssh, vm, systemctl, stop, chatwoot.target]
          start: "ssh vm systemctl start chatwoot.target"
          deploy: [ssh, vm, deploy-chatwoot, "{{tag}}"]
          migrate: [ssh, vm, migrate-chatwoot]
`

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "wootguard.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig(writeFile(t, goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	if c.Soak != 30*time.Minute || c.MinFreeDisk != 5<<30 || c.Smoke.Deadline != 3*time.Minute || len(c.Smoke.Checks) != 1 {
		t.Errorf("decoded %+v", c)
	}
	vm, err := c.Target("vm")
	if err != nil {
		t.Fatal(err)
	}
	if vm.Staging != nil {
		t.Errorf("vm has no staging configured")
	}
	if got := vm.Production.Migrate("4.1.0")[1].String(); got != "sh -c 'ssh vm systemctl start chatwoot.target'   # operator's shell string" {
		t.Errorf("start = %s", got)
	}
	if _, err := c.Target(""); err == nil || !strings.Contains(err.Error(), "choose one with --target (main, vm)") {
		t.Errorf("Target(\"\") with two targets: %v", err)
	}
	if _, err := c.Target("nope"); err == nil || !strings.Contains(err.Error(), `no target named "nope"`) {
		t.Errorf("Target(nope): %v", err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	target := func(body string) string {
		return "updates:\n  targets:\n    - name: main\n" + body
	}
	prod := "      production:\n        url: http://127.0.0.1:3000\n        database_url: postgres://db/cw\n        backup: {dir: /b}\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key names file and line", "updates:\n  soak: 1m\n  smoke:\n    intervall: 2s\n", ":4: unknown key \"intervall\""},
		{"typo inside a target", target("      kind: exec\n      prodution: {}\n"), ":5: unknown key \"prodution\""},
		{"bad duration", "updates:\n  soak: forever\n", ":2:"},
		{"negative soak", "updates:\n  soak: -1m\n", `:2: bad duration "-1m": must not be negative`},
		{"bad size", "updates:\n  min_free_disk: lots\n", `:2: bad size "lots"`},
		{"unknown kind", target("      kind: kubernetes\n" + prod), "kind \"kubernetes\" is not one of docker-compose, linux, helm, exec"},
		{"no production", target("      kind: exec\n"), "production instance is required"},
		{"no backup dir", target("      kind: linux\n      production:\n        url: http://x\n        database_url: postgres://db/cw\n"), "backup.dir is required"},
		{"bad url", target("      kind: linux\n      production:\n        url: 127.0.0.1:3000\n        database_url: postgres://db/cw\n        backup: {dir: /b}\n"), "url must be the instance's http(s) base URL"},
		{"exec needs all commands", target("      kind: exec\n" + prod + "        exec: {stop: [x], start: [x], deploy: [x]}\n"), "exec.migrate is required"},
		{"exec command of wrong shape", target("      kind: exec\n" + prod + "        exec: {stop: {a: b}}\n"), ":9: unknown key \"a\""},
		{"compose without dir", target("      kind: docker-compose\n" + prod), "compose.dir is required"},
		{"compose bad edition", target("      kind: docker-compose\n" + prod + "        compose: {dir: /x, edition: ee}\n"), "compose.edition"},
		{"compose bad pull", target("      kind: docker-compose\n" + prod + "        compose: {dir: /x, pull: sometimes}\n"), "compose.pull must be always, if-missing or never"},
		{"compose command of wrong shape", target("      kind: docker-compose\n" + prod + "        compose: {dir: /x, command: {v: 1}}\n"), ":9: compose.command is a string"},
		{"compose command empty word", target("      kind: docker-compose\n" + prod + "        compose: {dir: /x, command: [docker, '']}\n"), "compose.command has an empty word"},
		{"helm without release", target("      kind: helm\n" + prod), "helm.release is required"},
		{"smoke check path", "updates:\n  smoke:\n    checks: [{path: widget}]\n", "path must start with /"},
		{"duplicate target", "updates:\n  targets:\n    - {name: a, kind: linux, production: {url: 'http://x', database_url: 'postgres://d/b', backup: {dir: /b}}}\n    - {name: a, kind: linux, production: {url: 'http://x', database_url: 'postgres://d/b', backup: {dir: /b}}}\n", "used twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(writeFile(t, tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		bad  bool
	}{
		{"1024", 1024, false}, {"5GiB", 5 << 30, false}, {"5G", 5e9, false}, {"500MB", 500e6, false},
		{"1.5 GiB", 3 << 29, false}, {"2ti", 2 << 40, false}, {"", 0, true}, {"-1G", 0, true}, {"5 potatoes", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseByteSize(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d, bad=%v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestNormalizeVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v4.15.1", "4.15.1"}, {"4.15.1", "4.15.1"}, {"v3.0.0-rc1", "3.0.0-rc1"}, {" v4.2.0 ", "4.2.0"},
		{"latest", ""}, {"v4.15", ""}, {"v4.15.1; rm -rf /", ""}, {"4.x.1", ""}, {"v4.1.0-", ""}, {"", ""},
	}
	for _, tc := range tests {
		got, err := NormalizeVersion(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("NormalizeVersion(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeVersion(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if compareVersions("4.10.0", "4.9.9") <= 0 || compareVersions("4.2.0", "4.2.0") != 0 || compareVersions("3.16.0", "4.0.0") >= 0 {
		t.Error("compareVersions orders numerically")
	}
}

func TestLock(t *testing.T) {
	host, _ := os.Hostname()
	deadPID := func(t *testing.T) int {
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		return cmd.Process.Pid // exited and reaped
	}
	tests := []struct {
		name      string
		content   func(t *testing.T) string // existing lock file; "" = none
		wantErr   error
		wantStale bool
	}{
		{"free", nil, nil, false},
		{"held by this live process", func(*testing.T) string { return strconv.Itoa(os.Getpid()) + " " + host }, ErrLocked, false},
		{"held by a dead process", func(t *testing.T) string { return strconv.Itoa(deadPID(t)) + " " + host }, nil, true},
		{"garbage", func(*testing.T) string { return "???" }, nil, true},
		{"held on another host", func(*testing.T) string { return "1 other-host.example" }, ErrLocked, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.content != nil {
				os.WriteFile(filepath.Join(dir, "update.lock"), []byte(tc.content(t)), 0o644)
			}
			l, stale, err := AcquireLock(dir)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if (stale != "") != tc.wantStale {
				t.Errorf("stale = %q, want stale=%v", stale, tc.wantStale)
			}
			if err != nil {
				return
			}
			// While held, a second taker is refused; after release it works.
			if _, _, err := AcquireLock(dir); !errors.Is(err, ErrLocked) {
				t.Errorf("second AcquireLock: %v, want ErrLocked", err)
			}
			l.Release()
			l2, _, err := AcquireLock(dir)
			if err != nil {
				t.Fatalf("after release: %v", err)
			}
			l2.Release()
		})
	}
}
