// Package pgtest gives a test its own empty PostgreSQL database.
//
// The server is the one named by WOOTGUARD_TEST_DATABASE_URL (scripts/test
// starts one and sets it). When the variable is empty the test is skipped,
// unless CI is set, in which case it fails: CI must not silently skip.
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.NewDB(t) // postgres://.../wgtest_testsomething_1a2b3c
//		...
//	}
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the server the tests may use (superuser, trust auth).
const EnvVar = "WOOTGUARD_TEST_DATABASE_URL"

// ServerURL returns the test server's URL, skipping (or, under CI,
// failing) the test when there is none.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set (CI must run the PostgreSQL tests; use ./scripts/test)", EnvVar)
		}
		t.Skipf("%s not set: run ./scripts/test to test against PostgreSQL", EnvVar)
	}
	return u
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

// NewDB creates a fresh database named after the test and returns its URL;
// the database is dropped (sessions still in it are ended) when the test
// finishes.
func NewDB(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	name := unsafeChars.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	b := make([]byte, 3)
	rand.Read(b)
	name = "wgtest_" + name + "_" + hex.EncodeToString(b)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", u.Redacted(), err)
	}
	defer admin.Close(context.Background())
	quoted := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+quoted); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
