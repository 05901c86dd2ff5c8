// Package railsreq reads a request exactly as Chatwoot's Rails will: the
// path as Journey normalizes it (and the decoded view wootguard matches
// on), the method after Rack::MethodOverride, and params from the query
// string and a form, multipart or JSON body with Rack 3.2, ActionDispatch
// 7.2 and json-gem rules — or the explicit answer that it cannot be sure
// (Unreadable), so that a rule reading a param fails closed.
//
// It knows nothing of rules; internal/rules asks it for what a rule
// needs, lazily: a request whose rules read no param is never parsed.
package railsreq

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Request is one request as Rails will see it. Set the exported fields;
// everything else is computed on first use. Not safe for concurrent use.
type Request struct {
	Method   string // as received, before any override
	RawQuery string
	Header   http.Header
	// Body is the buffered body, nil when it was not read (the caller
	// reads it whenever BodyParsed says Rails would parse it).
	Body []byte
	// Want, when set, lists the top-level param names (see ParamTop) the
	// caller will read. A JSON body is then validated in one pass that
	// records only where these values are, and a value is read only when
	// asked for, instead of building the whole tree (see jsonscan.go).
	// Other names still work: they build the tree. Unused with more than
	// MaxWant names.
	Want []string

	queryDone bool
	query     *node
	queryErr  error

	bodyDone bool
	body     *node
	rackForm bool  // Rack parses the body as form or multipart
	rackErr  error // Rack's parser failed (MethodOverride falls back to the header)
	bodyErr  error // ActionDispatch would refuse the body's params

	// A valid JSON body read lazily: the tree is not built (body is nil
	// until tree() builds it); spans[i] locates Want[i], strs caches a
	// String value read from there.
	jsonLazy bool
	spans    [MaxWant]jsonSpan
	strs     [MaxWant]string
	strDone  [MaxWant]bool
}

// ErrUnreadable wraps every reason why the params Rails sees are not
// known for sure.
var ErrUnreadable = errors.New("params unreadable")

type unreadable struct{ err error }

func (u unreadable) Error() string { return "params unreadable: " + u.err.Error() }
func (u unreadable) Unwrap() error { return ErrUnreadable }

// BodyParsed reports whether Rails derives params from a body with this
// method and Content-Type: the JSON types (ActionDispatch), urlencoded and
// multipart forms, multipart/related and /mixed, and a POST without a
// media type (Rack). Other bodies never become params.
func BodyParsed(method string, header http.Header) bool {
	vs, has := header["Content-Type"]
	ct := ""
	if has && len(vs) > 0 {
		ct = vs[0]
		// A type Mime::Type rejects makes the params unreadable, which the
		// body (Rails ignores an empty one) decides.
		if kind, err := railsContentType(ct); err != nil || kind == "json" {
			return true
		}
	}
	return rackParsesForm(method, RackMediaType(ct))
}

func rackParsesForm(method, mediaType string) bool {
	switch mediaType {
	case "":
		return method == "POST"
	case "application/x-www-form-urlencoded", "multipart/form-data", "multipart/related", "multipart/mixed":
		return true
	}
	return false
}

func (r *Request) parseQuery() {
	if r.queryDone {
		return
	}
	r.queryDone = true
	if r.RawQuery == "" {
		return
	}
	r.query = newHash()
	if err := parseQuery(r.RawQuery, r.query); err != nil {
		r.queryErr = err
		return
	}
	r.queryErr = checkEncoding(r.query)
}

