package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	errClientWrite     = errors.New("writing to the client failed")
	errBodyAfterReturn = errors.New("request body read after the exchange ended")
)

// readResponseHead reads Chatwoot's response head with net/http's own
// parser. Informational answers (103 Early Hints, 100 Continue) go on
// to the client as ReverseProxy passes them; 101 ends the head.
func (g *Gateway) readResponseHead(w http.ResponseWriter, r *http.Request, c *upstreamConn) (*http.Response, error) {
	defer func() { c.io.headLeft = -1 }()
	for {
		c.io.headLeft = maxUpstreamHeaderBytes
		resp, err := http.ReadResponse(c.br, r)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode < 100 {
			// http.ReadResponse takes any three characters Atoi reads ("099",
			// "+50"); WriteHeader would panic on them.
			return nil, fmt.Errorf("malformed HTTP status code %q", resp.Status)
		}
		if resp.StatusCode > 199 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
		forwardInformational(w, resp)
	}
}

// forwardInformational writes a 1xx with the gateway's headers and the
// upstream's, then leaves the header map as it was (ReverseProxy clears
// it, which would lose the RateLimit headers set before forwarding).
func forwardInformational(w http.ResponseWriter, resp *http.Response) {
	h := w.Header()
	type saved struct {
		k  string
		vv []string
	}
	var prev []saved
	for k, vv := range resp.Header {
		old := h[k]
		prev = append(prev, saved{k, old})
		h[k] = append(old[:len(old):len(old)], vv...)
	}
	w.WriteHeader(resp.StatusCode)
	for _, s := range prev {
		if s.vv == nil {
			delete(h, s.k)
		} else {
			h[s.k] = s.vv
		}
	}
}

// copyBody copies Chatwoot's response body to the client, flushing after
// every write when flush is set (streams, SSE). sawEOF says the body was
// read to its end.
func copyBody(w http.ResponseWriter, body io.Reader, flush bool) (sawEOF bool, err error) {
	buf := copyBuffers.Get()
	defer copyBuffers.Put(buf)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return false, errClientWrite
			}
			if flush {
				if f, ok := w.(http.Flusher); ok {
					f.Flush()
				}
			}
		}
		if rerr == io.EOF {
			return true, nil
		}
		if rerr != nil {
			return false, rerr
		}
	}
}

// isEventStream reports whether the Content-Type is text/event-stream
// (ReverseProxy's rule for flushing at once).
func isEventStream(ct []string) bool {
	if len(ct) == 0 {
		return false
	}
	base, _, _ := strings.Cut(ct[0], ";")
	return asciiEqualFold(strings.TrimSpace(base), "text/event-stream")
}

