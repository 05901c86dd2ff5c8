package gateway

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"sync"
	"time"
)

const (
	// upstreamIdleTimeout closes idle connections before Puma does
	// (persistent_timeout, 20 s): a request sent as Puma closes one fails,
	// and a POST is not retried.
	upstreamIdleTimeout = 15 * time.Second
	upstreamDialTimeout = 5 * time.Second
	upstreamTLSTimeout  = 10 * time.Second // as http.DefaultTransport
	// maxUpstreamHeaderBytes bounds a response head, as http.Transport's
	// default MaxResponseHeaderBytes.
	maxUpstreamHeaderBytes = 10 << 20
)

var errNoUpstream = errors.New("no upstream configured")

// upstreamConn is one persistent HTTP/1.1 connection to Chatwoot.
type upstreamConn struct {
	conn      net.Conn    // what requests go over: the TCP or the TLS connection
	peek      *connPeeker // on the TCP connection under conn
	io        countingConn
	br        *bufio.Reader
	bw        *bufio.Writer
	reused    bool
	isTLS     bool
	idleSince time.Time
}

// tlsPending reports whether a TLS connection holds bytes that came
// after the last answer in records the TLS layer has already taken off
// the socket, where the TCP peek cannot see them. A read with a past
// deadline asks without waiting (crypto/tls keeps no state from a
// timeout).
func (c *upstreamConn) tlsPending() bool {
	if !c.isTLS {
		return false
	}
	c.conn.SetReadDeadline(longAgo)
	_, err := c.br.Peek(1)
	c.conn.SetReadDeadline(time.Time{})
	var ne net.Error
	return err == nil || !errors.As(err, &ne) || !ne.Timeout()
}

var longAgo = time.Unix(1, 0)

// countingConn counts the bytes that crossed the connection (a failure
// with none read or written may be retried) and caps a response head.
type countingConn struct {
	c             net.Conn
	read, written int64
	headLeft      int64 // bytes a response head may still take; <0: reading a body, no cap
}

func (c *countingConn) Read(p []byte) (int, error) {
	if c.headLeft >= 0 {
		if c.headLeft == 0 {
			return 0, errHeadTooLarge
		}
		if int64(len(p)) > c.headLeft {
			p = p[:c.headLeft]
		}
	}
	n, err := c.c.Read(p)
	c.read += int64(n)
	if c.headLeft >= 0 {
		c.headLeft -= int64(n)
	}
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.c.Write(p)
	c.written += int64(n)
	return n, err
}

// upstreamPool keeps idle connections to one upstream, newest on top
// (LIFO: busy connections stay warm, the rest age out together).
type upstreamPool struct {
	target  *url.URL
	addr    string // host:port to dial
	tlsConf *tls.Config
	dialer  net.Dialer
	max     int

	mu     sync.Mutex
	idle   []*upstreamConn // oldest first
	closed bool
	sweep  *time.Timer // armed while idle is not empty
}

func newUpstreamPool(target *url.URL, maxIdle int, tlsConf *tls.Config) *upstreamPool {
	if target == nil {
		target = &url.URL{} // no upstream: every dial fails (errNoUpstream), a 502
	}
	p := &upstreamPool{target: target, max: maxIdle,
		dialer: net.Dialer{Timeout: upstreamDialTimeout, KeepAlive: 30 * time.Second}}
	port := target.Port()
	if port == "" {
		port = "80"
		if target.Scheme == "https" {
			port = "443"
		}
	}
	p.addr = net.JoinHostPort(target.Hostname(), port)
	if target.Scheme == "https" {
		c := &tls.Config{}
		if tlsConf != nil {
			c = tlsConf.Clone()
		}
		if c.ServerName == "" {
			c.ServerName = target.Hostname()
		}
		c.NextProtos = []string{"http/1.1"} // never HTTP/2: this client speaks HTTP/1.1 only
		p.tlsConf = c
	}
	return p
}

// get returns an idle connection, or nil when there is none.
func (p *upstreamPool) get() *upstreamConn {
	now := time.Now()
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			return nil
		}
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if now.Sub(c.idleSince) < upstreamIdleTimeout {
			c.reused = true
			return c
		}
		c.conn.Close() // the sweep has not come round to it yet
	}
}

// put keeps c for the next request, or closes it when the pool is full
// or closed.
func (p *upstreamPool) put(c *upstreamConn) {
	c.idleSince = time.Now()
	p.mu.Lock()
	if p.closed || len(p.idle) >= p.max {
		p.mu.Unlock()
		c.conn.Close()
		return
	}
	p.idle = append(p.idle, c)
	if p.sweep == nil {
		p.sweep = time.AfterFunc(upstreamIdleTimeout, p.sweepIdle)
	} else if len(p.idle) == 1 {
		p.sweep.Reset(upstreamIdleTimeout)
	}
	p.mu.Unlock()
}

// sweepIdle closes connections idle for upstreamIdleTimeout and re-arms
// itself while any are left (a timer, not a goroutine, between sweeps).
func (p *upstreamPool) sweepIdle() {
	now := time.Now()
	p.mu.Lock()
	i := 0
	for i < len(p.idle) && now.Sub(p.idle[i].idleSince) >= upstreamIdleTimeout {
		i++
	}
	old := make([]*upstreamConn, i)
	copy(old, p.idle[:i])
	p.idle = append(p.idle[:0], p.idle[i:]...)
	clear(p.idle[len(p.idle):cap(p.idle)])
	if len(p.idle) > 0 && !p.closed {
		p.sweep.Reset(upstreamIdleTimeout - now.Sub(p.idle[0].idleSince))
	}
	p.mu.Unlock()
	for _, c := range old {
		c.conn.Close()
	}
}

// close closes the idle connections; connections in use are closed when
// their request ends.
func (p *upstreamPool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	if p.sweep != nil {
		p.sweep.Stop()
	}
	p.mu.Unlock()
	for _, c := range idle {
		c.conn.Close()
	}
}

// idleCount is the number of idle connections (tests).
func (p *upstreamPool) idleCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

// dial opens a new connection (TCP keep-alive on; TLS with ALPN
// http/1.1 for an https upstream). Never through an environment proxy.
func (p *upstreamPool) dial(ctx context.Context) (*upstreamConn, error) {
	if p.target.Host == "" {
		return nil, errNoUpstream // not ":80", which would reach this host's port 80
	}
	tcp, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	conn := tcp
	if p.tlsConf != nil {
		tc := tls.Client(tcp, p.tlsConf)
		hctx, cancel := context.WithTimeout(ctx, upstreamTLSTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			tcp.Close()
			return nil, err
		}
		conn = tc
	}
	c := &upstreamConn{conn: conn, peek: newConnPeeker(tcp), isTLS: p.tlsConf != nil}
	c.io.c = conn
	c.io.headLeft = -1
	c.br = bufio.NewReaderSize(&c.io, 4<<10)
	c.bw = bufio.NewWriterSize(&c.io, 4<<10)
	return c, nil
}
