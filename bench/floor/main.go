// Command floor measures the HTTP engine's own floor on the data path
// (issue 11: could github.com/valyala/fasthttp reach nginx where Go's
// net/http cannot?). Each mode is a bare server with no rules:
//
//	-mode nethttp-429     net/http answering wootguard's 429 (bench/profile.md's bare server)
//	-mode fasthttp-429    the same answer from fasthttp
//	-mode fasthttp-proxy  a bare fasthttp reverse proxy to -upstream (HostClient, keep-alive)
//
// It lives in its own module (bench/floor/go.mod) so that wootguard itself
// does not depend on fasthttp. bench/floor.sh runs it beside nginx and
// wootguard.
//
//	go run . -mode fasthttp-429 -listen 127.0.0.1:19181
//	go run . -mode fasthttp-proxy -listen 127.0.0.1:19182 -upstream 127.0.0.1:19081
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/valyala/fasthttp"
)

// The refusal wootguard writes for req/ip (bench/profile.md): five headers
// and a 12-byte body. Date is added by both servers.
var (
	refusalBody    = []byte("Retry later\n")
	refusalHeaders = [][2]string{
		{"Cache-Control", "no-store"},
		{"Content-Type", "text/plain"},
		{"Ratelimit", `"req/ip";r=0;t=24`},
		{"Ratelimit-Policy", `"req/ip";q=1;w=60`},
		{"Retry-After", "24"},
	}
)

// Timeouts as the bare net/http server's; fasthttp has no header-only read
// timeout, so its ReadTimeout (the whole request, reset per request) stands in.
const (
	readTimeout = 10 * time.Second
	idleTimeout = time.Minute
)

func main() {
	mode := flag.String("mode", "", "nethttp-429, fasthttp-429 or fasthttp-proxy")
	listen := flag.String("listen", "127.0.0.1:19181", "address to listen on (loopback only)")
	upstream := flag.String("upstream", "", "fasthttp-proxy: the upstream's host:port (loopback only)")
	flag.Parse()
	if !loopback(*listen) {
		fail("-listen must be a loopback address with a port, got %q", *listen)
	}
	switch *mode {
	case "nethttp-429":
		log.Fatal(netHTTP429(*listen).ListenAndServe())
	case "fasthttp-429":
		log.Fatal(fastHTTPServer(fastHTTP429).ListenAndServe(*listen))
	case "fasthttp-proxy":
		if !loopback(*upstream) {
			fail("-upstream must be a loopback host:port, got %q", *upstream)
		}
		log.Fatal(fastHTTPServer(fastHTTPProxy(*upstream)).ListenAndServe(*listen))
	default:
		fail("unknown -mode %q", *mode)
	}
}

func loopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "floor: "+format+"\n", args...)
	os.Exit(2)
}

// netHTTP429 is bench/profile.md's bare net/http 429 server, unchanged.
func netHTTP429(addr string) *http.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["Cache-Control"] = []string{"no-store"}
		hd["Content-Type"] = []string{"text/plain"}
		hd["Ratelimit"] = []string{`"req/ip";r=0;t=24`}
		hd["Ratelimit-Policy"] = []string{`"req/ip";q=1;w=60`}
		hd["Retry-After"] = []string{"24"}
		hd["Content-Length"] = []string{"12"}
		w.WriteHeader(429)
		w.Write(refusalBody)
	})
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: readTimeout, IdleTimeout: idleTimeout}
}

// fastHTTPServer: no Server header (net/http sends none), header names and
// paths passed on as they came, as a proxy should.
func fastHTTPServer(h fasthttp.RequestHandler) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                       h,
		ReadTimeout:                   readTimeout,
		IdleTimeout:                   idleTimeout,
		NoDefaultServerHeader:         true,
		DisableHeaderNamesNormalizing: true,
	}
}

var refusalHeaderBytes = func() [][2][]byte {
	kv := make([][2][]byte, len(refusalHeaders))
	for i, h := range refusalHeaders {
		kv[i] = [2][]byte{[]byte(h[0]), []byte(h[1])}
	}
	return kv
}()

// fastHTTP429 writes the same status, headers and body as netHTTP429
// (fasthttp adds Content-Length from the body).
func fastHTTP429(ctx *fasthttp.RequestCtx) {
	ctx.SetStatusCode(429)
	for _, kv := range refusalHeaderBytes {
		ctx.Response.Header.SetCanonical(kv[0], kv[1])
	}
	ctx.SetBody(refusalBody)
}

// hopByHop are the headers a proxy must not forward (RFC 9110 7.6.1), as
// httputil.ReverseProxy removes them.
var hopByHop = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// fastHTTPProxy forwards method, request URI, headers and body to upstream
// over kept-alive connections and copies the answer back: the work of
// bench/upstream -proxy (httputil.ReverseProxy with SetXForwarded) minus
// X-Forwarded-Host/-Proto, with no rules.
func fastHTTPProxy(upstream string) fasthttp.RequestHandler {
	client := &fasthttp.HostClient{
		Addr:                          upstream,
		MaxConns:                      1024, // as wootguard's MaxIdleConnsPerHost
		MaxIdleConnDuration:           90 * time.Second,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
	}
	return func(ctx *fasthttp.RequestCtx) {
		req, resp := &ctx.Request, &ctx.Response
		for _, h := range hopByHop {
			req.Header.Del(h)
		}
		if ip, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
			xff := ip.IP.String()
			if prior := req.Header.Peek("X-Forwarded-For"); len(prior) > 0 {
				xff = string(prior) + ", " + xff
			}
			req.Header.Set("X-Forwarded-For", xff)
		}
		if err := client.Do(req, resp); err != nil {
			resp.Reset()
			ctx.Error("bad gateway", fasthttp.StatusBadGateway)
			return
		}
		for _, h := range hopByHop {
			resp.Header.Del(h)
		}
	}
}
