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
	// New kinds go here, at the end (their numbers are part of the Redis
	// script's encoding, see internal/store/redis/script.lua).
)

// Algorithm says how an OpThrottle counts. The zero value is Rack::Attack's
// fixed window.
type Algorithm uint8

const (
	// FixedWindow counts requests in epoch-aligned windows of Period
	// seconds (Key holds the window number at WindowAt).
	FixedWindow Algorithm = iota
	// SlidingWindow weighs the previous window's count by the part of it
	// still inside the last Period seconds and adds the current count:
	// no 2×Limit burst across a window edge. Count is the weighted count
	// rounded up; requests over the limit still count (as in a fixed
	// window), so a client that keeps hammering stays throttled.
	SlidingWindow
	// GCRA is the generic cell rate algorithm: Limit is the burst, one
	// request every Period/Rate seconds refills it. Key holds the
	// theoretical arrival time; refused requests are not counted. Count is
	// how many of the burst's cells are in use after this request.
	GCRA
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
	// Period is the window length in seconds of a counting operation
	// (OpFailure, OpThrottle, OpCount); 0 when unknown. WindowAt is the
	// byte offset in Key of the window number (Key[WindowAt:] starts with
	// the decimal unix/Period and a ':'); 0 when Key has none. A store
	// with its own clock (Redis TIME) uses both to put the count in its
	// window, not the caller's, so gateways with skewed clocks agree.
	Period   int64
	WindowAt int
	// Algorithm and Rate configure OpThrottle's counting; Rate is the
	// GCRA's requests per Period (Limit is then its burst).
	Algorithm Algorithm
	Rate      int64
	// Class ranks the key for eviction when a bounded store is full:
	// lower classes go first (see Class). Group names the rule the key
	// belongs to (its counter namespace), for per-rule eviction quotas.
	Class Class
	Group string
}

// Class ranks keys for eviction. A spray of new keys must not push out
// the counters that protect logins, nor bans: a bounded store evicts from
// the lowest class present, and within it from the rule holding the most
// keys, its least recently used key first.
type Class uint8

const (
	ClassObserve  Class = iota // tracks, dry-run rules
	ClassThrottle              // enforced throttles
	ClassSecurity              // enforced Fail2Ban/Allow2Ban counters, login throttles
	ClassBan                   // bans: evicted last
)

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
	// Now is the store's clock reading the program ran at (Redis TIME),
	// zero when the store used the caller's now.
	Now time.Time
	// Reset, when the caller provides it (len >= len(program)), receives
	// for each OpThrottle that ran the time until the client may send
	// again when it was over the limit, and otherwise until its quota is
	// whole again; 0 means "the end of the fixed window" (the caller
	// computes it).
	Reset []time.Duration
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
