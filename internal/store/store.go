// Package store defines how the rule engine talks to its counter storage.
//
// A request is decided by one Program: an ordered list of operations with
// Rack::Attack's short-circuit rules built in (a ban or an exceeded
// throttle stops the program). Running the whole program inside the store
// lets a remote store (Redis, with a Lua script) answer all of a request's
// counters in one round trip while keeping Rack::Attack's exact semantics:
// throttles after the first exceeded one are not incremented.
package store

import (
	"context"
	"time"
)

// OpKind says what one operation does.
type OpKind uint8

const (
	// OpBanCheck reads BanKey; if a ban is set the program stops with
	// StopBanned and no later operation runs (a banned request is not
	// counted anywhere). Without Enforce (dry-run) a ban sets its count to
	// 1 and the program goes on, skipping the OpFailure with the same
	// BanKey (an enforced ban would not be counted or extended either).
	OpBanCheck OpKind = iota + 1
	// OpFailure increments Key (TTL), and when the count reaches Limit
	// (count >= Limit, Fail2Ban's maxretry) sets BanKey for BanTTL. If
	// StopOnCount is set the program then stops with StopFailed (Fail2Ban
	// blocks the counted request itself; Allow2Ban does not).
	OpFailure
	// OpThrottle increments Key (TTL); when the new count exceeds Limit
	// (count > Limit) and Enforce is set, the program stops with
	// StopThrottled.
	OpThrottle
	// OpCount increments Key (TTL) and never stops (tracks).
	OpCount
	// OpTrustCheck reads Key. If it is set (not expired), Counts[i] is 1
	// and every LATER operation of the program whose BanKey equals this
	// op's BanKey is skipped: not run, count 0, never a stop (the engine
	// emits a rule's operations one after another, so a store only needs to
	// remember the last trusted BanKey). Without a trust key set it does
	// nothing. Used by Fail2Ban rules with trusted_for: a (key, client
	// address) pair that succeeded before is neither banned nor counted.
	OpTrustCheck
	// OpTrustSet sets Key (value 1) with lifetime TTL, replacing any
	// earlier lifetime, and never stops; Counts[i] is 1. It runs after the
	// upstream answered, as a one-operation program through Run.
	OpTrustSet
)

// Op is one operation. Keys are complete store keys built by the engine.
type Op struct {
	Kind        OpKind
	Key         string
	TTL         time.Duration // counter lifetime: to the end of its window, plus one second
	Limit       int64
	BanKey      string
	BanTTL      time.Duration
	StopOnCount bool // OpFailure: stop after counting (Fail2Ban)
	Enforce     bool // OpBanCheck, OpThrottle: stop on a hit (false = dry-run)

	// Ban escalation (OpFailure; fail2ban's bantime.increment). When
	// HistoryKey is set and the failure sets a ban: increment HistoryKey and
	// set its lifetime to HistoryTTL from now (a key "remembers" its bans
	// for HistoryTTL after the last one); with n the new value, the ban
	// lasts min(BanTTL × BanFactor^(n-1), BanMaxTTL) instead of BanTTL
	// (BanFactor < 1 is read as 1; BanMaxTTL 0 or above ten years is read
	// as ten years). Computed in
	// floating point and capped before conversion, so it cannot overflow.
	// Without HistoryKey the ban lasts BanTTL, as before.
	HistoryKey string
	HistoryTTL time.Duration
	BanFactor  float64
	BanMaxTTL  time.Duration
}

// StopReason says why a program ended early.
type StopReason uint8

const (
	Completed     StopReason = iota // every operation ran
	StopBanned                      // an OpBanCheck found a ban
	StopFailed                      // an OpFailure with StopOnCount counted
	StopThrottled                   // an OpThrottle exceeded its limit
)

// Result is what a store returns for one program.
type Result struct {
	// Counts holds the new value of each counting operation that ran, in
	// program order; 0 for OpBanCheck and for operations that did not run.
	// The caller provides the slice (len >= len(program)) so that a run
	// allocates nothing.
	Counts []int64
	// Banned is set for each OpFailure that set its ban.
	Banned []bool
	// Stop and StopAt say whether and where the program stopped.
	Stop   StopReason
	StopAt int
	// BanTTL is the remaining ban time when Stop == StopBanned (0 if the
	// store cannot tell).
	BanTTL time.Duration
}

// Store runs programs against counters that expire.
//
// Implementations must be safe for concurrent use. Each operation must be
// atomic on its own key; the program as a whole need not be atomic
// (Rack::Attack's is not either).
type Store interface {
	Run(ctx context.Context, now time.Time, program []Op, res *Result) error
	// Fail runs one OpFailure outside a program: response-based Fail2Ban
	// counts a failure after the upstream has answered. It returns the new
	// count and whether the ban was set.
	Fail(ctx context.Context, now time.Time, op Op) (count int64, banned bool, err error)
	// Reset deletes every key that starts with prefix (Rack::Attack's
	// reset!, and per-key resets from the admin API).
	Reset(ctx context.Context, prefix string) (deleted int, err error)
	Close() error
}
