package rollout

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wootguard/wootguard/internal/backup"
	"github.com/wootguard/wootguard/internal/journal"
	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/pgtest"
	"github.com/wootguard/wootguard/internal/probe"
	"github.com/wootguard/wootguard/internal/smoke"
)

// Versions of the stand-in Chatwoot (see testdata/fakechatwoot).
const (
	vBase          = "4.1.0" // installed before each test
	vGood          = "4.2.0" // adds a column and a table
	vBadMigration  = "4.3.0" // migration fails after creating captain_scratch
	vFailingDBInfo = "4.4.0" // /api says data_services "failing"
)

var buildDir struct {
	once sync.Once
	dir  string
	err  error
}

// cleanupDirs are removed after all tests (shared build outputs).
var cleanupDirs []string

func TestMain(m *testing.M) {
	// The end-to-end tests mostly wait on subprocesses and PostgreSQL, so
	// run more of them at once than GOMAXPROCS (2 here) unless told.
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		flag.Set("test.parallel", "8")
	}
	code := m.Run()
	for _, d := range append(cleanupDirs, buildDir.dir) {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

// fakeBins builds fakechatwoot once per version and returns the directory
// holding fakechatwoot-<version>.
func fakeBins(t *testing.T) string {
	t.Helper()
	buildDir.once.Do(func() {
		buildDir.dir, buildDir.err = os.MkdirTemp("", "wootguard-fakecw-")
		if buildDir.err != nil {
			return
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i, v := range []string{vBase, vGood, vBadMigration, vFailingDBInfo} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := exec.Command("go", "build", "-ldflags", "-X main.version="+v,
					"-o", filepath.Join(buildDir.dir, "fakechatwoot-"+v), "./testdata/fakechatwoot").CombinedOutput()
				if err != nil {
					errs[i] = fmt.Errorf("build fakechatwoot %s: %v\n%s", v, err, out)
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && buildDir.err == nil {
				buildDir.err = err
			}
		}
	})
	if buildDir.err != nil {
		t.Fatal(buildDir.err)
	}
	return buildDir.dir
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// fakeInstance is one running stand-in Chatwoot with its own database.
type fakeInstance struct {
	role string
	dir  string // holds the "current" symlink, pid file, server log
	url  string
	db   string
	env  map[string]string
	bins string
}

func newFakeInstance(t *testing.T, role string) *fakeInstance {
	t.Helper()
	pgtest.ServerURL(t) // skip (or fail under CI) before building anything
	bins := fakeBins(t)
	f := &fakeInstance{role: role, dir: t.TempDir(), db: pgtest.NewDB(t), bins: bins}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	f.url = "http://" + addr
	f.env = map[string]string{
		"FAKECW_ADDR":    addr,
		"FAKECW_DB":      f.db,
		"FAKECW_PIDFILE": filepath.Join(f.dir, "server.pid"),
		"FAKECW_LOG":     filepath.Join(f.dir, "server.log"),
	}
	if err := os.Symlink(filepath.Join(bins, "fakechatwoot-"+vBase), f.current()); err != nil {
		t.Fatal(err)
	}
	f.run(t, "migrate")
	seed(t, f.db)
	f.run(t, "start")
	t.Cleanup(func() { f.runQuiet("stop") })
	return f
}

func (f *fakeInstance) current() string { return filepath.Join(f.dir, "current") }

func (f *fakeInstance) command(mode string) *exec.Cmd {
	cmd := exec.Command(f.current(), mode)
	cmd.Env = os.Environ()
	for k, v := range f.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

func (f *fakeInstance) run(t *testing.T, mode string) {
	t.Helper()
	if out, err := f.command(mode).CombinedOutput(); err != nil {
		t.Fatalf("fakechatwoot %s (%s): %v\n%s", mode, f.role, err, out)
	}
}

func (f *fakeInstance) runQuiet(mode string) { f.command(mode).Run() }

// config is the exec target configuration an operator would write for
// this instance; deploy may be replaced (the kill test blocks in it).
func (f *fakeInstance) config(deploy *ExecCommand) *InstanceConfig {
	d := ExecCommand{Argv: []string{"ln", "-sfn", filepath.Join(f.bins, "fakechatwoot-{{version}}"), f.current()}}
	if deploy != nil {
		d = *deploy
	}
	return &InstanceConfig{
		URL:         f.url,
		DatabaseURL: f.db,
		Backup:      BackupConfig{Dir: filepath.Join(f.dir, "backups")},
		Exec: ExecConfig{
			Env:     f.env,
			Stop:    ExecCommand{Argv: []string{f.current(), "stop"}},
			Start:   ExecCommand{Argv: []string{f.current(), "start"}},
			Deploy:  d,
			Migrate: ExecCommand{Argv: []string{f.current(), "migrate"}},
		},
	}
}

func seed(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`INSERT INTO accounts (name) SELECT 'account ' || g FROM generate_series(1, 3) g`,
		`INSERT INTO conversations (account_id, body) SELECT 1 + g % 3, 'hello ' || g FROM generate_series(1, 25) g`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
}

func servingVersion(t *testing.T, url string) string {
	t.Helper()
	res, err := probe.Probe(context.Background(), url)
	if err != nil {
		return "down: " + err.Error()
	}
	return res.Version
}

func tableExists(t *testing.T, db, table string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, "public."+table).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func migrations(t *testing.T, db string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checksums(t *testing.T, db string) map[string]string {
	t.Helper()
	sums, err := backup.TableChecksums(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func sameChecksums(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// recorder is a notify.Sender that keeps what it was sent.
type recorder struct {
	mu     sync.Mutex
	events []notify.Event
}

func (r *recorder) Send(_ context.Context, e notify.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return out
}

var testSmoke = smoke.Config{Interval: 50 * time.Millisecond, Deadline: 2 * time.Second, RequestTimeout: time.Second}

// journalSteps summarises the last update's journal as "step phase outcome".
func journalSteps(t *testing.T, stateDir string) ([]journal.Record, []string) {
	t.Helper()
	recs, err := journal.ReadAll(filepath.Join(stateDir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	recs = journal.LastUpdate(recs)
	var out []string
	for _, r := range recs {
		out = append(out, strings.TrimSpace(r.Step+" "+r.Phase+" "+r.Outcome))
	}
	return recs, out
}

func hasStepPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
