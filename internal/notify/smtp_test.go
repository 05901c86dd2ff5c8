package notify

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
)

// received is one message the test SMTP server accepted.
type received struct {
	from   string
	to     []string
	data   string
	tls    bool
	authed string
}

// smtpServer is a minimal SMTP server on 127.0.0.1: EHLO, optional
// STARTTLS, optional AUTH PLAIN, MAIL, RCPT, DATA, QUIT.
type smtpServer struct {
	ln       net.Listener
	tlsConf  *tls.Config // nil: no STARTTLS offered
	user     string      // "": no AUTH offered
	password string
	got      chan received
}

func startSMTP(t *testing.T, withTLS bool, user, password string) (*smtpServer, *tls.Config) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, user: user, password: password, got: make(chan received, 10)}
	var client *tls.Config
	if withTLS {
		// Borrow httptest's certificate (valid for 127.0.0.1).
		hs := httptest.NewTLSServer(nil)
		cert := hs.TLS.Certificates[0]
		pool := x509.NewCertPool()
		pool.AddCert(hs.Certificate())
		hs.Close()
		s.tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}}
		client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	}
	go s.serve()
	t.Cleanup(func() { ln.Close() })
	return s, client
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.session(c)
	}
}

func (s *smtpServer) session(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 test ESMTP")
	var m received
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			exts := []string{"250-test"}
			if s.tlsConf != nil && !m.tls {
				exts = append(exts, "250-STARTTLS")
			}
			if s.user != "" {
				exts = append(exts, "250-AUTH PLAIN")
			}
			exts = append(exts, "250 8BITMIME")
			for _, e := range exts {
				tp.PrintfLine("%s", e)
			}
		case "STARTTLS":
			tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.tlsConf)
			if tc.Handshake() != nil {
				return
			}
			c, m.tls = tc, true
			tp = textproto.NewConn(c)
		case "AUTH":
			_, b64, _ := strings.Cut(arg, " ")
			raw, _ := base64.StdEncoding.DecodeString(b64)
			parts := strings.Split(string(raw), "\x00")
			if len(parts) == 3 && parts[1] == s.user && parts[2] == s.password {
				m.authed = parts[1]
				tp.PrintfLine("235 ok")
			} else {
				tp.PrintfLine("535 bad credentials")
			}
		case "MAIL":
			if s.user != "" && m.authed == "" {
				tp.PrintfLine("530 authentication required")
				continue
			}
			m.from = strings.Trim(strings.Fields(strings.TrimPrefix(arg, "FROM:"))[0], "<>")
			tp.PrintfLine("250 ok")
		case "RCPT":
			m.to = append(m.to, strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>"))
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 go")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m.data = string(data)
			tp.PrintfLine("250 queued")
			s.got <- m
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("502 unknown")
		}
	}
}

func TestSMTPDelivery(t *testing.T) {
	e := Event{Kind: "advisory.new", Severity: "critical", Title: "critical advisory GHSA-g8f9 affects Chatwoot 3.0.0 — ünïcode",
		Text: "Blind SQL injection", Fields: map[string]string{"fixed_in": "3.16.0"}}
	tests := []struct {
		name      string
		tls       bool
		user      string
		sendUser  string
		sendPass  string
		wantTLS   bool
		wantErr   string
		wantAuthd string
	}{
		{name: "plain, no auth", wantTLS: false},
		{name: "STARTTLS offered and used", tls: true, wantTLS: true},
		{name: "STARTTLS and auth", tls: true, user: "ops", sendUser: "ops", sendPass: "pw", wantTLS: true, wantAuthd: "ops"},
		{name: "wrong password", tls: true, user: "ops", sendUser: "ops", sendPass: "nope", wantErr: "535"},
		{name: "auth wanted, not offered", sendUser: "ops", sendPass: "pw", wantErr: "offers no AUTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, clientTLS := startSMTP(t, tt.tls, tt.user, "pw")
			s := &SMTP{Host: "127.0.0.1", Port: srv.port(), Username: tt.sendUser, Password: tt.sendPass,
				From: "wootguard@example.com", To: []string{"ops@example.com", "cto@example.com"}, TLSConfig: clientTLS}
			err := s.Send(context.Background(), e)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := <-srv.got
			if m.tls != tt.wantTLS || m.authed != tt.wantAuthd || m.from != "wootguard@example.com" || strings.Join(m.to, ",") != "ops@example.com,cto@example.com" {
				t.Errorf("envelope: %+v", m)
			}
			msg, err := textproto.NewReader(bufio.NewReader(strings.NewReader(m.data))).ReadMIMEHeader()
			if err != nil {
				t.Fatal(err)
			}
			if subj := msg.Get("Subject"); !strings.HasPrefix(subj, "=?utf-8?q?") {
				t.Errorf("subject not encoded: %q", subj)
			}
			_, body, _ := strings.Cut(m.data, "\n\n") // ReadDotBytes turned CRLF into LF
			decoded, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
			if !strings.Contains(string(decoded), "Blind SQL injection") || !strings.Contains(string(decoded), "fixed_in: 3.16.0") {
				t.Errorf("body: %q", decoded)
			}
		})
	}
}

func TestSMTPConnectionRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &SMTP{Host: "127.0.0.1", Port: port, From: "a@example.com", To: []string{"b@example.com"}}
	if err := s.Send(context.Background(), Event{Title: "x"}); err == nil || !strings.Contains(err.Error(), "cannot connect") {
		t.Errorf("error = %v", err)
	}
}
