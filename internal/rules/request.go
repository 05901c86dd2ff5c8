package rules

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Request is what the engine knows of an HTTP request. The gateway fills
// it; tests build it directly.
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

	params      map[string]string // lazily parsed: query over body, like Rails params
	paramsReady bool
	path        string // normalized, extension stripped
	pathReady   bool
}

// UnknownClientKey is the "ip" key part of an UnknownClient request. It is
// no address, so no IP list or safelist can contain it.
const UnknownClientKey = "unknown"

// NormalizedPath returns the path rules match on.
func (r *Request) NormalizedPath(stripExt bool) string {
	if !r.pathReady {
		r.path = NormalizePath(r.Path)
		if stripExt {
			r.path = StripExtension(r.path)
		}
		r.pathReady = true
	}
	return r.path
}

// Param returns a request parameter and whether it is present (JSON null
// is absent). Like ActionDispatch's params, the query string wins over the
// body (form, multipart or JSON); a repeated name takes its last value.
func (r *Request) Param(name string) (string, bool) {
	if !r.paramsReady {
		r.parseParams()
	}
	v, ok := r.params[name]
	return v, ok
}

func (r *Request) parseParams() {
	r.paramsReady = true
	if r.Body == nil && r.RawQuery == "" {
		return
	}
	r.params = map[string]string{}
	if len(r.Body) > 0 {
		switch ct, ps := bodyType(r.Method, r.Header.Get("Content-Type")); ct {
		case formType:
			addValues(r.params, string(r.Body))
		case jsonType:
			addJSON(r.params, r.Body)
		case multipartType:
			addMultipart(r.params, r.Body, ps["boundary"])
		}
	}
	addValues(r.params, r.RawQuery) // query last: it wins
}

const (
	formType      = "application/x-www-form-urlencoded"
	jsonType      = "application/json"
	multipartType = "multipart/form-data"
)

// bodyType says how Rails would parse a body: Rack reads a POST without a
// media type as a form, and Rails' JSON MIME type has synonyms.
func bodyType(method, contentType string) (string, map[string]string) {
	ct, ps, _ := mime.ParseMediaType(contentType)
	switch {
	case ct == "" && contentType == "" && method == "POST", ct == formType:
		return formType, nil
	case ct == jsonType || ct == "text/x-json" || ct == "application/jsonrequest" || strings.HasSuffix(ct, "+json"):
		return jsonType, nil
	case ct == multipartType && ps["boundary"] != "":
		return multipartType, ps
	}
	return "", nil
}

// BodyIsParsed reports whether a body of this type yields params.
func BodyIsParsed(method, contentType string) bool {
	ct, _ := bodyType(method, contentType)
	return ct != ""
}

// methodOverride is Rack::MethodOverride, which runs before Rack::Attack in
// a Rails app: a POST with X-HTTP-Method-Override or a form field
// _method is routed, and counted, as that method.
func (r *Request) methodOverride() string {
	if r.Method != "POST" {
		return ""
	}
	m := headerValue(r.Header, "X-Http-Method-Override")
	if m == "" && len(r.Body) > 0 {
		if ct, _ := bodyType(r.Method, r.Header.Get("Content-Type")); ct == formType {
			vals, _ := url.ParseQuery(string(r.Body))
			m = vals.Get("_method")
		}
	}
	m = strings.ToUpper(strings.TrimSpace(m))
	switch m {
	case "GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "LINK", "UNLINK":
		return m
	}
	return ""
}

// headerValue reads a header the way Puma and Rails see it: "Api-Access-Token"
// and "api_access_token" are the same HTTP_API_ACCESS_TOKEN.
func headerValue(h http.Header, canonical string) string {
	if vs, ok := headerValues(h, canonical); ok && len(vs) > 0 {
		return vs[0]
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

func addValues(dst map[string]string, q string) {
	vals, _ := url.ParseQuery(q) // keeps what parses, like Rack
	for k, vs := range vals {
		if len(vs) > 0 {
			dst[k] = vs[len(vs)-1]
		}
	}
}

// addJSON takes the top-level scalars of a JSON object. Objects and arrays
// are not keys (Chatwoot 4.18 ignores non-string emails); numbers and
// booleans become their text.
func addJSON(dst map[string]string, body []byte) {
	var obj map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if d.Decode(&obj) != nil {
		return
	}
	for k, v := range obj {
		switch x := v.(type) {
		case string:
			dst[k] = x
		case json.Number:
			dst[k] = x.String()
		case bool:
			dst[k] = strconv.FormatBool(x)
		}
	}
}

func addMultipart(dst map[string]string, body []byte, boundary string) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			return
		}
		if p.FileName() == "" && p.FormName() != "" { // fields only, not files
			v, _ := io.ReadAll(io.LimitReader(p, 64<<10))
			dst[p.FormName()] = string(v)
		}
		p.Close()
	}
}

// blank is Rails' blank? for a param: missing, empty or only white space.
func (r *Request) blank(name string) bool {
	v, ok := r.Param(name)
	return !ok || strings.TrimSpace(v) == ""
}
