package gateway

import (
	"net/http"
	"slices"
	"strings"
)

// upgradeAllowed reports whether r's protocol upgrade may reach Chatwoot:
// only "Upgrade: websocket" on one of the websocket paths (ActionCable's
// /cable). h2c is never allowed: a backend that switched to HTTP/2 over
// the tunnel would receive requests the gateway never sees (h2c
// smuggling). Nor is a handshake with a body (RFC 6455's is a GET
// without one): its body would still be on its way, read from the
// client's connection and written to Chatwoot's, when a 101 hands both
// connections to the tunnel. A request whose upgrade is not allowed is
// forwarded as plain HTTP/1.1 without it, as nginx does when not told to
// upgrade.
func upgradeAllowed(r *http.Request, paths []string) bool {
	up := r.Header.Values("Upgrade")
	noBody := r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0
	return len(up) == 1 && strings.EqualFold(strings.TrimSpace(up[0]), "websocket") && slices.Contains(paths, r.URL.Path) && noBody
}

// wantsUpgrade reports whether r asks for any protocol upgrade.
func wantsUpgrade(r *http.Request) bool {
	return len(r.Header.Values("Upgrade")) > 0 || len(r.Header.Values("Http2-Settings")) > 0
}

// dropUpgrade removes an upgrade request from r before it is proxied:
// without an Upgrade header the upstream client forwards no upgrade and
// treats a 101 from Chatwoot as an error. (Connection stays: the server
// reads it for keep-alive, and the upstream client drops it as
// hop-by-hop.)
func dropUpgrade(h http.Header) {
	h.Del("Upgrade")
	h.Del("Http2-Settings")
}
