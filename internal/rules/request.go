package rules

import (
	"bytes"
	"encoding/json"
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

	params      map[string]string // lazily parsed: query over body, like Rails params
	paramsReady bool
	path        string // normalized, extension stripped
	pathReady   bool
}

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
		ct, ps, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case ct == "application/x-www-form-urlencoded":
			addValues(r.params, string(r.Body))
		case ct == "application/json" || strings.HasSuffix(ct, "+json"):
			addJSON(r.params, r.Body)
		case ct == "multipart/form-data" && ps["boundary"] != "":
			addMultipart(r.params, r.Body, ps["boundary"])
		}
	}
	addValues(r.params, r.RawQuery) // query last: it wins
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
		if p.FileName() == "" && p.FormName() != "" {
			var b strings.Builder
			buf := make([]byte, 4096)
			for b.Len() < 64<<10 {
				n, err := p.Read(buf)
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
			dst[p.FormName()] = b.String()
		}
		p.Close()
	}
}

// blank is Rails' blank? for a param: missing, empty or only white space.
func (r *Request) blank(name string) bool {
	v, ok := r.Param(name)
	return !ok || strings.TrimSpace(v) == ""
}
