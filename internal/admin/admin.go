// Package admin is the admin listener: health probes, /metrics, the JSON
// admin API (bans, unban, top, reset, explain, rules, reload, maintenance)
// and the embedded dashboard. Every endpoint but /healthz, /readyz and the
// dashboard's static files (which hold no data) needs the Bearer token;
// every change made through it is logged with what, which key and from
// which address.
package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store"
)

// Options wires the admin listener to the running gateway.
type Options struct {
	// Token is the Bearer token; empty means no authentication (allowed
	// only on loopback, which the config enforces).
	Token    string
	Gateway  *gateway.Gateway
	Activity *Activity
	// Metrics serves /metrics (nil: 404).
	Metrics http.Handler
	// Reload re-reads the config file; an error means the running rules
	// were kept.
	Reload func() error
	// Rules describes the effective rule table.
	Rules func() []rules.Row
	// ConfigFile names the running config, for the health detail.
	ConfigFile string
	Logger     *slog.Logger
	Now        func() time.Time
}

// Server is the admin HTTP handler.
type Server struct {
	o       Options
	token   [32]byte
	mux     *http.ServeMux
	started time.Time
}

// New builds the admin handler.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Activity == nil {
		o.Activity = NewActivity(o.Now)
	}
	s := &Server{o: o, token: sha256.Sum256([]byte(o.Token)), mux: http.NewServeMux(), started: o.Now()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /{$}", dashboard())
	s.mux.Handle("GET /static/", dashboard())
	s.mux.Handle("GET /metrics", s.auth(s.metrics))
	s.mux.Handle("GET /api/health", s.auth(s.health))
	s.mux.Handle("GET /api/bans", s.auth(s.listBans))
	s.mux.Handle("DELETE /api/bans", s.auth(s.unban))
	s.mux.Handle("GET /api/top", s.auth(s.top))
	s.mux.Handle("POST /api/reset", s.auth(s.reset))
	s.mux.Handle("POST /api/explain", s.auth(s.explain))
	s.mux.Handle("GET /api/rules", s.auth(s.rules))
	s.mux.Handle("POST /api/reload", s.auth(s.reload))
	s.mux.Handle("GET /api/activity", s.auth(s.activity))
	s.mux.Handle("GET /api/maintenance", s.auth(s.getMaintenance))
	s.mux.Handle("POST /api/maintenance", s.auth(s.setMaintenance))
	s.mux.Handle("/api/", s.auth(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	}))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

// auth requires "Authorization: Bearer TOKEN", compared in constant time
// (both sides hashed first, so even the length does not leak).
func (s *Server) auth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.o.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
			if !ok || subtle.ConstantTimeCompare(sum[:], s.token[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="wootguard admin"`)
				writeError(w, http.StatusUnauthorized, "missing or wrong admin token (Authorization: Bearer TOKEN)")
				return
			}
		}
		h(w, r)
	})
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.o.Metrics == nil {
		writeError(w, http.StatusNotFound, "metrics are off")
		return
	}
	s.o.Metrics.ServeHTTP(w, r)
}

// changed logs a change made through the admin API.
func (s *Server) changed(r *http.Request, what string, attrs ...any) {
	s.o.Logger.Warn("admin: "+what, append(attrs, "from", r.RemoteAddr)...)
}

func (s *Server) engine() *rules.Engine { return s.o.Gateway.Options().Engine }

func (s *Server) inspector() (store.Inspector, bool) {
	in, ok := s.engine().Store().(store.Inspector)
	return in, ok
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
