//go:build !unix

package gateway

import "net"

// peekClosed cannot tell without a raw peek; a stale connection then
// fails the request (502) instead.
func peekClosed(net.Conn) bool { return false }
