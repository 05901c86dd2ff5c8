// Package redis is the shared counter store: every gateway pointed at one
// Redis (single server, Sentinel or Cluster) sees the same counters and
// bans. A request's whole store program runs as one Lua script (one round
// trip, EVALSHA with an EVAL fallback on NOSCRIPT), with the time taken
// from Redis TIME so gateways with skewed clocks agree on windows.
//
// When Redis is down, slow or answering errors, the failure policy
// decides (OnError): allow, deny (503), or local (this instance's bounded
// memory store). A circuit breaker (open after 3 failed round trips in a row)
// stops calling a failed Redis until a background probe sees it answer
// writes again; each transition is logged once. Concurrent requests' calls
// share network round trips (batch.go).
package redis

import (
	"context"
	"crypto/sha1"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wootguard/wootguard/internal/store"
)

//go:embed script.lua
var scriptSource string

var scriptSHA = func() string {
	h := sha1.Sum([]byte(scriptSource))
	return hex.EncodeToString(h[:])
}()

// Failure policies (store.on_error).
const (
	OnErrorLocal = "local" // decide with this instance's memory store
	OnErrorAllow = "allow" // let the request through uncounted
	OnErrorDeny  = "deny"  // answer 503 with Retry-After
)

// Defaults.
const (
	DefaultTimeout  = 50 * time.Millisecond
	DefaultPrefix   = "wootguard"
	defaultCooldown = 500 * time.Millisecond
)

// Options configures a Store.
type Options struct {
	Client goredis.UniversalClient // required: see NewClient
	Prefix string                  // key prefix and hash tag (default "wootguard")
	// Timeout bounds each call (default 50ms).
	Timeout time.Duration
	// OnError is the failure policy (default local); Local is the store
	// used by OnErrorLocal (required then).
	OnError string
	Local   store.Store
	// CallerClock makes the script use the caller's now instead of Redis
	// TIME: for tests that inject a clock, never in production.
	CallerClock bool
	// ProbeEvery is how often a failed Redis is probed (default 500ms).
	ProbeEvery time.Duration
	Logger     *slog.Logger
	// Detail names the server for Stats ("redis://127.0.0.1:6379/0").
	Detail string
	// Flushers is how many batches of calls may be on the wire
	// at once (default 2; negative: no batching, one round trip per call).
	Flushers int
}

// Store is a store.Store on Redis.
type Store struct {
	opts   Options
	client goredis.UniversalClient
	tag    string   // "{prefix}"
	batch  *batcher // nil without batching

	roundTrips atomic.Int64 // programs sent (one per decision)
	pipelines  atomic.Int64 // network round trips carrying them
	errs       atomic.Int64
	fallbacks  atomic.Int64

	mu        sync.Mutex
	failures  int  // consecutive failed calls
	open      bool // the breaker: Redis is not called while open
	lastErr   string
	probeStop chan struct{}
	probeDone chan struct{}
	closeOnce sync.Once
	secret    []byte // SharedSecret's answer, once read
}

var (
	_ store.Store         = (*Store)(nil)
	_ store.StatsReporter = (*Store)(nil)
	_ store.Inspector     = (*Store)(nil)
)

// UnavailableError is returned under OnErrorDeny while Redis cannot
// answer: the gateway answers 503 with Retry-After.
type UnavailableError struct {
	RetryAfter time.Duration
	Err        error
}

func (e *UnavailableError) Error() string {
	return "redis store unavailable (store.on_error: deny): " + e.Err.Error()
}
func (e *UnavailableError) Unwrap() error { return e.Err }

// StoreUnavailable marks the error for the gateway (store.Unavailable).
func (e *UnavailableError) StoreUnavailable() time.Duration { return e.RetryAfter }

