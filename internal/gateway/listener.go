package gateway

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wootguard/wootguard/internal/clientip"
)

// ConnLimits bound the open client connections of a listener.
type ConnLimits struct {
	Max       int // open connections in total (0: no cap)
	PerClient int // open connections per peer address (0: no cap)
	// Trusted reports the proxies whose own connections are never capped
	// per client (behind nginx every connection comes from 127.0.0.1).
	Trusted func(netip.Addr) bool
	Logger  *slog.Logger
}

// ConnLimitListener is a listener that refuses connections over its
// limits: a plain TCP connection gets a one-line 503, then is closed; the
// accept loop never waits for it.
type ConnLimitListener struct {
	net.Listener
	o       ConnLimits
	open    atomic.Int64
	peers   perClient
	refused atomic.Uint64
	writers chan struct{} // bounds the goroutines answering refused connections
	logs    logEvery
}

// LimitConns wraps ln with o's limits.
func LimitConns(ln net.Listener, o ConnLimits) *ConnLimitListener {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Trusted == nil {
		o.Trusted = func(netip.Addr) bool { return false }
	}
	return &ConnLimitListener{Listener: ln, o: o, writers: make(chan struct{}, 64)}
}

// Refused returns the number of connections refused since the start.
func (l *ConnLimitListener) Refused() uint64 { return l.refused.Load() }

// Open returns the number of client connections open now.
func (l *ConnLimitListener) Open() int64 { return l.open.Load() }

// Accept returns the next connection within the limits.
func (l *ConnLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if n := l.open.Add(1); l.o.Max > 0 && n > int64(l.o.Max) {
			l.open.Add(-1)
			l.refuse(c, "connections", "too many open connections (limits.connections)")
			continue
		}
		peer := clientip.ParseAddr(c.RemoteAddr().String())
		perPeer := l.o.PerClient > 0 && peer.IsValid() && !l.o.Trusted(peer)
		if perPeer && !l.peers.acquire(peer, l.o.PerClient) {
			l.open.Add(-1)
			l.refuse(c, "connections_per_client", "too many open connections from one client (limits.connections_per_client)")
			continue
		}
		lc := &limitedConn{Conn: c}
		lc.release = func() {
			l.open.Add(-1)
			if perPeer {
				l.peers.release(peer)
			}
		}
		return lc, nil
	}
}

const refusedResponse = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n" +
	"Retry-After: 5\r\nConnection: close\r\nContent-Length: 38\r\n\r\nService Unavailable: too many clients\n"

// refuse answers c with a 503 when it can do so without waiting, and
// closes it.
func (l *ConnLimitListener) refuse(c net.Conn, reason, msg string) {
	l.refused.Add(1)
	if n, ok := l.logs.allow(reason); ok {
		l.o.Logger.Warn("connection refused: "+msg, "peer", c.RemoteAddr().String(), "limit", reason, "refused_since_last_line", n)
	}
	tc, plain := c.(*net.TCPConn)
	if !plain {
		c.Close() // TLS or another wrapper: writing would mean a handshake
		return
	}
	select {
	case l.writers <- struct{}{}:
	default:
		c.Close() // a flood of refusals: just close
		return
	}
	go func() {
		defer func() { <-l.writers }()
		// Wait (briefly) for the request head, so that the 503 answers it:
		// HTTP clients drop a response that comes before their request.
		// Then read what else the client sent before closing, so that the
		// kernel does not reset the connection under the answer.
		_ = tc.SetDeadline(time.Now().Add(time.Second))
		readHead(tc)
		_, _ = io.WriteString(tc, refusedResponse)
		_ = tc.CloseWrite()
		_, _ = io.Copy(io.Discard, io.LimitReader(tc, 64<<10))
		tc.Close()
	}()
}

// readHead reads until the end of a request head, 8 KiB, or an error.
func readHead(c net.Conn) {
	var head []byte
	buf := make([]byte, 1024)
	for len(head) < 8<<10 {
		n, err := c.Read(buf)
		head = append(head, buf[:n]...)
		if err != nil || bytes.Contains(head, []byte("\r\n\r\n")) {
			return
		}
	}
}

// limitedConn gives its slot back once when closed (the HTTP server and a
// hijacking websocket proxy may both close it).
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite lets the HTTP server half-close as it does on a bare TCP
// connection.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// TrustedPeer reports whether a is a trusted proxy of the running
// configuration (for ConnLimits.Trusted: it follows reloads).
func (g *Gateway) TrustedPeer(a netip.Addr) bool { return g.state.Load().Resolver.Trusted(a) }
