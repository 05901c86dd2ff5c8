package config

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/rules"
)

// Admin is the admin listener: health, metrics, the admin API and the
// dashboard.
type Admin struct {
	// Listen is host:port, or "off". Default DefaultAdminListen.
	Listen string `yaml:"listen"`
	// Token (or the file TokenFile holds, or $WOOTGUARD_ADMIN_TOKEN) is
	// the Bearer token every endpoint but /healthz and /readyz requires.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// WatchConfig reloads the config file when it changes on disk.
	WatchConfig bool `yaml:"watch_config"`
}

// AccessLog is the optional per-request log.
type AccessLog struct {
	Path   string `yaml:"path"`
	Format string `yaml:"format"` // combined (default) | json
}

// TLS serves the gateway's listener over HTTPS.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Maintenance shapes the maintenance-mode answer.
type Maintenance struct {
	RetryAfter rules.Duration `yaml:"retry_after"`
}

// Alerts says when to tell an operator, and through which channels.
type Alerts struct {
	Notify notify.Config `yaml:"notify"`
	// Refusals: a rule refusing more than Threshold requests within Span.
	Refusals *RefusalAlert `yaml:"refusals"`
	// Bans: a ban starting (Rules empty: any ban rule).
	Bans *BanAlert `yaml:"bans"`
	// StoreFallback: the store failing and the failure policy deciding.
	StoreFallback bool `yaml:"store_fallback"`
	// Upstream: more than Threshold failed (5xx or no answer) upstream
	// responses within Span.
	Upstream *UpstreamAlert `yaml:"upstream"`
	// MinInterval is how long the same alert stays quiet after it was sent
	// (default 10m); MaxPerHour bounds all alerts together (default 20).
	MinInterval rules.Duration `yaml:"min_interval"`
	MaxPerHour  int            `yaml:"max_per_hour"`
}

// RefusalAlert fires when a rule refuses more than Threshold in Span.
type RefusalAlert struct {
	Threshold int              `yaml:"threshold"`
	Span      rules.Duration   `yaml:"span"`
	Rules     rules.StringList `yaml:"rules"`
}

// BanAlert fires when a ban starts.
type BanAlert struct {
	Rules rules.StringList `yaml:"rules"`
}

// UpstreamAlert fires on upstream failures.
type UpstreamAlert struct {
	Threshold int            `yaml:"threshold"`
	Span      rules.Duration `yaml:"span"`
}

// Operations is the checked, defaulted form of the operator sections.
type Operations struct {
	AdminListen      string // "" when off
	AdminToken       string
	AdminTokenSource string // where the token came from, for the log
	WatchConfig      bool
	AccessLogPath    string
	AccessLogFormat  string
	TLSCertFile      string
	TLSKeyFile       string
	MaintenanceRetry time.Duration
	Alerts           Alerts
	RefusalLogLimit  int
}

// DefaultAdminListen is the admin listener's address: not 9090
// (Prometheus, Cockpit) nor 9100 (node_exporter).
const DefaultAdminListen = "127.0.0.1:9797"

// AdminTokenEnv names the environment variable that holds the admin token.
const AdminTokenEnv = "WOOTGUARD_ADMIN_TOKEN"

