// Command fakechatwoot is a stand-in Chatwoot for the rollout tests. Each
// build carries one version (go build -ldflags "-X main.version=4.2.0") and
// behaves like that Chatwoot release: it serves /health, /api (its version,
// data_services from a database ping), /app/login, and its `migrate` mode
// applies that version's schema migrations, recording them in
// schema_migrations as Rails does.
//
// FAKECW_VERSION, when set, replaces the built-in version.
//
// Special versions: 4.3.0 ships a migration that fails halfway, after it
// created a table (PostgreSQL DDL outside a transaction, like Rails'
// disable_ddl_transaction!); 4.4.0 serves /api with data_services "failing".
//
// Modes (settings from the environment: FAKECW_ADDR, FAKECW_DB,
// FAKECW_PIDFILE, FAKECW_LOG):
//
//	fakechatwoot serve     run the server in the foreground
//	fakechatwoot start     start the server detached, wait until it answers
//	fakechatwoot stop      stop the server named by the pid file (if any)
//	fakechatwoot migrate   apply pending migrations
//
// Installed as /bin/bundle in a stand-in Docker image, it answers the
// commands Chatwoot's docker-compose.production.yaml runs, reading the
// database from Chatwoot's POSTGRES_* variables (see bundle.go):
//
//	bundle exec rails s -p PORT -b ADDR    serve
//	bundle exec rails db:chatwoot_prepare  migrate
//	bundle exec sidekiq …                  wait for SIGTERM (a worker)
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

var version = "0.0.0"

type migration struct {
	id    string
	since string // first version that has it
	only  string // only this version has it
	stmts []string
}

var migrations = []migration{
	{id: "20250101000000", since: "4.1.0", stmts: []string{
		`CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL)`,
		`CREATE TABLE conversations (id serial PRIMARY KEY, account_id int REFERENCES accounts, body text)`,
	}},
	{id: "20250201000000", since: "4.2.0", stmts: []string{
		`ALTER TABLE conversations ADD COLUMN status int NOT NULL DEFAULT 0`,
		`UPDATE conversations SET status = 1 WHERE id % 2 = 0`,
		`CREATE TABLE labels (id serial PRIMARY KEY, title text)`,
	}},
	{id: "20250301000000", only: "4.3.0", stmts: []string{
		`CREATE TABLE captain_scratch (id serial PRIMARY KEY, note text)`,
		`INSERT INTO captain_scratch (note) VALUES ('half done')`,
		`UPDATE conversations SET body = body || '!'`,
		`SELECT 1 / 0`, // the migration's bug
	}},
}

// cmp compares dotted numeric versions.
func cmp(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x - y
		}
	}
	return len(pa) - len(pb)
}

func main() {
	if v := os.Getenv("FAKECW_VERSION"); v != "" {
		version = v // one binary for several stand-in images
	}
	if filepath.Base(os.Args[0]) == "bundle" {
		if err := bundle(os.Args[1:]); err != nil {
			fmt.Fprintf(os.Stderr, "fakechatwoot %s: %v\n", version, err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fakechatwoot serve|start|stop|migrate|version")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve()
	case "start":
		err = start()
	case "stop":
		err = stop()
	case "migrate":
		err = migrate()
	case "version":
		fmt.Println(version)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "fakechatwoot %s: %v\n", version, err)
		os.Exit(1)
	}
}

func need(k string) string {
	v := os.Getenv(k)
	if v == "" {
		fmt.Fprintf(os.Stderr, "fakechatwoot: %s is not set\n", k)
		os.Exit(2)
	}
	return v
}

func migrate() error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, need("FAKECW_DB"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version varchar PRIMARY KEY)`); err != nil {
		return err
	}
	for _, m := range migrations {
		if m.only != "" && m.only != version || m.since != "" && cmp(m.since, version) > 0 {
			continue
		}
		var done bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.id).Scan(&done); err != nil {
			return err
		}
		if done {
			continue
		}
		fmt.Printf("== %s migrating\n", m.id)
		for _, s := range m.stmts {
			if _, err := conn.Exec(ctx, s); err != nil {
				return fmt.Errorf("migration %s: %s: %w", m.id, s, err)
			}
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.id); err != nil {
			return err
		}
	}
	return nil
}

func serve() error {
	db := need("FAKECW_DB")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"woot"}`)
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		data := "ok"
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, db); err != nil {
			data = "failing"
		} else {
			if err := conn.Ping(ctx); err != nil {
				data = "failing"
			}
			conn.Close(ctx)
		}
		if version == "4.4.0" {
			data = "failing"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"version":%q,"timestamp":%q,"queue_services":"ok","data_services":%q}`,
			version, time.Now().UTC().Format("2006-01-02 15:04:05"), data)
	})
	mux.HandleFunc("GET /app/login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><script>window.globalConfig = {"APP_VERSION":%q,"GIT_SHA":"fake"}</script></html>`, version)
	})
	srv := &http.Server{Addr: need("FAKECW_ADDR"), Handler: mux}
	ctx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stopSignals()
	go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// start runs `serve` in its own session (so it outlives the caller and its
// process group) and returns once it answers /health.
func start() error {
	addr, pidfile := need("FAKECW_ADDR"), need("FAKECW_PIDFILE")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(need("FAKECW_LOG"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(self, "serve")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := os.WriteFile(pidfile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for i := 0; i < 200; i++ {
		select {
		case err := <-exited:
			return fmt.Errorf("server exited at start: %v (see %s)", err, logf.Name())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/health"); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("server did not answer on %s", addr)
}

// stop ends the server in the pid file; no server is not an error, since
// stopping must be safe to repeat.
func stop() error {
	pidfile := need("FAKECW_PIDFILE")
	data, err := os.ReadFile(pidfile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return fmt.Errorf("bad pid file %s: %v", pidfile, err)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err == nil {
		for i := 0; i < 400 && alive(pid); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			return fmt.Errorf("server %d did not stop", pid)
		}
	}
	return os.Remove(pidfile)
}

// alive reports a running process; a zombie (exited, not yet reaped by a
// PID 1 that does not reap) counts as gone.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
