package rollout

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/backup"
)

// composeShim is a fake `docker` that logs its argv and plays `docker
// compose` against a stand-in Chatwoot: `exec -T postgres TOOL…` runs the
// local PostgreSQL tool, `up -d` starts the version the override file pins,
// `exec -T rails … db:chatwoot_prepare` migrates, `stop`/`restart` stop and start.
const composeShim = `#!/bin/sh
printf 'docker' >> "$SHIM_LOG"; for a in "$@"; do printf ' [%%s]' "$a" >> "$SHIM_LOG"; done; printf '\n' >> "$SHIM_LOG"
[ "$1" = compose ] || exit 1
shift
override=""
while [ $# -gt 0 ]; do
	case "$1" in
	--project-directory|-p) shift 2 ;;
	-f) case "$2" in *%[1]s) override="$2" ;; esac; shift 2 ;;
	*) break ;;
	esac
done
cmd="$1"; shift
case "$cmd" in
version) exit 0 ;;
exec)
	[ "$1" = -T ] && shift
	[ "$1" = -e ] && shift 2
	svc="$1"; shift
	[ "$svc" = rails ] && exec "$FAKECW_DIR/current" migrate
	exec "$@" ;;
pull) exit 0 ;;
up)
	v=$(sed -n 's/.*image: chatwoot\/chatwoot:v\([0-9.]*\).*/\1/p' "$override" | head -1)
	[ -n "$v" ] || { echo "no pinned image in $override" >&2; exit 1; }
	"$FAKECW_DIR/current" stop && ln -sfn "$FAKECW_BINS/fakechatwoot-$v" "$FAKECW_DIR/current" && exec "$FAKECW_DIR/current" start ;;
restart) "$FAKECW_DIR/current" stop && exec "$FAKECW_DIR/current" start ;;
stop) exec "$FAKECW_DIR/current" stop ;;
esac
echo "fake docker: unexpected compose command $cmd" >&2
exit 1
`

// TestComposeTargetEndToEnd runs a whole failing update through the
// docker-compose target, with the fake docker first on PATH: backup through
// `docker compose exec -T postgres`, pinned image, migration failure,
// rollback to the old pinned image with the database restored.
func TestComposeTargetEndToEnd(t *testing.T) {
	prod := newFakeInstance(t, Production)
	shimDir := t.TempDir()
	log := filepath.Join(shimDir, "argv.log")
	if err := os.WriteFile(filepath.Join(shimDir, "docker"), []byte(fmt.Sprintf(composeShim, ComposeOverrideName)), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", shimDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("SHIM_LOG", log)
	t.Setenv("FAKECW_DIR", prod.dir)
	t.Setenv("FAKECW_BINS", prod.bins)
	for k, v := range prod.env {
		t.Setenv(k, v)
	}
	composeDir := t.TempDir()
	operatorFile := "services:\n  rails:\n    image: chatwoot/chatwoot:latest\n"
	os.WriteFile(filepath.Join(composeDir, "docker-compose.yaml"), []byte(operatorFile), 0o644)
	tc := TargetConfig{Name: "main", Kind: "docker-compose", Production: &InstanceConfig{
		URL: prod.url, DatabaseURL: prod.db, Backup: BackupConfig{Dir: filepath.Join(prod.dir, "backups")},
		Compose: ComposeConfig{Dir: composeDir},
	}}
	target, err := NewTarget(tc)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Config: Config{StateDir: t.TempDir(), Smoke: testSmoke}, Target: target}
	st, err := r.Apply(context.Background(), "v"+vBadMigration)
	if err == nil || st.Status != StatusRolledBack {
		t.Fatalf("status %s, err %v; want rolled_back", st.Status, err)
	}
	if got := servingVersion(t, prod.url); got != vBase {
		t.Errorf("serves %q after rollback, want %q", got, vBase)
	}
	m, err := backup.Load(filepath.Join(prod.dir, "backups"), st.Backups[Production])
	if err != nil {
		t.Fatal(err)
	}
	if !sameChecksums(checksums(t, prod.db), m.TableChecksums) || tableExists(t, prod.db, "captain_scratch") {
		t.Errorf("database after rollback differs from the backup")
	}
	override, _ := os.ReadFile(filepath.Join(composeDir, ComposeOverrideName))
	if !strings.Contains(string(override), "image: chatwoot/chatwoot:v"+vBase+"\n") {
		t.Errorf("override after rollback:\n%s", override)
	}
	if data, _ := os.ReadFile(filepath.Join(composeDir, "docker-compose.yaml")); string(data) != operatorFile {
		t.Errorf("the operator's compose file was changed")
	}

	// The compose commands, in order; the backup's own pg_dump/pg_restore
	// calls (backup package's business) must go through exec -T postgres.
	data, _ := os.ReadFile(log)
	base := "docker [compose] [--project-directory] [" + composeDir + "] [-f] [" + composeDir + "/docker-compose.yaml]"
	withOverride := base + " [-f] [" + composeDir + "/" + ComposeOverrideName + "]"
	var got []string
	var viaExec int
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l == "docker [compose] [version]" { // detection
			continue
		}
		if strings.HasPrefix(l, base+" [exec] [-T] [postgres] [pg_") {
			viaExec++
			continue
		}
		got = append(got, l)
	}
	want := []string{
		withOverride + " [pull] [rails] [sidekiq]",
		withOverride + " [up] [-d]",
		withOverride + " [exec] [-T] [-e] [POSTGRES_STATEMENT_TIMEOUT=600s] [rails] [bundle] [exec] [rails] [db:chatwoot_prepare]",
		base + " [stop] [rails] [sidekiq]",
		withOverride + " [up] [-d]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("docker commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if viaExec == 0 {
		t.Errorf("the backup did not run pg_dump through docker compose exec -T postgres:\n%s", data)
	}
}
