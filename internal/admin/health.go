package admin

import (
	"net/http"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// Health is the detail /readyz and /api/health report. Store and upstream
// trouble appear here but never fail the probe: a store outage handled by
// the failure policy must not mark every gateway unready and take
// Chatwoot offline with it.
type Health struct {
	Status      string        `json:"status"` // ok | ready
	Started     time.Time     `json:"started"`
	Config      string        `json:"config,omitempty"`
	Maintenance bool          `json:"maintenance"`
	Store       *StoreHealth  `json:"store,omitempty"`
	Upstream    UpstreamState `json:"upstream"`
}

// StoreHealth is the store's own account of itself.
type StoreHealth struct {
	Kind      string `json:"kind"`
	Healthy   bool   `json:"healthy"`
	Keys      int64  `json:"keys"`
	Errors    int64  `json:"errors"`
	Fallbacks int64  `json:"fallbacks"`
	Detail    string `json:"detail,omitempty"`
}

// HealthDetail gathers the health detail.
func (s *Server) HealthDetail() Health {
	h := Health{Status: "ready", Started: s.started.UTC(), Config: s.o.ConfigFile, Maintenance: s.o.Gateway.Maintenance(),
		Upstream: s.o.Activity.Upstream()}
	if sr, ok := s.engine().Store().(store.StatsReporter); ok {
		st := sr.Stats()
		h.Store = &StoreHealth{Kind: st.Kind, Healthy: st.Healthy, Keys: st.Keys, Errors: st.Errors, Fallbacks: st.Fallbacks, Detail: st.Detail}
	}
	return h
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 once the gateway listens with a loaded config —
// which is true whenever this listener runs.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.HealthDetail())
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.HealthDetail())
}
