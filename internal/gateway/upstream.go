package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
)

// forward sends r to Chatwoot over a pooled HTTP/1.1 connection and
// copies the answer to w. A request without a body runs on the
// handler's goroutine alone: write, flush, read (see docs/performance.md,
// "The upstream client").
func (g *Gateway) forward(w *recordingWriter, r *http.Request, info *reqInfo) {
	hasBody := r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	u := upstreamRequest{target: g.pool.target, info: info, upgrade: forwardedUpgrade(r.Header)}
	if hasBody {
		u.bodyLen = r.ContentLength
	}
	replayable := !hasBody && isReplayable(r)
	for attempt := 0; ; attempt++ {
		var c *upstreamConn
		if attempt == 0 {
			c = g.pool.get()
			// Nothing else can tell that Chatwoot closed an idle connection,
			// or wrote to it (no goroutine reads it): a request that is not
			// retried must not be sent on one that is gone, and bytes that
			// came after the last answer (a body too long, a body on a HEAD
			// answer, a stray write) would be read as this request's answer:
			// another client's response, or one forged for it. Over TLS
			// such bytes may already sit in crypto/tls's buffer (tlsPending).
			if c != nil && (c.peek.closed() || c.tlsPending()) {
				c.conn.Close()
				c = nil
			}
		}
		if c == nil {
			var err error
			if c, err = g.pool.dial(r.Context()); err != nil {
				g.proxyError(w, r, info, err)
				return
			}
		}
		err, retry := g.exchange(w, r, info, c, &u, hasBody, replayable)
		if err == nil {
			return
		}
		if retry && attempt == 0 {
			continue // a stale pooled connection: once more on a fresh one
		}
		g.proxyError(w, r, info, err)
		return
	}
}

// exchange runs one request on c. It returns an error only when no
// response reached the client (the caller answers 502 or retries); retry
// says c was a reused connection that failed before Chatwoot saw the
// request, so that sending it again is safe.
func (g *Gateway) exchange(w *recordingWriter, r *http.Request, info *reqInfo, c *upstreamConn, u *upstreamRequest,
	hasBody, replayable bool) (err error, retry bool) {
	ctx := r.Context()
	var watch func() bool
	if ctx.Done() != nil { // the client going away ends the exchange
		conn := c.conn
		watch = context.AfterFunc(ctx, func() { conn.Close() })
	}
	keep := false
	defer func() {
		if watch != nil && !watch() {
			keep = false // the watcher has closed it
		}
		if keep {
			g.pool.put(c)
		} else {
			c.conn.Close()
		}
	}()
	read0, written0 := c.io.read, c.io.written
	stale := func(e error) (error, bool) {
		if hasBody {
			return e, false // never sent twice (and c.io.written is the sender's)
		}
		var ne net.Error
		timeout := errors.As(e, &ne) && ne.Timeout()
		nothingRead := c.io.read == read0
		return e, c.reused && ctx.Err() == nil && !timeout && nothingRead && (replayable || c.io.written == written0)
	}
	if err := writeRequestHead(c.bw, r, u); err != nil {
		return err, false
	}
	timeout := info.opts.UpstreamTimeout
	var body *bodySender
	if hasBody {
		// Chatwoot may answer before it has read the whole body (413, a
		// redirect): the body goes on another goroutine while this one
		// reads the answer, so that neither side waits for the other.
		body = newBodySender(c, r, u.bodyLen, timeout, info.rec.req.Body != nil)
		go body.run()
		defer body.stop()
	} else {
		if err := c.bw.Flush(); err != nil {
			return stale(err)
		}
		if timeout > 0 {
			c.conn.SetReadDeadline(time.Now().Add(timeout))
		}
	}

	resp, err := g.readResponseHead(w, r, c)
	if body != nil {
		body.headArrived()
	}
	if err != nil {
		return stale(err)
	}
	if timeout > 0 {
		c.conn.SetReadDeadline(time.Time{})
	}
	g.reportResponse(info, r, resp.StatusCode)
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return g.switchProtocols(w, r, c, resp, u.upgrade), false
	}

	h := w.Header()
	conn := resp.Header["Connection"]
	for k, vv := range resp.Header {
		if hopHeaders[k] || headerValuesContainToken(conn, k) {
			continue
		}
		if prev := h[k]; prev != nil {
			h[k] = append(prev, vv...)
		} else {
			h[k] = vv // resp is this request's own: no copy needed
		}
	}
	announced := len(resp.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range resp.Trailer {
			keys = append(keys, k)
		}
		h.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(resp.StatusCode)
	flush := resp.ContentLength == -1 || isEventStream(resp.Header["Content-Type"])
	if flush {
		w.Flush() // the head now, even if the body is slow to come
	}
	sawEOF, copyErr := copyBody(w, resp.Body, flush)
	if copyErr != nil {
		if ctx.Err() == nil && !errors.Is(copyErr, errClientWrite) {
			g.log.Warn("upstream response cut off", "err", copyErr, "method", r.Method, "path", r.URL.Path)
		}
		// The client must not take a cut-off body for a whole one: abort
		// its connection, as ReverseProxy does.
		if r.Context().Value(http.ServerContextKey) != nil {
			c.conn.Close()
			panic(http.ErrAbortHandler)
		}
		return nil, false
	}
	if len(resp.Trailer) > 0 {
		w.Flush() // force chunking, so the trailers can follow
		if len(resp.Trailer) == announced {
			for k, vv := range resp.Trailer {
				h[k] = append(h[k], vv...)
			}
		} else {
			for k, vv := range resp.Trailer {
				h[http.TrailerPrefix+k] = append(h[http.TrailerPrefix+k], vv...)
			}
		}
	}
	keep = sawEOF && !resp.Close && c.br.Buffered() == 0 && (body == nil || body.finished())
	return nil, false
}