// New returns a Store over o.Client. It does not call Redis: the first
// request (or the probe) finds out whether it answers.
func New(o Options) (*Store, error) {
	if o.Client == nil {
		return nil, errors.New("redis store: no client")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.OnError == "" {
		o.OnError = OnErrorLocal
	}
	switch o.OnError {
	case OnErrorLocal:
		if o.Local == nil {
			return nil, errors.New("redis store: on_error local needs a local store")
		}
	case OnErrorAllow, OnErrorDeny:
	default:
		return nil, fmt.Errorf("redis store: unknown on_error %q: want local, allow or deny", o.OnError)
	}
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = defaultCooldown
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Store{opts: o, client: o.Client, tag: "{" + o.Prefix + "}"}
	if o.Flushers == 0 {
		o.Flushers = defaultFlushers
	}
	if o.Flushers > 0 {
		s.batch = newBatcher(s.client, s.tag, o.Flushers, o.Timeout/4, &s.roundTrips, &s.pipelines, s.roundTrip)
	}
	// Load the script before the first request (so it costs one call,
	// not EVALSHA + EVAL), waiting briefly: a Redis that is down now is the
	// failure policy's business, and EVAL reloads it later.
	ctx, cancel := context.WithTimeout(context.Background(), max(4*o.Timeout, 200*time.Millisecond))
	defer cancel()
	if err := s.client.ScriptLoad(ctx, scriptSource).Err(); err != nil {
		o.Logger.Warn("redis store not answering at start: failure policy in force until it does",
			"err", err.Error(), "on_error", o.OnError, "server", o.Detail)
		// Open the breaker now, as after breakAfter failures: the store is
		// unhealthy from the start, and the probe logs when Redis answers.
		s.errs.Add(1)
		s.lastErr, s.open, s.failures = err.Error(), true, breakAfter
		s.probeStop, s.probeDone = make(chan struct{}), make(chan struct{})
		go s.probe(s.probeStop, s.probeDone)
	}
	return s, nil
}

// key maps an engine key ("wootguard:...") to its Redis key
// ("{wootguard}:..."): the braces make the prefix the Cluster hash tag.
func (s *Store) key(k string) string {
	if rest, ok := strings.CutPrefix(k, s.opts.Prefix); ok {
		return s.tag + rest
	}
	return s.tag + ":" + k
}

// unkey is key's inverse.
func (s *Store) unkey(rk string) string {
	if rest, ok := strings.CutPrefix(rk, s.tag); ok {
		return s.opts.Prefix + rest
	}
	return rk
}

// call runs the script once (plus EVAL when Redis lost it) within the
// per-call timeout, batched with concurrent calls (batch.go) unless
// batching is off. It reports each round trip's outcome to the breaker.
func (s *Store) call(ctx context.Context, args []any) (any, error) {
	tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if s.batch != nil {
		if !s.batch.tryDirect() {
			return s.batch.do(tctx, args, func() (any, error) { return s.callAlone(ctx, tctx, args) })
		}
		defer s.batch.release()
	}
	return s.callAlone(ctx, tctx, args)
}

// callAlone sends one program's script call by itself (tctx: ctx with the
// store timeout) and returns the program's reply.
func (s *Store) callAlone(ctx, tctx context.Context, args []any) (any, error) {
	keys := []string{s.tag}
	s.roundTrips.Add(1)
	s.pipelines.Add(1)
	v, err := s.client.EvalSha(tctx, scriptSHA, keys, args...).Result()
	if err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
		s.roundTrips.Add(1)
		s.pipelines.Add(1)
		v, err = s.client.Eval(tctx, scriptSource, keys, args...).Result()
	}
	if err == nil {
		v, err = programReply(v, 0)
	}
	if !clientGone(ctx) {
		s.roundTrip(err)
	}
	return v, err
}

// clientGone reports whether ctx was canceled by the caller (the client
// went away), which says nothing about Redis.
func clientGone(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// usable reports whether Redis may be called (the breaker is closed).
func (s *Store) usable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.open
}

// breakAfter is how many round trips in a row must fail before the
// breaker opens: one slow answer on a busy host only sends its own
// requests to the failure policy. A round trip is a call sent by itself or
// a batch of calls in one script call (it fails when any of its programs
// does).
const breakAfter = 3

// roundTrip records one round trip's outcome: nil resets the count of
// failures in a row; an error adds one and opens the breaker after
// breakAfter in a row.
func (s *Store) roundTrip(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.failures = 0
		return
	}
	s.lastErr = err.Error()
	if s.failures++; s.open || s.failures < breakAfter {
		return
	}
	s.open = true
	s.opts.Logger.Error("redis store failing: failure policy in force until it answers again",
		"err", err.Error(), "on_error", s.opts.OnError, "server", s.opts.Detail)
	s.probeStop, s.probeDone = make(chan struct{}), make(chan struct{})
	go s.probe(s.probeStop, s.probeDone)
}

// failedCall records a call that got no usable answer.
func (s *Store) failedCall(err error) {
	s.errs.Add(1)
	s.mu.Lock()
	s.lastErr = err.Error()
	s.mu.Unlock()
}

// probe writes a short-lived key until Redis takes it (a replica answers
// PING but refuses writes; a full Redis refuses them too), then closes
// the breaker.
func (s *Store) probe(stop, done chan struct{}) {
	defer close(done)
	tick := time.NewTicker(s.opts.ProbeEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), max(s.opts.Timeout, 250*time.Millisecond))
		err := s.client.Set(ctx, s.tag+":probe", "1", time.Second).Err()
		cancel()
		if err != nil {
			continue
		}
		s.mu.Lock()
		s.open, s.failures = false, 0
		s.mu.Unlock()
		s.opts.Logger.Info("redis store answering again: counting in Redis", "server", s.opts.Detail)
		return
	}
}

