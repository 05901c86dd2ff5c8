package gateway

import (
	"bufio"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
)

// Observer hears about every finished request: metrics, the access log,
// the dashboard's activity and alerts are observers. Observe runs on the
// request's goroutine, after the response, so it must be quick and must
// not block; it must not keep rec (records are reused).
type Observer interface {
	Observe(rec *Record)
}

// Observers calls each observer in turn.
type Observers []Observer

// Observe implements Observer.
func (os Observers) Observe(rec *Record) {
	for _, o := range os {
		o.Observe(rec)
	}
}

// Decision names, as the access log and metrics write them.
const (
	DecisionPass     = "pass"
	DecisionThrottle = "throttle"
	DecisionBlock    = "block"
	DecisionBan      = "ban"
	DecisionSafelist = "safelist"
	DecisionDryRun   = "dry-run"
	DecisionError    = "error" // the store failed: let through by the failure policy
)

// Rule names of refusals the gateway makes itself, outside the rule set.
const (
	RuleBodyLimit   = "body_limit"  // 413: a body too large for a rule that reads params
	RuleBadBody     = "bad_body"    // 400: a body that could not be read
	RuleMaintenance = "maintenance" // 503: maintenance mode
	RuleClientLimit = "limits"      // 429/503: a limit on clients, connections or buffered bodies (limits:)
	// RuleStoreUnavailable: 503 by store.on_error: deny while the store is down.
	RuleStoreUnavailable = "store_unavailable"
)

// Record is one finished request.
type Record struct {
	Start    time.Time
	Duration time.Duration
	Client   netip.Addr // resolved client; invalid when unknown
	Peer     string     // the TCP peer (RemoteAddr)
	Method   string
	URI      string // path and query as received
	Proto    string
	Host     string
	UA       string
	Referer  string
	Status   int
	Bytes    int64
	// Decision is one of the Decision* names; Rule the rule that decided
	// ("" when none), Type its type, Key its discriminator (raw: never put
	// it in a metric label).
	Decision, Rule, Type, Key string
	// Events are rule hits that did not decide: dry-run hits, tracks, bans
	// started (also those started by the upstream's answer).
	Events []rules.Event
	// Forwarded is set when the request went to Chatwoot; UpstreamStatus
	// and UpstreamDuration (to the response headers) then describe its
	// answer, and UpstreamError says it did not answer (502).
	Forwarded        bool
	UpstreamStatus   int
	UpstreamDuration time.Duration
	UpstreamError    bool
	upstreamStart    time.Time

	// Per-request state kept in the pooled record, so that the hot path
	// does not allocate it.
	info reqInfo
	req  rules.Request
	rw   recordingWriter
}

var recordPool = sync.Pool{New: func() any { return &Record{} }}

// decisionName maps the engine's verdict to the access log's word.
func decisionName(d rules.Decision) string {
	switch d.Action {
	case rules.ActionThrottle:
		return DecisionThrottle
	case rules.ActionBlock:
		if d.Type == "fail2ban" || d.Type == "allow2ban" {
			return DecisionBan
		}
		return DecisionBlock
	}
	if d.Type == "safelist" {
		return DecisionSafelist
	}
	return DecisionPass
}

// recordingWriter notes the status and size of a response. It unwraps for
// http.ResponseController, which the proxy uses to flush and to hijack
// (WebSocket).
type recordingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Flush lets the proxy stream (it also finds it through Unwrap).
func (w *recordingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack passes WebSocket upgrades through.
func (w *recordingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish fills in what is known once the response is written.
func (rec *Record) finish(w *recordingWriter, r *http.Request, now time.Time) {
	rec.Duration = now.Sub(rec.Start)
	rec.Peer, rec.Method, rec.URI, rec.Proto, rec.Host = r.RemoteAddr, r.Method, r.RequestURI, r.Proto, r.Host
	rec.UA, rec.Referer = r.UserAgent(), r.Referer()
	rec.Status, rec.Bytes = w.status, w.bytes
	if rec.Status == 0 && rec.UpstreamStatus != 0 {
		rec.Status = rec.UpstreamStatus // a WebSocket upgrade answers on the hijacked connection
	}
}

// refusedBody records and logs (sampled, like throttles) a body the
// gateway refused to buffer: 413 too large, 400 unreadable.
func (g *Gateway) refusedBody(status int, o *Options, client netip.Addr, r *http.Request, rec *Record) {
	// bufferBody has answered and logged (rate-limited); only record it.
	rec.Decision, rec.Rule = DecisionBlock, RuleBadBody
	switch status {
	case http.StatusRequestEntityTooLarge:
		rec.Rule = RuleBodyLimit
	case http.StatusTooManyRequests:
		rec.Decision, rec.Rule = DecisionThrottle, RuleClientLimit
	case http.StatusServiceUnavailable:
		rec.Rule = RuleClientLimit
	}
}
