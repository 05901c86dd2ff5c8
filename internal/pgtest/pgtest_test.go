package pgtest

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestNewDBIsFreshAndDroppedAfterTheTest(t *testing.T) {
	server := ServerURL(t)
	var name string
	var session *pgx.Conn // left open past the subtest: the drop must end it
	defer func() {
		if session != nil {
			session.Close(context.Background())
		}
	}()
	t.Run("uses a database", func(t *testing.T) {
		dbURL := NewDB(t)
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(u.Path, "/")
		if !strings.HasPrefix(name, "wgtest_testnewdbisfresh") || len(name) > 63 {
			t.Errorf("database name %q", name)
		}
		c, err := pgx.Connect(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		var tables int
		if err := c.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 0 {
			t.Errorf("fresh database has %d tables (%v)", tables, err)
		}
		session = c
		if _, err := c.Exec(context.Background(), `CREATE TABLE accounts (id int)`); err != nil {
			t.Fatal(err)
		}
	})
	c, err := pgx.Connect(context.Background(), server)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var exists bool
	if err := c.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil || exists {
		t.Errorf("database %s still exists after the test (%v)", name, err)
	}
}
