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
	s.run(now.UnixNano(), program, res, false)
	return nil
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
			sh.remove(k, e) // unlinks it from its eviction list too
		}
		sh.mu.Unlock()
	}
	return n, nil
}
