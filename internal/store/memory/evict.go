package memory

import (
	"fmt"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// Eviction order. A full shard evicts from the lowest class present; in
// it, from the rule (group) holding the most keys in the shard, so a rule
// being sprayed pays for its own spray; in that rule, the least recently
// used key. A key sprayed by an attacker is never more recently used than
// the victim's counter the victim keeps hitting, and a spray of throttle
// or track keys never evicts a login counter or a ban while it has keys
// of its own to lose.

type listID struct {
	class store.Class
	group string
}

// lruList is one (class, group)'s keys, most recently used first.
type lruList struct {
	id         listID
	head, tail *entry
	n          int
}

// lru is an entry's place in its list.
type lru struct {
	key        string
	prev, next *entry
	list       *lruList // nil while unlinked
	touched    int64    // when it last moved to the front (unix ns)
}

// touchEvery is how stale an entry's place in its list may get: moving
// an entry on every hit would cost cache misses on the neighbours' links
// for every counted request; once a second is plenty for eviction.
const touchEvery = int64(time.Second)

// link puts e at the front of the list of id.
func (sh *shard) link(e *entry, id listID) {
	l := sh.lists[id]
	if l == nil {
		l = &lruList{id: id}
		sh.lists[id] = l
	}
	e.list, e.prev, e.next = l, nil, l.head
	if l.head != nil {
		l.head.prev = e
	}
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
	l.n++
}

// detach takes e out of its list's chain (the count is the caller's).
func (l *lruList) detach(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

// unlink takes e out of its list.
func (sh *shard) unlink(e *entry) {
	l := e.list
	if l == nil {
		return
	}
	l.detach(e)
	e.list = nil
	if l.n--; l.n == 0 {
		delete(sh.lists, l.id)
	}
}

// listID returns the id of e's eviction list (zero when unlinked).
func (e *entry) listID() listID {
	if e.list == nil {
		return listID{}
	}
	return e.list.id
}

// remove deletes key (whose entry is e) from the shard and its eviction
// list: every deletion must go through here (assigning *e = entry{...}
// would also break the list). The caller holds sh.mu.
func (sh *shard) remove(key string, e *entry) {
	delete(sh.m, key)
	sh.unlink(e)
}

// touch marks e most recently used at t (no map lookup, and at most once
// per touchEvery: it is on the hot path of every counted request).
func (sh *shard) touch(e *entry, t int64) {
	l := e.list
	if l == nil || l.head == e || t-e.touched < touchEvery {
		return
	}
	e.touched = t
	l.detach(e)
	e.next = l.head
	l.head.prev = e
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
}

// evictOne removes one live key in the eviction order. The caller holds
// sh.mu.
func (s *Store) evictOne(sh *shard) {
	var victim *lruList
	var vid listID
	for id, l := range sh.lists {
		if victim == nil || id.class < vid.class || (id.class == vid.class && (l.n > victim.n || (l.n == victim.n && id.group < vid.group))) {
			victim, vid = l, id
		}
	}
	if victim == nil {
		return
	}
	e := victim.tail
	sh.remove(e.key, e)
	s.evictions.Add(1)
	s.evictedBy[vid.class].Add(1)
}

// EvictionsByClass returns the evictions per store.Class since start.
func (s *Store) EvictionsByClass() [store.ClassBan + 1]int64 {
	var out [store.ClassBan + 1]int64
	for i := range out {
		out[i] = s.evictedBy[i].Load()
	}
	return out
}

var classNames = [...]string{"observe", "throttle", "security", "ban"}

// evictionDetail summarizes evictions per class for Stats.
func (s *Store) evictionDetail() string {
	by := s.EvictionsByClass()
	var parts []string
	for i, n := range by {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", classNames[i], n))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; evicted: " + strings.Join(parts, ", ")
}
