package memory

import (
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// runTrust runs OpTrustCheck and OpTrustSet (store.go documents them). A
// trust check that finds its key sets *trusted to the op's BanKey, so Run
// skips the rule's later operations. Without write (Peek) a trust set
// changes nothing.
func (s *Store) runTrust(op *store.Op, t int64, trusted *string, write bool) int64 {
	switch op.Kind {
	case store.OpTrustCheck:
		if s.live(op.Key, t) {
			*trusted = op.BanKey
			return 1
		}
	case store.OpTrustSet:
		if !write {
			return 1
		}
		sh, h := s.shardFor(op.Key)
		sh.mu.Lock()
		s.put(sh, op.Key, h, record{count: 1, expires: t + int64(op.TTL)}, listID{class: store.ClassBan}, t) // losing it would lock a real user out
		sh.mu.Unlock()
		return 1
	}
	return 0
}

// live reports whether key is set and not expired.
func (s *Store) live(key string, t int64) bool {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.find(key, h)
	return i >= 0 && sh.entries[i].expires > t
}

// banTTL is the length of the ban op sets now: BanTTL, or with a
// HistoryKey the escalated length (store.Op documents the formula). It
// records the ban in the history.
func (s *Store) banTTL(op *store.Op, t int64) time.Duration {
	if op.HistoryKey == "" {
		return op.BanTTL
	}
	n := s.touch(op.HistoryKey, op.HistoryTTL, t)
	return store.EscalatedBanTTL(op.BanTTL, op.BanFactor, op.BanMaxTTL, n)
}

// touch increments key (starting from 0 when absent or expired) and sets
// its lifetime to ttl from t, returning the new count.
func (s *Store) touch(key string, ttl time.Duration, t int64) int64 {
	sh, h := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i := sh.find(key, h); i >= 0 {
		e := &sh.entries[i]
		if e.expires > t {
			e.count++
		} else {
			e.count = 1
		}
		e.expires = t + int64(ttl)
		sh.touch(i, t) // recently used: last to go within its class
		return e.count
	}
	s.put(sh, key, h, record{count: 1, expires: t + int64(ttl)}, listID{class: store.ClassBan}, t) // a lost history shortens the next ban
	return 1
}
