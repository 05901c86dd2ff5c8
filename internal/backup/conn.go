package backup

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// DatabaseName returns the database a connection string points at,
// with libpq's defaults applied (no dbname = the user name).
func DatabaseName(conn string) (string, error) {
	if strings.TrimSpace(conn) == "" {
		return "", errors.New("no database URL: pass --database-url, or set DATABASE_URL or POSTGRES_HOST/POSTGRES_DATABASE")
	}
	if err := CheckDatabaseURL(conn); err != nil {
		return "", err
	}
	cfg, err := pgx.ParseConfig(conn)
	if err != nil {
		return "", fmt.Errorf("database URL %q: %v", redact(conn), err)
	}
	if cfg.Database == "" {
		return "", fmt.Errorf("database URL %q names no database", redact(conn))
	}
	return cfg.Database, nil
}

func isURL(conn string) bool {
	return strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://")
}

// withDatabase returns conn pointing at database name instead.
func withDatabase(conn, name string) (string, error) {
	if isURL(conn) {
		u, err := url.Parse(conn)
		if err != nil {
			return "", fmt.Errorf("database URL %q: %v", redact(conn), err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		q := u.Query()
		if q.Has("dbname") {
			q.Del("dbname")
			u.RawQuery = q.Encode()
		}
		return u.String(), nil
	}
	// keyword=value form: a later keyword overrides an earlier one.
	esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(name)
	return conn + " dbname='" + esc + "'", nil
}

var dsnPassword = regexp.MustCompile(`(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redact hides the password of a connection string for messages.
func redact(conn string) string {
	if isURL(conn) {
		if u, err := url.Parse(conn); err == nil {
			return u.Redacted()
		}
		return "postgres://(unparsable URL)"
	}
	return dsnPassword.ReplaceAllString(conn, "${1}xxxxx")
}

// password returns the password in conn, "" if none.
func password(conn string) string {
	cfg, err := pgx.ParseConfig(conn)
	if err != nil {
		return ""
	}
	return cfg.Password
}

// connect opens a session whose text output of rows does not depend on
// server or database settings, so checksums are comparable across
// databases and servers.
func connect(ctx context.Context, conn string) (*pgx.Conn, error) {
	c, err := pgx.Connect(ctx, conn)
	if err != nil {
		return nil, explainConn(conn, err)
	}
	_, err = c.Exec(ctx, `SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, MDY';
		SET IntervalStyle TO 'postgres'; SET extra_float_digits TO 1;
		SET bytea_output TO 'hex'; SET lc_monetary TO 'C'`)
	if err != nil {
		c.Close(context.Background())
		return nil, fmt.Errorf("prepare session on %s: %w", redact(conn), err)
	}
	return c, nil
}

// adminConnect connects to a maintenance database of the server conn
// points at ("postgres", else "template1"): CREATE/DROP/RENAME DATABASE
// cannot run while connected to the database concerned, so the database
// conn names itself is never used.
func adminConnect(ctx context.Context, conn string) (*pgx.Conn, error) {
	target, err := DatabaseName(conn)
	if err != nil {
		return nil, err
	}
	var firstErr error
	for _, db := range []string{"postgres", "template1"} {
		if db == target {
			continue
		}
		c, err := withDatabase(conn, db)
		if err != nil {
			return nil, err
		}
		pc, err := pgx.Connect(ctx, c)
		if err == nil {
			return pc, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("connect to the maintenance database (postgres or template1): %w", explainConn(conn, firstErr))
}

func ident(parts ...string) string { return pgx.Identifier(parts).Sanitize() }

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
