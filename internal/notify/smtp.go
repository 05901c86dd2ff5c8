package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// SMTP sends each event as a plain-text email. It upgrades with STARTTLS
// whenever the server offers it and authenticates (PLAIN) when Username is
// set; net/smtp refuses to send a password unencrypted except to
// localhost. Port 465 means implicit TLS.
type SMTP struct {
	Host     string
	Port     int // default 587
	Username string
	Password string
	From     string
	To       []string
	// TLSConfig overrides the TLS settings (tests trust their own CA);
	// nil verifies the server certificate against Host.
	TLSConfig *tls.Config
	Timeout   time.Duration // whole conversation; default 30 s
}

// Send delivers e by email.
func (s *SMTP) Send(ctx context.Context, e Event) error {
	port := s.Port
	if port == 0 {
		port = 587
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(s.Host, strconv.Itoa(port))
	tlsConfig := s.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: s.Host}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp %s: cannot connect: %v", addr, err)
	}
	defer conn.Close()
	dl, _ := ctx.Deadline()
	conn.SetDeadline(dl)
	// Closing the connection on cancel unblocks any pending read.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if port == 465 {
		conn = tls.Client(conn, tlsConfig)
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		return fmt.Errorf("smtp %s: greeting: %v", addr, err)
	}
	defer c.Close()
	if err := c.Hello("wootguard"); err != nil {
		return fmt.Errorf("smtp %s: EHLO: %v", addr, err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && port != 465 {
		if err := c.StartTLS(tlsConfig); err != nil {
			return fmt.Errorf("smtp %s: STARTTLS: %v", addr, err)
		}
	}
	if s.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("smtp %s: a username is configured but the server offers no AUTH", addr)
		}
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return fmt.Errorf("smtp %s: login as %s: %v", addr, s.Username, err)
		}
	}
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM %s: %v", addr, s.From, err)
	}
	for _, to := range s.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("smtp %s: RCPT TO %s: %v", addr, to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: DATA: %v", addr, err)
	}
	if _, err := w.Write(s.message(e)); err != nil {
		return fmt.Errorf("smtp %s: sending message: %v", addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: message refused: %v", addr, err)
	}
	return c.Quit()
}

func (s *SMTP) message(e Event) []byte {
	var b bytes.Buffer
	subject := "[wootguard] " + e.Title
	if e.Severity == "critical" {
		subject = "[wootguard] CRITICAL: " + e.Title
	}
	date := e.Time
	if date.IsZero() {
		date = time.Now()
	}
	header := func(k, v string) {
		// CR/LF in a value would start a new header.
		v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	header("From", s.From)
	header("To", strings.Join(s.To, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Date", date.Format(time.RFC1123Z))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("X-Wootguard-Event", e.Kind)
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(PlainText(e), "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}
