package rules

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/wootguard/wootguard/internal/railsreq"
)

// Request is what the engine knows of an HTTP request. The gateway fills
// it; tests build it directly. How Rails reads it (override, params) is
// internal/railsreq's job.
type Request struct {
	Method string
	// Path is the request path as received (escaped); the engine
	// normalizes it (see NormalizePath, StripExtension).
	Path     string
	RawQuery string
	// IP is the client address; the zero Addr means "unknown", and then no
	// IP rule matches and no "ip" key exists.
	IP     netip.Addr
	Header http.Header
	// Body is the buffered request body when a rule needs its params
	// (nil otherwise); ContentType comes from the header.
	Body []byte
	// UnknownClient marks a request whose IP is unknown although it came
	// through a trusted proxy (junk or no forwarding entry): IP rules
	// still never match it, but an "ip" key part reads UnknownClientKey,
	// so every such request shares one bucket instead of skipping the rule.
	UnknownClient bool

	rails      railsreq.Request
	railsReady bool
	want       []string // the engine's param names (railsreq.Request.Want)
	full       string   // decoded and normalized
	fullReady  bool
	bare       string // and without extensions
	bareReady  bool
	journey    string // normalized, not decoded
	journeyOK  bool
	// paramMemo holds what the rules read of the engine's params (see
	// parammemo.go); 0 is not read yet.
	paramMemo [maxParamMemo]uint8
	memoOf    *Engine // whose params paramMemo's slots are (decide resets it for another)
	// ipKey[:ipKeyLen] is appendIP(IP, ipKeyBits) (appendClientIP).
	ipKey     [64]byte
	ipKeyLen  int
	ipKeyBits int

	// BodyUnread says the request has a body the gateway did not read
	// (no rule needed it). A form POST then keeps POST: its _method
	// would decide before X-HTTP-Method-Override, so the header alone
	// must not move it out of the POST rules.
	BodyUnread bool
}

// UnknownClientKey is the "ip" key part of an UnknownClient request. It is
// no address, so no IP list or safelist can contain it.
const UnknownClientKey = "unknown"

func (r *Request) journeyPath() string {
	if !r.journeyOK {
		r.journey = railsreq.JourneyPath(r.Path)
		r.journeyOK = true
	}
	return r.journey
}

// view is the request as Rails reads it.
func (r *Request) view() *railsreq.Request {
	if !r.railsReady {
		// r.rails is still the zero Request (only here is it set): fill
		// in the fields instead of writing the whole struct again.
		rr := &r.rails
		rr.Method, rr.RawQuery, rr.Header, rr.Body, rr.Want = r.Method, r.RawQuery, r.Header, r.Body, r.want
		r.railsReady = true
	}
	return &r.rails
}

// NormalizedPath returns the path rules match on: decoded and
// normalized, and with stripExt also without extensions (Chatwoot's
// path_without_extensions).
func (r *Request) NormalizedPath(stripExt bool) string {
	if !r.fullReady {
		r.full = NormalizePath(r.Path)
		r.fullReady = true
	}
	if !stripExt {
		return r.full
	}
	if !r.bareReady {
		r.bare = StripExtension(r.full)
		r.bareReady = true
	}
	return r.bare
}

// Param returns a request parameter as Ruby's to_s of ActionDispatch's
// params[name] and whether it is there (nil is absent); ok is false too
// when the params are unreadable.
func (r *Request) Param(name string) (string, bool) {
	v, err := r.view().Param(name)
	if err != nil || v.Kind == railsreq.Missing || v.Kind == railsreq.Nil {
		return "", false
	}
	return v.ToS(), true
}

// BodyIsParsed reports whether a body of this type yields params.
func BodyIsParsed(method, contentType string) bool {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return railsreq.BodyParsed(method, h)
}

// methodOverride is Rack::MethodOverride (see railsreq), "" when the
// method stays.
func (r *Request) methodOverride() string {
	if r.Method != "POST" {
		return ""
	}
	if r.BodyUnread && r.Body == nil && railsreq.RackReadsForm(r.Method, r.Header.Get("Content-Type")) {
		return ""
	}
	if m := r.view().MethodOverride(); m != r.Method {
		return m
	}
	return ""
}

// headerValue reads a header the way Puma and Rails see it: "Api-Access-Token"
// and "api_access_token" are the same HTTP_API_ACCESS_TOKEN, and a
// repeated header is one value joined with ", ".
func headerValue(h http.Header, canonical string) string {
	if vs, ok := headerValues(h, canonical); ok && len(vs) > 0 {
		if len(vs) == 1 {
			return vs[0]
		}
		return strings.Join(vs, ", ")
	}
	return ""
}

func headerValues(h http.Header, canonical string) ([]string, bool) {
	if vs, ok := h[canonical]; ok {
		return vs, true
	}
	alt := strings.ReplaceAll(canonical, "_", "-")
	if alt == canonical {
		alt = strings.ReplaceAll(canonical, "-", "_")
	}
	vs, ok := h[http.CanonicalHeaderKey(alt)]
	if !ok {
		vs, ok = h[alt]
	}
	return vs, ok
}
