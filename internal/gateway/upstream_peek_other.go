//go:build !unix

package gateway

import "net"

// connPeeker cannot tell without a raw peek; a stale connection then
// fails the request (502) instead.
type connPeeker struct{}

func newConnPeeker(net.Conn) *connPeeker { return nil }

func (*connPeeker) closed() bool { return false }
