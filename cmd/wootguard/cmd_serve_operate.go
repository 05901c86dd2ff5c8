package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wootguard/wootguard/internal/accesslog"
	"github.com/wootguard/wootguard/internal/admin"
	"github.com/wootguard/wootguard/internal/alerts"
	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/telemetry"
)

// operations is everything that watches and steers the gateway: metrics,
// the dashboard's activity, the access log, alerts, the admin listener,
// TLS certificates and the config file watch.
type operations struct {
	log      *slog.Logger
	st       store.Store
	metrics  *telemetry.Metrics
	activity *admin.Activity
	access   *accesslog.Log
	cert     atomic.Pointer[tls.Certificate]
	observer gateway.Observer
	adminSrv *admin.Server
	running  atomic.Pointer[config.Gateway]
	gw       atomic.Pointer[gateway.Gateway] // set once serve has built it; read at scrape time
	conns    atomic.Pointer[gateway.ConnLimitListener]
	wg       sync.WaitGroup
}

func startOperations(ctx context.Context, cfg *config.Gateway, st store.Store, log *slog.Logger) (*operations, error) {
	op := &operations{log: log, st: st, activity: admin.NewActivity(time.Now)}
	op.running.Store(cfg)
	gw := &op.gw
	op.metrics = telemetry.New(telemetry.Sources{
		Stats: func() (store.Stats, bool) {
			if sr, ok := st.(store.StatsReporter); ok {
				return sr.Stats(), true
			}
			return store.Stats{}, false
		},
		Bans: func() map[string]int {
			if op.adminSrv == nil {
				return nil
			}
			return op.adminSrv.BansByRule()
		},
		Maintenance: func() bool { g := gw.Load(); return g != nil && g.Maintenance() },
		Hardening: func() (map[string]uint64, uint64) {
			g := gw.Load()
			if g == nil {
				return nil, 0
			}
			r := g.Refused()
			m := map[string]uint64{"requests_per_client": r.RequestsPerClient, "buffered_bodies": r.BufferedBodies,
				"buffered_bodies_per_client": r.BufferedBodiesPerClient, "body_memory": r.BodyMemory,
				"small_body_timeout": r.SlowBodies, "upgrades": r.Upgrades}
			if l := op.conns.Load(); l != nil {
				m["connections"] = l.Refused() // limits.connections and a direct client's connections_per_client
			}
			return m, g.UnknownClients()
		},
	})
	obs := gateway.Observers{op.metrics, op.activity}
	if o := cfg.Operations; o.AccessLogPath != "" {
		l, err := accesslog.Open(o.AccessLogPath, o.AccessLogFormat)
		if err != nil {
			return nil, err
		}
		op.access = l
		obs = append(obs, l)
		op.wg.Add(1)
		go func() { defer op.wg.Done(); l.Run(ctx, time.Second) }()
		usr1 := make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		go func() {
			defer signal.Stop(usr1)
			for {
				select {
				case <-ctx.Done():
					return
				case <-usr1:
					if err := l.Reopen(); err != nil {
						log.Error("access log reopen failed", "err", err)
					} else {
						log.Info("access log reopened", "path", o.AccessLogPath)
					}
				}
			}
		}()
	}
	if a := cfg.Operations.Alerts; !a.Notify.Empty() {
		sender, err := notify.FromConfigEnv(a.Notify, os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("alerts: %v", err)
		}
		channels, ok := sender.(notify.Multi)
		if !ok {
			channels = notify.Multi{sender}
		}
		al := alerts.New(alerts.Options{Config: a, Channels: channels, Logger: log, Stats: func() (store.Stats, bool) {
			sr, ok := st.(store.StatsReporter)
			if !ok {
				return store.Stats{}, false
			}
			return sr.Stats(), true
		}})
		obs = append(obs, al)
		op.wg.Add(1)
		go func() { defer op.wg.Done(); al.Run(ctx) }()
		log.Info("alerts on", "channels", len(channels))
	}
	op.observer = obs
	if err := op.loadCert(cfg); err != nil {
		return nil, err
	}
	return op, nil
}