// fallback applies the failure policy to one program.
func (s *Store) fallback(ctx context.Context, now time.Time, program []store.Op, res *store.Result, cause error) error {
	s.fallbacks.Add(1)
	switch s.opts.OnError {
	case OnErrorLocal:
		return s.opts.Local.Run(ctx, now, program, res)
	case OnErrorDeny:
		return &UnavailableError{RetryAfter: time.Second, Err: cause}
	}
	clear(res.Counts[:len(program)])
	clear(res.Banned[:len(program)])
	res.Stop, res.StopAt, res.BanTTL, res.Now = store.Completed, 0, 0, time.Time{}
	return nil
}

var errOpen = errors.New("circuit open after earlier failures")

// Run implements store.Store.
func (s *Store) Run(ctx context.Context, now time.Time, program []store.Op, res *store.Result) error {
	if !s.usable() {
		return s.fallback(ctx, now, program, res, errOpen)
	}
	v, err := s.call(ctx, s.encode(modeRun, now, program))
	if err == nil {
		if err = decode(v, len(program), res); err != nil {
			s.roundTrip(err) // an answer that is not the script's
		}
	}
	if err != nil {
		if clientGone(ctx) {
			return ctx.Err() // the client went away: not Redis' fault
		}
		s.failedCall(err)
		return s.fallback(ctx, now, program, res, err)
	}
	return nil
}

// Fail implements store.Store.
func (s *Store) Fail(ctx context.Context, now time.Time, op store.Op) (int64, bool, error) {
	res := store.Result{Counts: make([]int64, 1), Banned: make([]bool, 1)}
	prog := []store.Op{op}
	if s.usable() {
		v, err := s.call(ctx, s.encode(modeFail, now, prog))
		if err == nil {
			if err = decode(v, 1, &res); err == nil {
				return res.Counts[0], res.Banned[0], nil
			}
			s.roundTrip(err)
		}
		s.failedCall(err)
	}
	s.fallbacks.Add(1)
	if s.opts.OnError == OnErrorLocal {
		return s.opts.Local.Fail(ctx, now, op)
	}
	return 0, false, nil // the response is already on its way: nothing to deny
}

// Peek implements store.Inspector: the program evaluated, nothing changed.
func (s *Store) Peek(ctx context.Context, now time.Time, program []store.Op, res *store.Result) error {
	v, err := s.call(ctx, s.encode(modePeek, now, program))
	if err != nil {
		s.errs.Add(1)
		return fmt.Errorf("redis store: %w", err)
	}
	return decode(v, len(program), res)
}

// Close stops the probe and closes the client.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		stop, done := s.probeStop, s.probeDone
		s.probeStop = nil
		s.mu.Unlock()
		if stop != nil {
			close(stop)
			<-done
		}
		if s.batch != nil {
			s.batch.close()
		}
		err = s.client.Close()
	})
	return err
}

// Stats implements store.StatsReporter.
func (s *Store) Stats() store.Stats {
	s.mu.Lock()
	open, last := s.open, s.lastErr
	s.mu.Unlock()
	st := store.Stats{Kind: "redis", Keys: -1, RoundTrips: s.roundTrips.Load(), Pipelines: s.pipelines.Load(), Errors: s.errs.Load(),
		Fallbacks: s.fallbacks.Load(), Healthy: !open, Detail: "connected to " + s.opts.Detail}
	if open {
		st.Detail = "falling back (on_error: " + s.opts.OnError + "): " + last
	}
	return st
}

// RoundTrips returns the number of programs sent to Redis, one per
// decision (a batch's programs share one script call and network round
// trip: Stats().Pipelines counts those).
func (s *Store) RoundTrips() int64 { return s.roundTrips.Load() }

// SharedSecret returns the installation's key secret kept in Redis,
// storing candidate first when there is none (SET NX): every gateway on
// this Redis hashes secret key parts with the same secret.
//
// Once read, the secret is kept: a config reload while Redis is away
// must not rehash every token with another secret.
func (s *Store) SharedSecret(ctx context.Context, candidate []byte) ([]byte, error) {
	s.mu.Lock()
	known := s.secret
	s.mu.Unlock()
	if known != nil {
		return known, nil
	}
	key := s.tag + ":key-secret"
	if err := s.client.SetNX(ctx, key, candidate, 0).Err(); err != nil {
		return nil, fmt.Errorf("redis store: %w", err)
	}
	v, err := s.client.Get(ctx, key).Bytes()
	if err != nil {
		return nil, fmt.Errorf("redis store: %w", err)
	}
	s.mu.Lock()
	s.secret = v
	s.mu.Unlock()
	return v, nil
}
