package gateway_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
)

// The https case of TestUpstreamUnsolicitedBytesNotServedToNextClient: a
// forged answer in a TLS record of its own, sent right behind the real
// one, is taken off the socket by crypto/tls with it. The TCP peek then
// sees nothing and the reader holds nothing; the pool must still not hand
// that connection to the next client.
func TestUpstreamTLSRecordAfterAnswerNotServedToNextClient(t *testing.T) {
	const forged = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret"
	// httptest's certificate, for a raw TLS upstream of our own.
	certSrv := httptest.NewTLSServer(http.NotFoundHandler())
	cert, roots := certSrv.TLS.Certificates[0], x509.NewCertPool()
	roots.AddCert(certSrv.Certificate())
	certSrv.Close()

	for _, method := range []string{"GET", "HEAD"} {
		t.Run(method, func(t *testing.T) {
			answer := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			if method == "HEAD" {
				answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
			}
			upURL := rawUpstream(t, func(_ int, raw net.Conn) {
				c := tls.Server(raw, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
				serveForging(c, func() {
					io.WriteString(c, answer) // one record
					io.WriteString(c, forged) // another, right behind it
				})
			})
			upURL = strings.Replace(upURL, "http://", "https://", 1)
			rig := newUpstreamRig(t, upURL, func(o *gateway.Options) {
				o.UpstreamTLS = &tls.Config{RootCAs: roots, ServerName: "example.com"}
			})
			c := client()
			req, _ := http.NewRequest(method, rig.srv.URL+"/attacker", nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			time.Sleep(50 * time.Millisecond)
			victim := client()
			for i := 0; i < 2; i++ {
				status, body := getBody(t, victim, rig.srv.URL+"/victim")
				if status != 200 || body != "victim-data" {
					t.Fatalf("victim request %d got %d %q, want 200 \"victim-data\"", i, status, body)
				}
			}
		})
	}
}