// operations checks the admin, access_log, tls, maintenance, alerts and
// log.refusals_per_key sections.
func operations(path string, doc *yaml.Node, f *File, getenv func(string) string) (Operations, Errors) {
	var errs Errors
	at := func(key, format string, args ...any) {
		errs = append(errs, &Error{File: path, Line: lineOf(doc, key), Reason: fmt.Sprintf(format, args...)})
	}
	o := Operations{AdminListen: or(f.Admin.Listen, DefaultAdminListen), WatchConfig: f.Admin.WatchConfig,
		AccessLogPath: resolve(path, f.AccessLog.Path), AccessLogFormat: or(f.AccessLog.Format, "combined"),
		TLSCertFile: resolve(path, f.TLS.CertFile), TLSKeyFile: resolve(path, f.TLS.KeyFile),
		MaintenanceRetry: time.Duration(f.Maintenance.RetryAfter), Alerts: f.Alerts, RefusalLogLimit: f.Log.RefusalsPerKey}
	if o.AdminListen == "off" {
		o.AdminListen = ""
	} else if !validListen(o.AdminListen) {
		at("admin.listen", "bad admin listen address %q: want host:port or off", o.AdminListen)
	}
	switch {
	case getenv(AdminTokenEnv) != "":
		o.AdminToken, o.AdminTokenSource = strings.TrimSpace(getenv(AdminTokenEnv)), "$"+AdminTokenEnv
	case f.Admin.Token != "" && f.Admin.TokenFile != "":
		at("admin.token_file", "give admin.token or admin.token_file, not both")
	case f.Admin.TokenFile != "":
		data, err := os.ReadFile(resolve(path, f.Admin.TokenFile))
		if err != nil {
			at("admin.token_file", "admin.token_file: %v", err)
		}
		o.AdminToken, o.AdminTokenSource = strings.TrimSpace(string(data)), "admin.token_file"
		if err == nil && o.AdminToken == "" {
			at("admin.token_file", "%s is empty", f.Admin.TokenFile)
		}
	case f.Admin.Token != "":
		o.AdminToken, o.AdminTokenSource = f.Admin.Token, "admin.token"
	}
	if o.AdminListen != "" && o.AdminToken == "" && !loopbackListen(o.AdminListen) {
		at("admin.listen", "admin listener %s is not on loopback: set admin.token, admin.token_file or $%s (or listen on 127.0.0.1)", o.AdminListen, AdminTokenEnv)
	}
	if o.AccessLogFormat != "combined" && o.AccessLogFormat != "json" {
		at("access_log.format", "unknown access log format %q: want combined or json", o.AccessLogFormat)
	}
	if f.AccessLog.Format != "" && f.AccessLog.Path == "" {
		at("access_log.path", "access_log needs a path (the log is off without one)")
	}
	if (f.TLS.CertFile == "") != (f.TLS.KeyFile == "") {
		at("tls", "tls needs both cert_file and key_file")
	}
	for _, p := range []struct{ key, file string }{{"tls.cert_file", o.TLSCertFile}, {"tls.key_file", o.TLSKeyFile}} {
		if p.file != "" {
			if _, err := os.Stat(p.file); err != nil {
				at(p.key, "%v", err)
			}
		}
	}
	if o.MaintenanceRetry < 0 {
		at("maintenance.retry_after", "retry_after must not be negative")
	}
	if f.Log.RefusalsPerKey < -1 {
		at("log.refusals_per_key", "refusals_per_key must be -1 (every line), 0 (default %d) or more", 5)
	}
	checkAlerts(&o.Alerts, at)
	return o, errs
}

// checkAlerts checks and defaults the alerts section.
func checkAlerts(a *Alerts, at func(key, format string, args ...any)) {
	if a.MinInterval < 0 {
		at("alerts.min_interval", "min_interval must not be negative")
	}
	if a.MinInterval == 0 {
		a.MinInterval = rules.Duration(10 * time.Minute)
	}
	if a.MaxPerHour < 0 {
		at("alerts.max_per_hour", "max_per_hour must not be negative")
	}
	if a.MaxPerHour == 0 {
		a.MaxPerHour = 20
	}
	if r := a.Refusals; r != nil {
		if r.Threshold < 1 {
			at("alerts.refusals.threshold", "threshold must be at least 1")
		}
		if r.Span <= 0 {
			r.Span = rules.Duration(5 * time.Minute)
		}
	}
	if u := a.Upstream; u != nil {
		if u.Threshold < 1 {
			at("alerts.upstream.threshold", "threshold must be at least 1")
		}
		if u.Span <= 0 {
			u.Span = rules.Duration(5 * time.Minute)
		}
	}
	// The notifier's own checks, so alerts and updates.notify agree.
	for _, pr := range a.Notify.ConfigProblems() {
		at(strings.TrimSuffix("alerts.notify."+pr.Path, "."), "%s", pr.Reason)
	}
	if (a.Refusals != nil || a.Bans != nil || a.StoreFallback || a.Upstream != nil) && a.Notify.Empty() {
		at("alerts.notify", "alerts are configured but no channel: add webhooks, slack or smtp under alerts.notify")
	}
}

// loopbackListen reports whether addr listens on a loopback address only.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
