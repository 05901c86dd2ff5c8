package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/listeners"
)

func init() {
	register(&command{Name: "doctor", Summary: "check from this host that wootguard really protects Chatwoot", Run: runDoctor})
}

func runDoctor(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "doctor", "[--chatwoot URL] [--gateway URL]", `
Check from this host that the deployment protects Chatwoot:

  gateway     the gateway answers, and Chatwoot answers behind it
  forwarding  whether an X-Forwarded-For from this host is read as the
              client (this host is a trusted proxy) or ignored (this host
              is the client: safelisted as a local address by the preset)
  bypass      Chatwoot's own port is not reachable beyond the loopback
              (a local URL: read from the socket table, nothing is sent;
              another address: it must not answer from here)
  version     the running Chatwoot version is known (GET /api)

One line per check; exit 0 when every check passes, 1 when one fails, 2 on
a usage error. Warnings (!) do not fail. See docs/deploy.md.

Example:
  wootguard doctor --chatwoot http://127.0.0.1:3000 --gateway http://127.0.0.1:8080`)
	chatwoot := fs.String("chatwoot", "http://127.0.0.1:3000", "Chatwoot's own `URL` (what wootguard's upstream is)")
	gatewayURL := fs.String("gateway", "http://127.0.0.1:8080", "the gateway's `URL`")
	var timeout time.Duration
	durationVar(fs, &timeout, "timeout", 5*time.Second, "timeout of each request")
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	// Both are checked as the gateway checks its upstream: http(s) with a host.
	cw, err1 := config.ParseUpstream(*chatwoot)
	gw, err2 := config.ParseUpstream(*gatewayURL)
	for _, u := range []struct {
		flag string
		err  error
	}{{"--chatwoot", err1}, {"--gateway", err2}} {
		if u.err != nil {
			fmt.Fprintf(env.Stderr, "wootguard doctor: %s must be an http(s) URL\n", u.flag)
			return 2
		}
	}
	d := &doctor{out: env.Stdout, client: &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil}}}
	d.checkGateway(ctx, gw)
	d.checkForwarding(ctx, gw)
	d.checkBypass(ctx, cw, timeout)
	d.checkVersion(ctx, cw, timeout)
	if d.failed > 0 {
		fmt.Fprintf(env.Stdout, "\n%d check(s) failed\n", d.failed)
		return 1
	}
	fmt.Fprintln(env.Stdout, "\nall checks passed")
	return 0
}

type doctor struct {
	out    io.Writer
	client *http.Client
	failed int
}

func (d *doctor) ok(check, format string, args ...any) {
	fmt.Fprintf(d.out, "ok    %-10s %s\n", check, fmt.Sprintf(format, args...))
}

func (d *doctor) warn(check, format string, args ...any) {
	fmt.Fprintf(d.out, "!     %-10s %s\n", check, fmt.Sprintf(format, args...))
}

func (d *doctor) fail(check, format string, args ...any) {
	d.failed++
	fmt.Fprintf(d.out, "FAIL  %-10s %s\n", check, fmt.Sprintf(format, args...))
}

func (d *doctor) get(ctx context.Context, u string, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp, nil
}

func (d *doctor) checkGateway(ctx context.Context, gw *url.URL) {
	u := strings.TrimRight(gw.String(), "/") + "/health"
	resp, err := d.get(ctx, u, nil)
	switch {
	case err != nil:
		d.fail("gateway", "GET %s: %v (is wootguard serve running there?)", u, err)
	case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout:
		d.fail("gateway", "GET %s: %s: the gateway answers but Chatwoot behind it does not (check upstream:)", u, resp.Status)
	case resp.StatusCode >= 400:
		d.fail("gateway", "GET %s: %s", u, resp.Status)
	default:
		d.ok("gateway", "GET %s: %s", u, resp.Status)
	}
}

// documentationIP is from TEST-NET-1 (RFC 5737): never a real client.
const documentationIP = "192.0.2.1"

