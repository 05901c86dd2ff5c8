package gateway

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// DefaultMaintenanceRetryAfter is the Retry-After of a maintenance 503.
const DefaultMaintenanceRetryAfter = 120 * time.Second

// SetMaintenance turns maintenance mode on or off: while it is on, every
// request gets a short 503 page with Retry-After instead of reaching
// Chatwoot (which is being updated and would answer 502s).
func (g *Gateway) SetMaintenance(on bool) { g.maintenance.Store(on) }

// Maintenance reports whether maintenance mode is on.
func (g *Gateway) Maintenance() bool { return g.maintenance.Load() }

const maintenancePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Down for maintenance</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:15vh auto;padding:0 1rem;color:#222}</style></head>
<body><h1>Down for maintenance</h1><p>This service is being updated and will be back in a few minutes.</p></body></html>
`

func writeMaintenance(w http.ResponseWriter, r *http.Request, retryAfter time.Duration) {
	if retryAfter <= 0 {
		retryAfter = DefaultMaintenanceRetryAfter
	}
	h := w.Header()
	h.Set("Retry-After", strconv.FormatInt(int64(retryAfter/time.Second), 10))
	h.Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":"maintenance","message":"Down for maintenance"}`+"\n")
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, maintenancePage)
}
