// Package replay runs recorded traffic (access logs) through the real rule
// engine, with the log's own timestamps as the clock, and reports what a
// configuration would have done: per rule, who would have been refused,
// when, and how often (wootguard replay), and which limits the traffic
// suggests (wootguard tune).
//
// Readers understand nginx's combined format (with $request_time or
// $http_x_forwarded_for appended), wootguard's own access log (combined
// and json) and JSON lines with configurable field names, plain or
// gzipped. A reader goroutine parses while the caller's goroutine decides,
// so a replay uses both cores of a small machine.
package replay

import (
	"net/netip"
	"time"
)

// Record is one request as a log line tells it.
type Record struct {
	File string
	Line int64
	Time time.Time
	// Client is the client as the logging proxy resolved it (wootguard's
	// own logs); when valid it is used as it is. Otherwise the client is
	// resolved from Peer and XFF with the config's client_ip rules.
	Client netip.Addr
	Peer   netip.Addr
	XFF    string // the X-Forwarded-For header as received, when logged
	HasXFF bool
	Method string
	// Path is the request path as received (escaped), Query the raw query.
	Path, Query string
	Status      int
	UserAgent   string
	Referer     string
	HasUA       bool // the log has a User-Agent field
	HasReferer  bool
	// Decision and Rule are what wootguard logged for the request
	// ("" when the log is not wootguard's).
	Decision, Rule string
	// UnknownClient: wootguard logged the client as "unknown" (it could
	// not resolve one) and counted it in the one shared unknown bucket.
	UnknownClient bool
}

// forwarded reports whether the logged request reached the upstream, so
// that its status is the upstream's answer.
func (r *Record) forwarded() bool {
	switch r.Decision {
	case "throttle", "block", "ban", "error":
		return false
	}
	return true
}
