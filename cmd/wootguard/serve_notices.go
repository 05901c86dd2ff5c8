package main

import (
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/listeners"
)

// startNotices are what serve says at start about protection an operator
// may think they have but do not.
func startNotices(cfg *config.Gateway, log *slog.Logger) {
	if len(cfg.TrustedProxies) == 0 && cfg.PresetName == "chatwoot" {
		log.Warn("requests from this host (127.0.0.1, ::1) are never rate-limited: the chatwoot preset safelists them, as Chatwoot does, " +
			"and with client_ip.trusted_proxies empty the TCP peer is the client. To see a 429 from this host, use another loopback " +
			"address (curl --interface 127.0.0.2 ...); with nginx or a load balancer in front, list it in client_ip.trusted_proxies")
	}
	if msg := bypassWarning(cfg.Upstream.Hostname(), cfg.Upstream.Port(), cfg.Upstream.Scheme); msg != "" {
		log.Warn(msg)
	}
	if cfg.Profile != "" && !cfg.ProfileEnforce {
		log.Info("profile " + cfg.Profile + " runs in dry-run: its rules log what they would do and block nothing; " +
			"set profile: {name: " + cfg.Profile + ", enforce: true} once the logs look right")
	}
}

// bypassWarning says when Chatwoot's own port, on this host, listens on
// more than the loopback: then clients can reach Chatwoot directly and
// bypass every rule. It reads the socket tables; it sends nothing.
func bypassWarning(host, port, scheme string) string {
	p, ok := loopbackPort(host, port, scheme)
	if !ok {
		return "" // another host: only `wootguard doctor` can look from outside
	}
	port = strconv.Itoa(int(p))
	exposed, err := listeners.Exposed(p)
	if err != nil || len(exposed) == 0 {
		return ""
	}
	var where []string
	for _, e := range exposed {
		s := e.String()
		if e.IsUnspecified() {
			s += " (every interface)"
		}
		where = append(where, net.JoinHostPort(s, port))
	}
	return "Chatwoot's own port is reachable directly: something listens on " + strings.Join(where, ", ") +
		", not only on the loopback, so clients can bypass wootguard. Bind Chatwoot to 127.0.0.1 (docker compose: '127.0.0.1:" + port + ":3000'; " +
		"puma: -b tcp://127.0.0.1:" + port + ") or firewall the port; check with: wootguard doctor"
}

// loopbackPort returns the port of a URL's host and port (the scheme's
// default when empty) when the host is this machine's loopback, whose
// socket table wootguard can read.
func loopbackPort(host, port, scheme string) (uint16, bool) {
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	a, err := netip.ParseAddr(host)
	if host == "localhost" {
		a, err = netip.MustParseAddr("127.0.0.1"), nil
	}
	if err != nil || !a.IsLoopback() {
		return 0, false
	}
	p, err := strconv.ParseUint(port, 10, 16)
	return uint16(p), err == nil
}