func (r *Request) parseBody() {
	if r.bodyDone {
		return
	}
	r.bodyDone = true
	vs, hasCT := r.Header["Content-Type"]
	ct := ""
	if hasCT && len(vs) > 0 {
		ct = vs[0]
	}
	mediaType := RackMediaType(ct)
	r.rackForm = rackParsesForm(r.Method, mediaType)
	if len(r.Body) == 0 {
		return // Content-Length 0: neither Rack nor ActionDispatch parses
	}
	if hasCT {
		kind, err := railsMediaKind(mediaType)
		if err != nil {
			r.bodyErr = err
			// Rack still reads the form for MethodOverride.
		} else if kind == "json" {
			// Valid UTF-8 gives strings that are valid UTF-8 (every escape
			// decodes to whole characters), so checkEncoding cannot fail
			// and the scan alone decides. Otherwise the reference decides
			// which strings count (keys and overwritten values do not).
			if len(r.Want) > 0 && len(r.Want) <= MaxWant && utf8.Valid(r.Body) {
				if scanJSON(r.Body, r.Want, &r.spans) {
					r.jsonLazy = true
				} else {
					r.bodyErr = errBadJSON
				}
				return
			}
			r.body, r.bodyErr = parseJSON(r.Body)
			if r.bodyErr == nil {
				r.bodyErr = checkEncoding(r.body)
			}
			return
		}
	}
	if !r.rackForm {
		return
	}
	params := newHash()
	boundary, err := multipartBoundary(ct)
	switch {
	case err != nil:
	case boundary != "":
		err = parseMultipart(r.Body, boundary, params)
	default:
		form := string(r.Body)
		form = strings.TrimSuffix(form, "\x00") // Rack's Safari fix
		err = parseQuery(form, params)
	}
	if err != nil {
		r.rackErr = err
		if r.bodyErr == nil {
			r.bodyErr = err
		}
		return
	}
	r.body = params
	if r.bodyErr == nil {
		r.bodyErr = checkEncoding(params)
	}
}

// Err reports whether the params are unreadable (wrapping ErrUnreadable)
// — an unparseable or ambiguous query or body, which Rails answers with
// 400 or reads in a way wootguard cannot be sure of.
func (r *Request) Err() error {
	r.parseQuery()
	if r.queryErr != nil {
		return unreadable{r.queryErr}
	}
	r.parseBody()
	if r.bodyErr != nil {
		return unreadable{r.bodyErr}
	}
	return nil
}

// Param is ActionDispatch's params[name] (query string over body, at the
// top level: request_parameters.merge(query_parameters)); a nested name
// such as "super_admin[email]" reads into hashes. The error is non-nil
// (see Err) when Rails' params cannot be known.
func (r *Request) Param(name string) (Value, error) {
	if err := r.Err(); err != nil {
		return Value{}, err
	}
	top, nested := name, []string(nil)
	if strings.IndexByte(name, '[') > 0 {
		path := splitName(name)
		top, nested = path[0], path[1:]
	}
	var v *node
	if r.query != nil {
		v = r.query.get(top)
	}
	if v == nil && r.jsonLazy {
		if i := r.wantIndex(top); i >= 0 {
			return r.lazyParam(i, nested)
		}
	}
	if v == nil {
		if body, err := r.tree(); err != nil {
			return Value{}, err
		} else if body != nil {
			v = body.get(top)
		}
	}
	if v == nil {
		return Value{}, nil
	}
	return walk(v, nested), nil
}

// walk reads nested keys into hashes from v.
func walk(v *node, nested []string) Value {
	for _, k := range nested {
		if v.kind != Hash {
			return Value{}
		}
		if v = v.get(k); v == nil {
			return Value{}
		}
	}
	return v.value()
}

// tree is the body's params, built by the reference parser when the body
// was only scanned.
func (r *Request) tree() (*node, error) {
	if r.jsonLazy {
		r.jsonLazy = false
		body, err := parseJSON(r.Body)
		if err == nil {
			err = checkEncoding(body)
		}
		if err != nil {
			// The scan accepted what the parser refuses: a bug, fail closed.
			r.bodyErr = err
			return nil, unreadable{err}
		}
		r.body = body
	}
	return r.body, nil
}

func (r *Request) wantIndex(top string) int {
	for i, w := range r.Want {
		if w == top {
			return i
		}
	}
	return -1
}

// lazyParam reads Want[i] (then nested keys) from a scanned JSON body
// with the reference parser, from where the scan found it: a top-level
// String costs one string, the value itself.
func (r *Request) lazyParam(i int, nested []string) (Value, error) {
	sp := r.spans[i]
	if !sp.found {
		return Value{}, nil
	}
	p := jsonParser{s: r.Body, i: sp.start}
	if len(nested) == 0 && r.Body[sp.start] == '"' {
		if !r.strDone[i] {
			s, err := p.str()
			if err != nil {
				return Value{}, unreadable{err}
			}
			r.strs[i], r.strDone[i] = s, true
		}
		return Str(r.strs[i]), nil
	}
	depth := 1 // a key's value is inside the document's object
	if sp.doc {
		depth = 0
	}
	v, err := p.value(depth)
	if err != nil {
		return Value{}, unreadable{err}
	}
	return walk(v, nested), nil
}

