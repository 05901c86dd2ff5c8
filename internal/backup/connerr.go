package backup

import (
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ConnError is a database connection problem said in operator words
// (Kind and Hint), with the driver's own text after it for the details.
type ConnError struct {
	Kind   string // "wrong scheme", "TLS refused", "authentication failed", "database missing", ...
	Hint   string // what to check, naming the (password-less) URL
	Driver error  // the driver's error; nil when found before connecting
}

func (e *ConnError) Error() string {
	s := e.Kind + ": " + e.Hint
	if e.Driver != nil {
		s += " (driver: " + e.Driver.Error() + ")"
	}
	return s
}

func (e *ConnError) Unwrap() error { return e.Driver }

// explainConn translates a failed connection to conn into a ConnError.
func explainConn(conn string, err error) error {
	if err == nil {
		return nil
	}
	where := redact(conn)
	ce := &ConnError{Kind: "cannot connect", Hint: "check host, port and that PostgreSQL runs, for " + where, Driver: err}
	var pg *pgconn.PgError
	var dnsErr *net.DNSError
	msg := err.Error()
	switch {
	case errors.As(err, &pg) && (pg.Code == "28P01" || pg.Code == "28000"):
		ce.Kind, ce.Hint = "authentication failed", "the user or password in "+where+" is wrong, or pg_hba.conf does not allow this host"
	case errors.As(err, &pg) && pg.Code == "3D000":
		ce.Kind, ce.Hint = "database missing", "the database named in "+where+" does not exist on that server"
	case strings.Contains(msg, "server refused TLS connection") || strings.Contains(msg, "SSL is not enabled"):
		ce.Kind, ce.Hint = "TLS refused", "the server does not offer TLS: add ?sslmode=disable (or prefer) to "+where+" if the network is trusted"
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:"):
		ce.Kind, ce.Hint = "TLS failed", "the server's certificate was not accepted for "+where+" (sslmode, sslrootcert)"
	case errors.As(err, &dnsErr):
		ce.Kind, ce.Hint = "host not found", "the host name in "+where+" does not resolve"
	case strings.Contains(msg, "connection refused"):
		ce.Kind, ce.Hint = "connection refused", "nothing listens at the host and port of "+where+" (is PostgreSQL running, is the port published?)"
	case strings.Contains(msg, "timeout") || strings.Contains(msg, "deadline exceeded"):
		ce.Kind, ce.Hint = "no answer", "the server at "+where+" did not answer in time (firewall?)"
	}
	return ce
}
