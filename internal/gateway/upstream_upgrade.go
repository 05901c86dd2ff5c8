package gateway

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// switchProtocols tunnels an allowed WebSocket upgrade that Chatwoot
// accepted (101): the client's connection is hijacked, the 101 written
// to it, and bytes copied both ways until either side is done. It
// returns an error, answered 502, when no tunnel was made.
func (g *Gateway) switchProtocols(w *recordingWriter, r *http.Request, c *upstreamConn, resp *http.Response, reqUp string) error {
	resUp := forwardedUpgrade(resp.Header)
	if !printableASCII(resUp) {
		return fmt.Errorf("backend tried to switch to invalid protocol %q", resUp)
	}
	if reqUp == "" || !asciiEqualFold(reqUp, resUp) {
		return fmt.Errorf("backend tried to switch protocol %q when %q was requested", resUp, reqUp)
	}
	client, brw, err := w.Hijack()
	if err != nil {
		return fmt.Errorf("hijack failed on protocol switch: %w", err)
	}
	defer client.Close()
	h := w.Header()
	for k, vv := range resp.Header {
		h[k] = append(h[k], vv...)
	}
	resp.Header, resp.Body = h, nil // Write then writes the head only
	if err := resp.Write(brw); err != nil {
		return nil // the client is gone; nothing more to answer
	}
	if err := brw.Flush(); err != nil {
		return nil
	}
	// What either side sent after its head is in its bufio.Reader.
	toClient := make(chan struct{})
	go func() {
		defer close(toClient)
		tunnel(client, c.conn, c.br)
	}()
	tunnel(c.conn, client, brw.Reader)
	<-toClient
	return nil
}

// tunnelCloseGrace is how long a tunnel stays half-open after one side
// has ended it: time for the other to finish (a WebSocket close frame),
// not to hold the handler and both connections while it stays silent.
const tunnelCloseGrace = 3 * time.Second

// tunnel copies src (first what br holds of it) to dst. At src's end it
// half-closes dst, so the other direction can finish within
// tunnelCloseGrace; on an error it closes both, which ends the other
// direction too.
func tunnel(dst, src net.Conn, br interface {
	Buffered() int
	Peek(int) ([]byte, error)
}) {
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		if _, err := dst.Write(b); err != nil {
			dst.Close()
			src.Close()
			return
		}
	}
	buf := copyBuffers.Get()
	defer copyBuffers.Put(buf)
	if _, err := io.CopyBuffer(dst, onlyReader{src}, buf); err != nil {
		dst.Close()
		src.Close()
		return
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		dst.SetReadDeadline(time.Now().Add(tunnelCloseGrace)) // the other direction reads dst
		return
	}
	dst.Close()
	src.Close()
}

// onlyReader hides src's WriterTo so that CopyBuffer uses the buffer.
type onlyReader struct{ io.Reader }
