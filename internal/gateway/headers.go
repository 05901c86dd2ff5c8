package gateway

import (
	"net/http"
	"strings"
)

// joinRepeatedContentType makes a repeated Content-Type one header, joined
// with ", " as Puma joins it for Rails. The rules then read the very
// string Rack and ActionDispatch will (Rack takes a multipart boundary
// from anywhere in it), and Chatwoot receives that one header, so no
// server in between can pick another of the copies.
func joinRepeatedContentType(h http.Header) {
	if vs := h["Content-Type"]; len(vs) > 1 {
		h["Content-Type"] = []string{strings.Join(vs, ", ")}
	}
}
