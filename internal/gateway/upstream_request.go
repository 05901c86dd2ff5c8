package gateway

import (
	"bufio"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

var (
	errBadHeader    = errors.New("upstream request: invalid header field")
	errBadURI       = errors.New("upstream request: invalid character in the request URI")
	errBadMethod    = errors.New("upstream request: invalid method")
	errBadUpgrade   = errors.New("upstream request: client tried to switch to an invalid protocol")
	errHeadTooLarge = errors.New("upstream response: header too large")
)

// hopHeaders are removed on the way in both directions, as
// httputil.ReverseProxy removes them (RFC 9110 §7.6.1, and RFC 2616's
// list for older peers).
var hopHeaders = map[string]bool{"Connection": true, "Proxy-Connection": true, "Keep-Alive": true,
	"Proxy-Authenticate": true, "Proxy-Authorization": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true}

// contentHeaders describe the body: set by the gateway (its framing) or
// read by the rules as the client sent them.
var contentHeaders = map[string]bool{"Content-Length": true, "Content-Type": true}

// forwardingHeaders are the ones the gateway sets itself.
var forwardingHeaders = map[string]bool{"X-Forwarded-For": true, "X-Real-Ip": true,
	"X-Forwarded-Proto": true, "X-Forwarded-Host": true}

// upstreamRequest is what writeRequestHead needs besides the request.
type upstreamRequest struct {
	target  *url.URL
	info    *reqInfo
	upgrade string // the allowed protocol upgrade forwarded ("" = none)
	bodyLen int64  // 0 no body, >0 Content-Length, -1 chunked
}

// writeRequestHead writes r's request line and headers as Chatwoot must
// see them: hop-by-hop and spoofable headers dropped, the gateway's four
// forwarding headers set. It checks every byte it writes: no CR, LF,
// NUL or other control character ever reaches the upstream.
func writeRequestHead(bw *bufio.Writer, r *http.Request, u *upstreamRequest) error {
	if !validToken(r.Method) {
		return errBadMethod
	}
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	if err := writeRequestURI(bw, r.URL, u.target); err != nil {
		return err
	}
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(upstreamHost(r.Host, u.target.Host))
	bw.WriteString("\r\n")
	h := r.Header
	connection := h["Connection"]
	// As http.Transport: the first User-Agent, none when absent (or
	// named in Connection, as ReverseProxy then drops it).
	if ua := h["User-Agent"]; len(ua) > 0 && ua[0] != "" && !headerValuesContainToken(connection, "User-Agent") {
		if !validValue(ua[0]) {
			return errBadHeader
		}
		writeField(bw, "User-Agent", ua[0])
	}
	var num [20]byte
	switch {
	case u.bodyLen > 0:
		writeField(bw, "Content-Length", string(strconv.AppendInt(num[:0], u.bodyLen, 10)))
	case u.bodyLen < 0:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
		if len(r.Trailer) > 0 {
			keys := make([]string, 0, len(r.Trailer))
			for k := range r.Trailer {
				if !validToken(k) {
					return errBadHeader
				}
				keys = append(keys, k)
			}
			writeField(bw, "Trailer", strings.Join(keys, ","))
		}
	case r.Method != "GET" && r.Method != "HEAD":
		// As http.Transport: servers expect a length on POST, PUT, etc.
		bw.WriteString("Content-Length: 0\r\n")
	}
	for k, vv := range h {
		if skipRequestHeader(k, h, connection) {
			continue
		}
		if !validToken(k) {
			return errBadHeader
		}
		for _, v := range vv {
			if !validValue(v) {
				return errBadHeader
			}
			writeField(bw, k, v)
		}
	}
	if u.info != nil {
		var label [64]byte
		client := appendClientLabel(label[:0], u.info.client)
		for _, k := range [...]string{"X-Forwarded-For", "X-Real-Ip"} {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.Write(client)
			bw.WriteString("\r\n")
		}
		if !validValue(u.info.proto) || !validValue(u.info.host) {
			return errBadHeader
		}
		writeField(bw, "X-Forwarded-Proto", u.info.proto)
		writeField(bw, "X-Forwarded-Host", u.info.host)
	}
	if headerValuesContainToken(h["Te"], "trailers") {
		// Backends may rely on knowing the client accepts trailers
		// (ReverseProxy keeps this one Te value).
		bw.WriteString("Te: trailers\r\n")
	}
	if u.upgrade != "" {
		if !printableASCII(u.upgrade) {
			return errBadUpgrade
		}
		bw.WriteString("Connection: Upgrade\r\n")
		writeField(bw, "Upgrade", u.upgrade)
	}
	_, err := bw.WriteString("\r\n")
	return err
}

// skipRequestHeader reports whether header k of h does not go upstream
// as the client sent it.
func skipRequestHeader(k string, h http.Header, connection []string) bool {
	switch k {
	case "Host", "User-Agent", "Content-Length": // written by writeRequestHead
		return true
	case "Expect":
		// The server in front answered the client's 100-continue when the
		// body was first read, and the body goes upstream at once: an
		// upstream told to expect might refuse early (417) and read that
		// body as the next request (nginx drops Expect too).
		return true
	}
	if hopHeaders[k] || forwardingHeaders[k] || spoofable[k] {
		return true
	}
	// Underscore spellings too: Pumas before 6.4.3 (CVE-2024-45614) read
	// X_Forwarded_For as X-Forwarded-For, Transfer_Encoding and
	// Content_Length as the framing of the body (a request framed
	// otherwise than the gateway framed it: smuggling), Content_Type as
	// the type Rails parses the body by; a name the request also has
	// dashed they join with it into a value the rules never read. (Other
	// underscore names, Chatwoot's api_access_token for one, go on.)
	if strings.IndexByte(k, '_') >= 0 {
		dashed := http.CanonicalHeaderKey(strings.ReplaceAll(k, "_", "-"))
		if _, both := h[dashed]; both || spoofable[dashed] || hopHeaders[dashed] || contentHeaders[dashed] {
			return true
		}
	}
	return headerValuesContainToken(connection, k) // named hop-by-hop (RFC 9110 §7.6.1)
}

// writeRequestURI writes the upstream request target: the upstream URL's
// path joined with the request's, and the query, as ReverseProxy's
// SetURL builds it (with its cleaning of unparsable queries).
func writeRequestURI(bw *bufio.Writer, in, target *url.URL) error {
	query := cleanQuery(in.RawQuery)
	if target.RawQuery != "" {
		if query == "" {
			query = target.RawQuery
		} else {
			query = target.RawQuery + "&" + query
		}
	}
	out := url.URL{Opaque: in.Opaque, Scheme: target.Scheme, RawQuery: query, ForceQuery: in.ForceQuery}
	out.Path, out.RawPath = joinURLPath(target, in)
	var uri string
	if out.Opaque != "" {
		uri = out.RequestURI()
	} else {
		uri = out.EscapedPath()
		if uri == "" {
			uri = "/"
		}
	}
	if !validURI(uri) || !validURI(query) {
		return errBadURI
	}
	bw.WriteString(uri)
	if out.Opaque == "" && (out.ForceQuery || query != "") {
		bw.WriteByte('?')
		bw.WriteString(query)
	}
	return nil
}

// upstreamHost is the Host header for the upstream: the client's, as
// nginx's proxy_set_header Host $host; the upstream's own when the client
// sent none. An invalid one is sent empty, as http.Transport does.
func upstreamHost(host, fallback string) string {
	if host == "" {
		host = fallback
	}
	for i := 0; i < len(host); i++ {
		if !validHostByte(host[i]) {
			return ""
		}
	}
	// RFC 6874: no IPv6 zone in an outgoing URI.
	if strings.HasPrefix(host, "[") {
		if i := strings.LastIndex(host, "]"); i >= 0 {
			if j := strings.LastIndex(host[:i], "%"); j >= 0 {
				return host[:j] + host[i:]
			}
		}
	}
	return host
}

func writeField(bw *bufio.Writer, k, v string) {
	bw.WriteString(k)
	bw.WriteString(": ")
	bw.WriteString(v)
	bw.WriteString("\r\n")
}

// appendClientLabel is clientLabel without an allocation.
func appendClientLabel(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, clientLabel(a)...)
	}
	return a.AppendTo(b)
}