// checkForwarding tells, from the gateway's RateLimit headers, which
// address the gateway counted: a request counted by a throttle carries
// them, a safelisted one does not.
func (d *doctor) checkForwarding(ctx context.Context, gw *url.URL) {
	u := strings.TrimRight(gw.String(), "/") + "/api"
	withXFF, err := d.get(ctx, u, http.Header{"X-Forwarded-For": {documentationIP}})
	if err != nil {
		d.fail("forwarding", "GET %s: %v", u, err)
		return
	}
	plain, err := d.get(ctx, u, nil)
	if err != nil {
		d.fail("forwarding", "GET %s: %v", u, err)
		return
	}
	a, b := withXFF.Header.Get("RateLimit"), plain.Header.Get("RateLimit")
	switch {
	case a != "" && b == "":
		d.ok("forwarding", "X-Forwarded-For from this host is read: the gateway counted %s as the client, and this host itself as a safelisted local client. Right for a proxy on this host", documentationIP)
	case a == "" && b == "":
		d.warn("forwarding", "X-Forwarded-For from this host is ignored: this host is the client, and a safelisted local one (the chatwoot preset safelists 127.0.0.1 and ::1). "+
			"If your proxy runs on this host, list it in client_ip.trusted_proxies, or every request is unlimited. (Or responses.ratelimit_headers is off: then this cannot be told.)")
	case a != "" && b != "" && sameBucket(a, b):
		d.warn("forwarding", "X-Forwarded-For from this host is ignored (both requests were counted for this host's own address): fine if no proxy runs here; a proxy on this host must be in client_ip.trusted_proxies")
	case a != "" && b != "":
		d.ok("forwarding", "X-Forwarded-For from this host is read (%s and this host were counted apart)", documentationIP)
	default:
		d.warn("forwarding", "the request with X-Forwarded-For: %s was not counted but the plain one was: is %s safelisted?", documentationIP, documentationIP)
	}
}

// sameBucket reports whether two RateLimit fields ("name";r=N;t=T) are one
// counter seen twice: same policy, one fewer left.
func sameBucket(first, second string) bool {
	n1, r1, ok1 := parseRateLimit(first)
	n2, r2, ok2 := parseRateLimit(second)
	return ok1 && ok2 && n1 == n2 && (r2 == r1-1 || (r1 == 0 && r2 == 0))
}

func parseRateLimit(s string) (name string, remaining int, ok bool) {
	parts := strings.Split(s, ";")
	if len(parts) < 2 {
		return "", 0, false
	}
	name = strings.Trim(parts[0], `" `)
	for _, p := range parts[1:] {
		if v, found := strings.CutPrefix(strings.TrimSpace(p), "r="); found {
			n, err := strconv.Atoi(v)
			return name, n, err == nil
		}
	}
	return "", 0, false
}

func (d *doctor) checkBypass(ctx context.Context, cw *url.URL, timeout time.Duration) {
	host, port := cw.Hostname(), cw.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[cw.Scheme]
	}
	if p, ok := loopbackPort(host, port, cw.Scheme); ok {
		if msg := bypassWarning(host, port, cw.Scheme); msg != "" {
			d.fail("bypass", "%s", msg)
			return
		}
		if _, err := listeners.Listening(p); err != nil {
			d.warn("bypass", "cannot tell whether port %s listens beyond the loopback: %v", port, err)
			return
		}
		d.ok("bypass", "Chatwoot's port %s listens on the loopback only", port)
		return
	}
	conn, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		d.ok("bypass", "%s is not reachable from this host (%v)", cw.Host, err)
		return
	}
	conn.Close()
	d.warn("bypass", "Chatwoot answers at %s from this host: anything that can reach that address bypasses wootguard. Make sure only the gateway can (firewall, ClusterIP, compose network)", cw.Host)
}

func (d *doctor) checkVersion(ctx context.Context, cw *url.URL, timeout time.Duration) {
	res, err := probeRunning(ctx, cw.String(), timeout)
	if err != nil {
		d.fail("version", "the running Chatwoot version is not known: %v ('updates status' needs it)", err)
		return
	}
	d.ok("version", "Chatwoot %s (from %s)", res.Version, res.Source)
}
