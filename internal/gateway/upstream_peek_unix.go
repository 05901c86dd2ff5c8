//go:build unix

package gateway

import (
	"net"
	"syscall"
)

// peekClosed reports whether Chatwoot closed (or wrote to) an idle
// connection: a peek that finds data or the end of the stream. A pooled
// connection has nothing to read, so either means it is unusable.
func peekClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	var buf [1]byte
	closed := false
	err = raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = n >= 0 && err == nil || err != nil && err != syscall.EAGAIN && err != syscall.EWOULDBLOCK
		return true // never wait for readiness
	})
	return closed || err != nil
}
