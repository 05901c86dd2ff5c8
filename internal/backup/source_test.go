package backup

import (
	"context"
	"errors"
	neturl "net/url"
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/pgtest"
)

func TestSourceNeverHoldsThePassword(t *testing.T) {
	for conn, want := range map[string]string{
		"postgres://chatwoot:s3cret@db.example.com:6432/chatwoot_production?sslmode=require": "postgres://chatwoot@db.example.com:6432/chatwoot_production?sslmode=require",
		"postgresql://postgres:pw@[::1]/cw":                                                  "postgres://postgres@[::1]:5432/cw",
		"host=/var/run/postgresql user=chatwoot password=s3cret dbname=cw sslmode=disable":   "postgres://chatwoot@/cw?host=%2Fvar%2Frun%2Fpostgresql&port=5432&sslmode=disable",
	} {
		src, err := SourceOf(conn)
		if err != nil {
			t.Fatalf("%s: %v", conn, err)
		}
		if got := src.URL(); got != want || strings.Contains(got+src.String(), "s3cret") || strings.Contains(got, "pw") {
			t.Errorf("SourceOf(%q).URL() = %q, want %q", conn, got, want)
		}
	}
}

func TestCheckDatabaseURL(t *testing.T) {
	for conn, want := range map[string]string{
		"mysql://root@db/cw":         "wrong scheme",
		"postgres://u@h:notaport/db": "unreadable URL",
		"postgres://u@127.0.0.1/db":  "",
		"host=127.0.0.1 dbname=db":   "",
	} {
		err := CheckDatabaseURL(conn)
		if (want == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), want)) {
			t.Errorf("CheckDatabaseURL(%q) = %v, want %q", conn, err, want)
		}
	}
}

// Connection errors come in operator words first, the driver's text after.
func TestConnectionErrorsInOperatorWords(t *testing.T) {
	ctx := context.Background()
	_, err := connect(ctx, "postgres://u@127.0.0.1:1/db?sslmode=disable&connect_timeout=2")
	var ce *ConnError
	if !errors.As(err, &ce) || ce.Kind != "connection refused" || !strings.Contains(err.Error(), "(driver: ") {
		t.Errorf("port 1: %v", err)
	}
	url := pgtest.NewDB(t)
	u, _ := neturl.Parse(url)
	for _, tc := range []struct{ name, query, path, kind string }{
		{"database missing", "sslmode=disable", "/no_such_db_wg", "database missing"},
		{"TLS refused", "sslmode=require", u.Path, "TLS refused"},
	} {
		v := *u
		v.Path, v.RawQuery = tc.path, tc.query
		_, err := connect(ctx, v.String())
		if !errors.As(err, &ce) || ce.Kind != tc.kind || ce.Driver == nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