// ParamTop is the top-level key Param reads name from ("a" of "a[b]").
func ParamTop(name string) string {
	if i := strings.IndexByte(name, '['); i > 0 && strings.HasSuffix(name, "]") {
		return name[:i]
	}
	return name
}

// splitName splits "a[b][c]" into a, b, c; other names are one key.
func splitName(name string) []string {
	i := strings.IndexByte(name, '[')
	if i <= 0 || !strings.HasSuffix(name, "]") {
		return []string{name}
	}
	out := []string{name[:i]}
	for _, k := range strings.Split(name[i+1:len(name)-1], "][") {
		out = append(out, k)
	}
	return out
}

// AuthParam is Chatwoot's auth_param: the param when it is a non-blank
// String, else not ok.
func (r *Request) AuthParam(name string) (string, bool, error) {
	v, err := r.Param(name)
	if err != nil || v.Kind != String || v.Blank() {
		return "", false, err
	}
	return v.S, true, nil
}

// headerValues reads a header as Puma and Rails see it: "Api-Access-Token"
// and "api_access_token" are the same HTTP_API_ACCESS_TOKEN. It does not
// allocate.
func headerValues(h http.Header, canonical string) []string {
	if vs, ok := h[canonical]; ok {
		return vs
	}
	for k, vs := range h {
		if sameHeader(k, canonical) {
			return vs
		}
	}
	return nil
}

func sameHeader(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == '_' {
			x = '-'
		}
		if y == '_' {
			y = '-'
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Params is the whole of ActionDispatch's params as a Hash:
// request_parameters.merge(query_parameters) — body keys first, a key in
// both takes the query's value in the body's place.
func (r *Request) Params() (Value, error) {
	if err := r.Err(); err != nil {
		return Value{}, err
	}
	out := newHash()
	body, err := r.tree()
	if err != nil {
		return Value{}, err
	}
	if body != nil {
		for i, k := range body.keys {
			out.set(k, body.vals[i])
		}
	}
	if r.query != nil {
		for i, k := range r.query.keys {
			out.set(k, r.query.vals[i])
		}
	}
	return out.value(), nil
}

// QueryErr reports whether the query string alone is unreadable.
func (r *Request) QueryErr() error {
	r.parseQuery()
	if r.queryErr != nil {
		return unreadable{r.queryErr}
	}
	return nil
}

// InQuery reports whether the query string has the top-level key of
// name ("a" of "a[b]"), so that Rails' params take it from there whatever
// the body says.
func (r *Request) InQuery(name string) bool {
	r.parseQuery()
	if r.query == nil {
		return false
	}
	if i := strings.IndexByte(name, '['); i > 0 {
		name = name[:i]
	}
	return r.query.get(name) != nil
}

// RackReadsForm reports whether Rack parses this body as a form or
// multipart (Rack::Request#POST): where Rack::MethodOverride reads
// _method. The media type decides, never its parameters ("; x=json").
func RackReadsForm(method, contentType string) bool {
	return rackParsesForm(method, RackMediaType(contentType))
}

// AppendString appends Param(name) to dst when it is a String and
// reports whether it was one (dst is unchanged when not). From a scanned
// JSON body it copies the text straight from the body: no string is
// made, so a rule key built from a param costs no allocation of its own.
func (r *Request) AppendString(dst []byte, name string) ([]byte, bool, error) {
	if err := r.Err(); err != nil {
		return dst, false, err
	}
	if r.jsonLazy && ParamTop(name) == name && (r.query == nil || r.query.get(name) == nil) {
		if i := r.wantIndex(name); i >= 0 {
			sp := r.spans[i]
			if !sp.found || r.Body[sp.start] != '"' {
				return dst, false, nil
			}
			if r.strDone[i] {
				return append(dst, r.strs[i]...), true, nil
			}
			j := sp.start + 1
			for j < len(r.Body) && r.Body[j] != '"' && r.Body[j] != '\\' && r.Body[j] >= 0x20 {
				j++
			}
			if j < len(r.Body) && r.Body[j] == '"' {
				return append(dst, r.Body[sp.start+1:j]...), true, nil
			}
		}
	}
	v, err := r.Param(name)
	if err != nil || v.Kind != String {
		return dst, false, err
	}
	return append(dst, v.S...), true, nil
}
