//go:build unix

package gateway

import (
	"net"
	"syscall"
)

// connPeeker peeks at an idle connection without blocking. It is made
// once per connection (the raw conn and the callback would otherwise be
// three allocations on every reused request).
type connPeeker struct {
	raw    syscall.RawConn
	buf    [1]byte
	seen   bool // data or the end of the stream
	peekFn func(fd uintptr) bool
}

func newConnPeeker(c net.Conn) *connPeeker {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := &connPeeker{raw: raw}
	p.peekFn = func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		p.seen = n >= 0 && err == nil || err != nil && err != syscall.EAGAIN && err != syscall.EWOULDBLOCK
		return true // never wait for readiness
	}
	return p
}

// closed reports whether Chatwoot closed (or wrote to) an idle
// connection: a peek that finds data or the end of the stream. A pooled
// connection has nothing to read, so either means it is unusable.
func (p *connPeeker) closed() bool {
	if p == nil {
		return false
	}
	p.seen = false
	err := p.raw.Read(p.peekFn)
	return p.seen || err != nil
}
