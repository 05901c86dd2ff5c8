package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store"
)

func init() {
	register(&command{Name: "serve", Summary: "run the rate-limiting gateway in front of Chatwoot", Run: runServe})
}

func runServe(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "serve", "[--config wootguard.yaml] [--listen ADDR] [--upstream URL]", `
Run the gateway: a reverse proxy that applies Chatwoot's own Rack::Attack
rules (the "chatwoot" preset, tuned by the same environment variables as
Chatwoot's .env) plus your own rules from the config file, then forwards
what passes to Chatwoot with one clean X-Forwarded-For.

Point your TLS terminator or load balancer at --listen, and put its
address in client_ip.trusted_proxies so wootguard sees real clients.
Send SIGHUP to reload the config file; a bad file is refused and the
running rules are kept. SIGTERM/SIGINT shut down gracefully.

Example:
  wootguard serve --upstream http://127.0.0.1:3000 --listen 0.0.0.0:8080`)
	cfgPath := fs.String("config", "", "config file (YAML); without it, defaults and the chatwoot preset")
	listen := fs.String("listen", "", "address to listen on (default from config, else "+config.DefaultListen+")")
	upstream := fs.String("upstream", "", "Chatwoot's URL (default from config, else "+config.DefaultUpstream+")")
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	if *upstream != "" { // a bad flag value is a usage error, named as the flag
		if _, err := config.ParseUpstream(*upstream); err != nil {
			fmt.Fprintf(env.Stderr, "wootguard serve: --upstream: %v\n", err)
			return 2
		}
	}
	cfg, err := loadGatewayConfig(env, *cfgPath, *listen, *upstream)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return 1
	}
	log := newLogger(env, cfg)
	gc := tuneGC(env.Getenv, cfg.MaxKeys, log)
	for _, w := range cfg.Warnings {
		logConfigWarning(log, w)
	}
	st, err := gateway.OpenStore(cfg, log)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return 1
	}
	defer st.Close()
	opts, err := gateway.FromConfig(cfg, st, log)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return 1
	}
	ctx, stopOps := context.WithCancel(ctx)
	ops, err := startOperations(ctx, cfg, st, log)
	if err != nil {
		stopOps()
		fmt.Fprintf(env.Stderr, "wootguard serve: %v\n", err)
		return 1
	}
	defer func() { stopOps(); ops.wait() }()
	opts.Observer = ops.observer
	gw := gateway.New(opts)
	defer gw.Close() // after Serve: in-flight requests have finished
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard serve: %v\n", err)
		return 1
	}
	conns := gateway.LimitConns(ln, gateway.ConnLimits{Max: cfg.Limits.Connections, PerClient: cfg.Limits.ConnectionsPerClient,
		Trusted: gw.TrustedPeer, Logger: log})
	ops.conns.Store(conns)
	go gc.followConnections(ctx, conns.Open)
	ln = conns
	ln = ops.listener(ln)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log.Info("wootguard gateway listening", "listen", ln.Addr().String(), "upstream", cfg.Upstream.String(),
		"preset", cfg.PresetName, "throttles", len(cfg.Spec.Throttles), "trusted_proxies", len(cfg.TrustedProxies))
	if len(cfg.TrustedProxies) == 0 {
		log.Warn("client_ip.trusted_proxies is empty: the TCP peer is the client; behind a proxy (nginx, a load balancer), list it there, or every request looks like the proxy")
	}
	startNotices(cfg, log)

	var reloadMu sync.Mutex
	running := cfg
	reload := func() error {
		reloadMu.Lock()
		defer reloadMu.Unlock()
		next, err := reloadGateway(env, gw, st, running, *cfgPath, *listen, *upstream, log)
		ops.reloaded(next, err)
		running = next
		return err
	}
	go func() {
		for range hup {
			reload()
		}
	}()
	if err := ops.serveAdmin(ctx, cfg, gw, reload); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard serve: %v\n", err)
		return 1
	}
	go warnOnEvictions(ctx, st, log)
	err = gateway.Serve(ctx, ln, gw, gateway.ServerOptions{
		ReadHeaderTimeout: time.Duration(cfg.Server.ReadHeaderTimeout),
		IdleTimeout:       time.Duration(cfg.Server.IdleTimeout),
		ShutdownTimeout:   time.Duration(cfg.Server.ShutdownTimeout),
		Logger:            log,
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "wootguard serve: %v\n", err)
		return 1
	}
	return 0
}

// reloadGateway swaps in the rules of a re-read config file, or keeps the
// running ones when the file is bad.
// reloadGateway swaps in the rules of a re-read config file, or keeps the
// running ones when the file is bad. It returns the config now running.
func reloadGateway(env *cliEnv, gw *gateway.Gateway, st store.Store, running *config.Gateway, path, listen, upstream string, log *slog.Logger) (*config.Gateway, error) {
	cfg, err := loadGatewayConfig(env, path, listen, upstream)
	if err == nil {
		var opts gateway.Options
		if opts, err = gateway.FromConfig(cfg, st, log); err == nil {
			for _, w := range cfg.Warnings {
				logConfigWarning(log, w)
			}
			if cfg.Listen != running.Listen || cfg.Upstream.String() != running.Upstream.String() ||
				cfg.Server != running.Server || cfg.MaxKeys != running.MaxKeys || !reflect.DeepEqual(cfg.StoreConfig, running.StoreConfig) || cfg.LogFormat != running.LogFormat || cfg.LogLevel != running.LogLevel ||
				cfg.Limits.Connections != running.Limits.Connections || cfg.Limits.ConnectionsPerClient != running.Limits.ConnectionsPerClient {
				log.Warn("reload: listen, upstream, server timeouts, the listener's limits.connections*, store and log settings take effect on restart; rules, responses and request limits were reloaded")
			}
			gw.Swap(opts)
			log.Info("reloaded config", "file", path, "throttles", len(cfg.Spec.Throttles))
			return cfg, nil
		}
	}
	log.Error("reload refused; running rules kept", "err", err.Error())
	return running, err
}

func loadGatewayConfig(env *cliEnv, path, listen, upstream string) (*config.Gateway, error) {
	cfg, err := config.LoadLookup(path, env.lookup())
	if err != nil {
		return nil, err
	}
	if listen != "" {
		cfg.Listen = listen
	}
	if upstream != "" {
		u, err := config.ParseUpstream(upstream)
		if err != nil {
			return nil, err
		}
		cfg.Upstream = u
	}
	return cfg, nil
}

func newLogger(env *cliEnv, cfg *config.Gateway) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	ho := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(env.Stderr, ho))
	}
	return slog.New(slog.NewTextHandler(env.Stderr, ho))
}

// warnOnEvictions tells the operator once a minute when the memory store
// had to drop live counters to stay within store.max_keys (a key spray).
func warnOnEvictions(ctx context.Context, st store.Store, log *slog.Logger) {
	sr, ok := st.(store.StatsReporter)
	if !ok {
		return
	}
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			stats := sr.Stats()
			if n := stats.Evictions; n > last {
				log.Warn("memory store full: live counters evicted (observing rules first, then throttles, login counters and bans last; the rule with most keys, least recently used first); raise store.max_keys if this is not an attack",
					"evicted", n-last, "evicted_total", n, "keys", stats.Keys)
				last = n
			}
		}
	}
}