// loadCert (re)reads the TLS key pair; on reload a bad pair keeps the old.
func (op *operations) loadCert(cfg *config.Gateway) error {
	o := cfg.Operations
	if o.TLSCertFile == "" {
		return nil
	}
	c, err := tls.LoadX509KeyPair(o.TLSCertFile, o.TLSKeyFile)
	if err != nil {
		return fmt.Errorf("tls: %v", err)
	}
	op.cert.Store(&c)
	return nil
}

// listener wraps ln in TLS when the config has a certificate. The
// certificate is read per handshake from the latest reload.
func (op *operations) listener(ln net.Listener) net.Listener {
	if op.cert.Load() == nil {
		return ln
	}
	return tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return op.cert.Load(), nil }})
}

// reloaded records a reload's outcome (metrics, TLS certificate).
func (op *operations) reloaded(cfg *config.Gateway, err error) {
	op.metrics.Reloaded(err == nil)
	if err != nil {
		return
	}
	op.running.Store(cfg)
	if op.cert.Load() != nil {
		if cerr := op.loadCert(cfg); cerr != nil {
			op.log.Error("reload: TLS certificate not reloaded; the old one stays", "err", cerr)
		} else {
			op.log.Info("reload: TLS certificate reloaded")
		}
	}
}

// serveAdmin starts the admin listener (unless admin.listen is off) and
// the optional config file watch.
func (op *operations) serveAdmin(ctx context.Context, cfg *config.Gateway, gw *gateway.Gateway, reload func() error) error {
	op.gw.Store(gw)
	o := cfg.Operations
	op.adminSrv = admin.New(admin.Options{Token: o.AdminToken, Gateway: gw, Activity: op.activity, Metrics: op.metrics.Handler(),
		Reload: reload, ConfigFile: cfg.File, Logger: op.log,
		Rules: func() []rules.Row { return rules.Describe(op.running.Load().Spec) }})
	op.wg.Add(1)
	go func() { defer op.wg.Done(); <-ctx.Done(); gw.FlushRefusalLog() }()
	if o.WatchConfig && cfg.File != "" {
		go watchFile(ctx, cfg.File, 2*time.Second, func() {
			op.log.Info("config file changed; reloading", "file", cfg.File)
			reload()
		})
	}
	if o.AdminListen == "" {
		op.log.Info("admin listener off (admin.listen: off)")
		return nil
	}
	ln, err := net.Listen("tcp", o.AdminListen)
	if err != nil && cfg.Raw.Admin.Listen == "" {
		// The default port is taken (a second gateway on this host): the
		// gateway itself matters more than its admin listener.
		op.log.Error("admin listener not started: set admin.listen to a free address", "listen", o.AdminListen, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("admin listener: %v", err)
	}
	if o.AdminToken == "" {
		op.log.Warn("admin listener has no token: anyone on this host can use the admin API; set admin.token_file or $" + config.AdminTokenEnv)
	}
	op.log.Info("admin listener", "listen", ln.Addr().String(), "token", o.AdminTokenSource != "", "dashboard", "http://"+ln.Addr().String()+"/")
	op.wg.Add(1)
	go func() {
		defer op.wg.Done()
		err := gateway.Serve(ctx, ln, op.adminSrv, gateway.ServerOptions{ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout: time.Minute, ShutdownTimeout: 5 * time.Second, Logger: op.log})
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			op.log.Error("admin listener stopped", "err", err)
		}
	}()
	return nil
}

// wait lets the admin listener and the access log finish after ctx ends.
func (op *operations) wait() { op.wg.Wait() }

// watchFile calls changed when path's size or modification time changes.
func watchFile(ctx context.Context, path string, every time.Duration, changed func()) {
	stamp := func() string {
		fi, err := os.Stat(path)
		if err != nil {
			return ""
		}
		return fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
	}
	last := stamp()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if s := stamp(); s != last && s != "" {
				last = s
				changed()
			}
		}
	}
}
