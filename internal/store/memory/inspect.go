package memory

import (
	"context"
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
		for i := range sh.entries {
			e := &sh.entries[i]
			if e.flags&banned != 0 && e.expires > t && hasPrefix(sh.key(e), prefix) {
				b := store.Ban{Key: string(sh.key(e)), Expires: time.Unix(0, e.expires)}
				if since := sh.since[int32(i)]; since != 0 {
					b.Since = time.Unix(0, since)
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
		sh, h := s.shardFor(k)
		sh.mu.Lock()
		if i := sh.find(k, h); i >= 0 {
			if sh.entries[i].expires > t {
				n++
			}
			sh.remove(i) // unlinks it from its eviction list too
		}
		sh.mu.Unlock()
	}
	return n, nil
}
