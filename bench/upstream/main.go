// Command upstream is a stand-in for Chatwoot in bench/proxy.sh: a tiny
// HTTP server that answers every request with 200 and the same ~2 KB JSON
// body, shaped like GET /api/v1/accounts/1/conversations. It does no work
// per request, so a benchmark through it measures the proxy in front.
//
// With -proxy URL it is instead a bare net/http/httputil.ReverseProxy to
// URL, with the transport settings wootguard's gateway uses and no rules:
// the baseline that tells Go's own proxying cost from wootguard's.
//
//	go run ./bench/upstream -listen 127.0.0.1:18081
//	go run ./bench/upstream -listen 127.0.0.1:18086 -proxy http://127.0.0.1:18081
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18081", "address to listen on (loopback only)")
	proxyTo := flag.String("proxy", "", "be a plain reverse proxy to this URL instead")
	flag.Parse()
	host, _, err := net.SplitHostPort(*listen)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "upstream: -listen must be a loopback address with a port, got %q\n", *listen)
		os.Exit(2)
	}
	if *proxyTo != "" {
		u, err := url.Parse(*proxyTo)
		if err != nil || u.Host == "" {
			fmt.Fprintf(os.Stderr, "upstream: bad -proxy %q\n", *proxyTo)
			os.Exit(2)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 1024, 1024 // as wootguard's gateway
		tr.DisableCompression = true
		tr.Proxy = nil
		rp := &httputil.ReverseProxy{Transport: tr, Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.SetXForwarded()
		}}
		srv := &http.Server{Addr: *listen, Handler: rp, ReadHeaderTimeout: 10 * time.Second}
		log.Printf("upstream: plain reverse proxy on http://%s to %s", *listen, u)
		log.Fatal(srv.ListenAndServe())
	}
	body := conversationsBody()
	length := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["Content-Type"] = []string{"application/json; charset=utf-8"}
		hd["Content-Length"] = []string{length}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
	srv := &http.Server{Addr: *listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("upstream: %d-byte body on http://%s", len(body), *listen)
	log.Fatal(srv.ListenAndServe())
}

// conversationsBody builds a Chatwoot-like conversation list: meta counts
// and two conversations with their last message, about 2 KB of JSON.
func conversationsBody() []byte {
	conv := func(id int, name, email, text string) map[string]any {
		return map[string]any{
			"id": id, "account_id": 1, "inbox_id": 3, "status": "open", "priority": nil,
			"uuid":  fmt.Sprintf("8f0c1a3e-5b7d-4c21-9e6a-0d3b2c1a%04d", id),
			"muted": false, "can_reply": true, "unread_count": 2,
			"agent_last_seen_at": 1763900000, "contact_last_seen_at": 1763900100,
			"timestamp": 1763900200, "created_at": 1763800000, "updated_at": 1763900200.52,
			"labels":            []string{"billing", "priority-customer"},
			"custom_attributes": map[string]any{},
			"meta": map[string]any{
				"sender":   map[string]any{"id": id + 100, "name": name, "email": email, "phone_number": nil, "thumbnail": "", "type": "contact", "identifier": nil, "availability_status": "offline"},
				"assignee": map[string]any{"id": 1, "name": "Agent Smith", "available_name": "Agent Smith", "email": "agent@example.com", "role": "agent", "thumbnail": ""},
				"channel":  "Channel::WebWidget", "hmac_verified": false,
			},
			"last_non_activity_message": map[string]any{
				"id": id * 10, "content": text, "message_type": 0, "content_type": "text", "status": "sent",
				"created_at": 1763900200, "private": false, "source_id": nil, "sender_type": "Contact", "sender_id": id + 100,
				"conversation_id": id, "inbox_id": 3, "account_id": 1, "content_attributes": map[string]any{},
			},
		}
	}
	v := map[string]any{
		"data": map[string]any{
			"meta": map[string]any{"mine_count": 2, "assigned_count": 2, "unassigned_count": 0, "all_count": 2},
			"payload": []any{
				conv(41, "Jane Doe", "jane@example.com", "Hi, my invoice for November shows the wrong plan. Can you check?"),
				conv(42, "Ravi Kumar", "ravi@example.org", "The widget stopped loading on our checkout page since this morning."),
			},
		},
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
