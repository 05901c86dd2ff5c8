package store

import (
	"context"
	"time"
)

// Inspector is implemented by stores that can show and change their state
// for operators: the admin API (bans, unban, reset) and explain (a
// decision computed without counting). Every built-in store implements
// it; callers type-assert and say "not supported" otherwise.
type Inspector interface {
	// Peek evaluates program as Run would at now but changes nothing:
	// each count is the value Run would have returned (the current count
	// plus one for a counting operation), and Stop/StopAt say where Run
	// would have stopped.
	Peek(ctx context.Context, now time.Time, program []Op, res *Result) error
	// Bans lists the bans in force at now whose keys start with prefix.
	Bans(ctx context.Context, now time.Time, prefix string) ([]Ban, error)
	// Delete removes the given keys (a ban, a counter) and returns how many
	// existed.
	Delete(ctx context.Context, keys ...string) (int, error)
}

// Ban is one ban in force.
type Ban struct {
	Key     string    // the complete store key (prefix:fail2ban:ban:RULE:DISCRIMINATOR)
	Since   time.Time // when it started; zero when the store cannot tell
	Expires time.Time
}

// Stats is what a store says about itself, for metrics and health.
type Stats struct {
	Kind       string // "memory", "redis"
	Keys       int64  // keys held (-1 when unknown)
	Evictions  int64  // live keys dropped to stay within a bound, since start
	RoundTrips int64  // calls to a remote store (Redis: script calls, one per decision), since start
	Pipelines  int64  // network round trips carrying those calls (concurrent calls share one), since start
	Errors     int64  // failed calls, since start
	Fallbacks  int64  // decisions taken by the failure policy instead of the store, since start
	Healthy    bool   // the store answered its last call
	Detail     string // a short human-readable state ("connected to 127.0.0.1:6379", "falling back: ...")
}

// StatsReporter is implemented by stores that report Stats.
type StatsReporter interface {
	Stats() Stats
}
