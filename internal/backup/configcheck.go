package backup

import (
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/wootguard/wootguard/internal/config"
)

// ConfigProblems reports the values of updates.backup that 'backup' would
// refuse, for check-config.
func (c Config) ConfigProblems() []config.Problem {
	var ps []config.Problem
	if c.DatabaseURL != "" {
		if err := CheckDatabaseURL(c.DatabaseURL); err != nil {
			ps = append(ps, config.Problemf("database_url", "%v", err))
		}
	}
	r := c.Retention
	for _, f := range []struct {
		key string
		v   int
	}{{"keep_last", r.KeepLast}, {"keep_days", r.KeepDays}, {"keep_verified_min", r.KeepVerifiedMin}} {
		if f.v < 0 {
			ps = append(ps, config.Problemf("retention."+f.key, "retention.%s must not be negative (got %d)", f.key, f.v))
		}
	}
	for i, p := range c.ToolPrefix {
		if strings.TrimSpace(p) == "" {
			ps = append(ps, config.Problemf("tool_prefix", "tool_prefix[%d] is empty", i))
		}
	}
	return ps
}

// CheckDatabaseURL refuses what pg_dump and the driver would refuse: a URL
// of another scheme (mysql://...) or a connection string that does not
// parse. A keyword=value string ("host=... dbname=...") is fine.
func CheckDatabaseURL(conn string) error {
	if i := strings.Index(conn, "://"); i >= 0 && !isURL(conn) {
		return &ConnError{Kind: "wrong scheme", Hint: "database_url must start with postgres:// or postgresql:// (got " + conn[:i+3] + "...)"}
	}
	if _, err := pgx.ParseConfig(conn); err != nil {
		return &ConnError{Kind: "unreadable URL", Hint: "database_url " + redact(conn) + " does not parse", Driver: err}
	}
	return nil
}
