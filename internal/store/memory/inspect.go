package memory

import (
	"context"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

var _ store.Inspector = (*Store)(nil)

// Peek implements store.Inspector: it evaluates program exactly as Run
// would at now, reading counters and bans without changing any.
func (s *Store) Peek(_ context.Context, now time.Time, program []store.Op, res *store.Result) error {
	t := now.UnixNano()
	res.Stop, res.StopAt, res.BanTTL = store.Completed, 0, 0
	for i := range program {
		res.Counts[i] = 0
		res.Banned[i] = false
	}
	skipFailure, trusted := "", ""
	for i := range program {
		op := &program[i]
		if trusted != "" && op.BanKey == trusted {
			continue // a trusted pair, as in Run
		}
		switch op.Kind {
		case store.OpTrustCheck:
			if s.live(op.Key, t) {
				res.Counts[i], trusted = 1, op.BanKey
			}
		case store.OpTrustSet:
			res.Counts[i] = 1 // Run would set it; Peek writes nothing
		case store.OpBanCheck:
			if left := s.banLeft(op.BanKey, t); left > 0 {
				if !op.Enforce {
					res.Counts[i] = 1
					skipFailure = op.BanKey
					continue
				}
				res.Stop, res.StopAt, res.BanTTL = store.StopBanned, i, left
				return nil
			}
		case store.OpFailure:
			if op.BanKey == skipFailure {
				continue
			}
			c := s.current(op.Key, t) + 1
			res.Counts[i], res.Banned[i] = c, c >= op.Limit
			if op.StopOnCount {
				res.Stop, res.StopAt = store.StopFailed, i
				return nil
			}
		case store.OpThrottle:
			c := s.current(op.Key, t) + 1
			res.Counts[i] = c
			if c > op.Limit && op.Enforce {
				res.Stop, res.StopAt = store.StopThrottled, i
				return nil
			}
		case store.OpCount:
			res.Counts[i] = s.current(op.Key, t) + 1
		}
	}
	return nil
}

// current returns the live count at key (0 when absent or expired).
func (s *Store) current(key string, t int64) int64 {
	sh := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[key]; ok && e.expires > t {
		return e.count
	}
	return 0
}

// Bans implements store.Inspector.
func (s *Store) Bans(_ context.Context, now time.Time, prefix string) ([]store.Ban, error) {
	t := now.UnixNano()
	var out []store.Ban
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if e.ban && e.expires > t && strings.HasPrefix(k, prefix) {
				b := store.Ban{Key: k, Expires: time.Unix(0, e.expires)}
				if e.since != 0 {
					b.Since = time.Unix(0, e.since)
				}
				out = append(out, b)
			}
		}
		sh.mu.Unlock()
	}
	return out, nil
}

// Delete implements store.Inspector. Expired keys still held count as
// absent.
func (s *Store) Delete(_ context.Context, keys ...string) (int, error) {
	t := s.now().UnixNano()
	n := 0
	for _, k := range keys {
		sh := s.shardFor(k)
		sh.mu.Lock()
		if e, ok := sh.m[k]; ok {
			if e.expires > t {
				n++
			}
			delete(sh.m, k)
		}
		sh.mu.Unlock()
	}
	return n, nil
}