// joinURLPath is httputil's: the target's path, then the request's.
func joinURLPath(a, b *url.URL) (path, rawpath string) {
	if a.RawPath == "" && b.RawPath == "" {
		return singleJoiningSlash(a.Path, b.Path), ""
	}
	apath, bpath := a.EscapedPath(), b.EscapedPath()
	aslash, bslash := strings.HasSuffix(apath, "/"), strings.HasPrefix(bpath, "/")
	switch {
	case aslash && bslash:
		return a.Path + b.Path[1:], apath + bpath[1:]
	case !aslash && !bslash:
		return a.Path + "/" + b.Path, apath + "/" + bpath
	}
	return a.Path + b.Path, apath + bpath
}

func singleJoiningSlash(a, b string) string {
	aslash, bslash := strings.HasSuffix(a, "/"), strings.HasPrefix(b, "/")
	switch {
	case aslash && bslash:
		return a + b[1:]
	case !aslash && !bslash:
		return a + "/" + b
	}
	return a + b
}

// cleanQuery is ReverseProxy's cleanQueryParams: a query Go would not
// parse the same way (";" separators, bad escapes, over 10000 params) is
// re-encoded from what url.ParseQuery makes of it, so Chatwoot never
// reads a parameter the gateway's rules could not see. A raw "#" is
// escaped: the rules read it as part of a value, Puma as the start of
// a fragment that it drops.
func cleanQuery(s string) string {
	s = escapeHash(s)
	reencode := func(s string) string {
		v, _ := url.ParseQuery(s)
		return v.Encode()
	}
	if strings.Count(s, "&")+1 > 10000 {
		return reencode(s)
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case ';':
			return reencode(s)
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return reencode(s)
			}
			i += 3
		default:
			i++
		}
	}
	return s
}

func escapeHash(s string) string {
	if strings.IndexByte(s, '#') < 0 {
		return s
	}
	return strings.ReplaceAll(s, "#", "%23")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// validToken reports whether s is an RFC 9110 token (a method or a
// header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// validValue reports whether v is a header value that can be written
// as is: no control characters but tab (so no CR, LF, NUL).
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validURI reports whether s has no control character and no space.
func validURI(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// validHostByte is httpguts' lenient Host check: the bytes of any host,
// IP literal or port.
func validHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!$%&'()*+,-.:;=[]_~", c) >= 0
}

// headerValuesContainToken reports whether any of the comma-separated
// values lists token, ASCII case-insensitively.
func headerValuesContainToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var item string
			item, v, _ = strings.Cut(v, ",")
			if asciiEqualFold(strings.Trim(item, " \t"), token) {
				return true
			}
		}
	}
	return false
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
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