// isReplayable reports whether a request without a body may be sent
// again after a stale connection failed under it: http.Transport's rule.
func isReplayable(r *http.Request) bool {
	switch r.Method {
	case "", "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	_, idem := r.Header["Idempotency-Key"]
	_, xidem := r.Header["X-Idempotency-Key"]
	return idem || xidem
}

// forwardedUpgrade is the protocol upgrade sent upstream: what is left
// after dropUpgrade (an allowed websocket), when Connection asks for it.
func forwardedUpgrade(h http.Header) string {
	if !headerValuesContainToken(h["Connection"], "Upgrade") {
		return ""
	}
	if up := h["Upgrade"]; len(up) > 0 {
		return up[0]
	}
	return ""
}

// bodySender copies a request body upstream on its own goroutine.
type bodySender struct {
	c       *upstreamConn
	body    io.Reader
	trailer http.Header
	length  int64 // -1: chunked
	timeout time.Duration
	// flushHead: the body comes from the client, not from memory.
	flushHead bool
	done      chan struct{}
	ended     atomic.Bool // the exchange is over: no more reads of the body
	err       error       // set before done is closed

	mu       sync.Mutex
	headDone bool // the response head arrived: no deadline to set any more
}

func newBodySender(c *upstreamConn, r *http.Request, length int64, timeout time.Duration, inMemory bool) *bodySender {
	return &bodySender{c: c, body: r.Body, trailer: r.Trailer, length: length, timeout: timeout, flushHead: !inMemory,
		done: make(chan struct{})}
}

func (s *bodySender) run() {
	defer close(s.done)
	clientErr, err := s.send()
	if err == nil {
		err = s.c.bw.Flush()
	}
	s.err = err
	switch {
	case clientErr:
		// Chatwoot waits for the rest of a body that will not come:
		// end the exchange rather than leave the handler waiting.
		s.c.conn.Close()
	case err == nil && s.timeout > 0:
		// server.upstream_timeout counts from the end of the request, as
		// http.Transport's ResponseHeaderTimeout.
		s.mu.Lock()
		if !s.headDone {
			s.c.conn.SetReadDeadline(time.Now().Add(s.timeout))
		}
		s.mu.Unlock()
	}
}

// send writes the body (chunked when its length is unknown). clientErr
// says reading the client's body failed, not writing upstream.
func (s *bodySender) send() (clientErr bool, err error) {
	buf := copyBuffers.Get()
	defer copyBuffers.Put(buf)
	bw := s.c.bw
	if s.flushHead {
		// Chatwoot sees the head before a body that may be slow to come.
		if err := bw.Flush(); err != nil {
			return false, err
		}
	}
	var sent int64
	var size [20]byte
	for {
		if s.ended.Load() {
			return true, errBodyAfterReturn
		}
		n, rerr := s.body.Read(buf)
		if n > 0 {
			if s.length >= 0 && sent+int64(n) > s.length {
				return true, errors.New("request body longer than its Content-Length")
			}
			sent += int64(n)
			if s.length < 0 {
				bw.Write(strconv.AppendInt(size[:0], int64(n), 16))
				bw.WriteString("\r\n")
			}
			bw.Write(buf[:n])
			if s.length < 0 {
				bw.WriteString("\r\n")
			}
			// Each piece goes on at once: uploads stream, unbuffered.
			if err := bw.Flush(); err != nil {
				return false, err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return true, rerr
		}
	}
	if s.length >= 0 {
		if sent != s.length {
			return true, io.ErrUnexpectedEOF
		}
		return false, nil
	}
	bw.WriteString("0\r\n")
	for k, vv := range s.trailer {
		if !validToken(k) {
			return true, errBadHeader
		}
		for _, v := range vv {
			if !validValue(v) {
				return true, errBadHeader
			}
			writeField(bw, k, v)
		}
	}
	_, err = bw.WriteString("\r\n")
	return false, err
}

// headArrived tells the sender not to set a response-header deadline.
func (s *bodySender) headArrived() {
	s.mu.Lock()
	s.headDone = true
	s.mu.Unlock()
}

// finished reports whether the whole body went upstream.
func (s *bodySender) finished() bool {
	select {
	case <-s.done:
		return s.err == nil
	default:
		return false
	}
}

// stop ends the exchange's claim on the body: a sender still running
// reads no more of it (the handler is returning) and its connection,
// which is then not reused, is closed under it.
func (s *bodySender) stop() {
	s.ended.Store(true)
	select {
	case <-s.done:
	default:
		s.c.conn.Close()
	}
}

// copyBuffers are the 32 KiB copy buffers of bodies in both directions.
var copyBuffers bufferPool

// bufferPool reuses 32 KiB copy buffers, which would otherwise be
// allocated for every response (most of the garbage).
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.p.Get().(*[32 << 10]byte); ok {
		return buf[:]
	}
	return make([]byte, 32<<10)
}

// Put keeps the array pointer (&buf would allocate on every Put).
func (b *bufferPool) Put(buf []byte) {
	if len(buf) == 32<<10 {
		b.p.Put((*[32 << 10]byte)(buf))
	}
}
