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

// lruList is one (class, group)'s keys, most recently used first, by
// entry number (-1: none).
type lruList struct {
	id         listID
	head, tail int32
	n          int
}

// maxLists is how many eviction lists a shard numbers; past it (more
// rules with live keys in one shard than any configuration has) a new
// group shares its class's list of group "".
const maxLists = 1<<16 - 1

// touchEvery is how stale an entry's place in its list may get: moving
// an entry on every hit would cost cache misses on the neighbours' links
// for every counted request; once a second is plenty for eviction.
const touchEvery = int64(time.Second)

// listNumber returns the number of id's list, creating it.
func (sh *shard) listNumber(id listID) uint16 {
	if n, ok := sh.listOf[id]; ok {
		return n
	}
	var n uint16
	switch {
	case len(sh.freeLists) > 0:
		n = sh.freeLists[len(sh.freeLists)-1]
		sh.freeLists = sh.freeLists[:len(sh.freeLists)-1]
		sh.lists[n] = lruList{id: id, head: -1, tail: -1}
	case len(sh.lists) < maxLists:
		n = uint16(len(sh.lists))
		sh.lists = append(sh.lists, lruList{id: id, head: -1, tail: -1})
	default:
		if id.group == "" {
			return 0 // cannot happen with fewer groups than maxLists; any list keeps the bound
		}
		return sh.listNumber(listID{class: id.class})
	}
	sh.listOf[id] = n
	return n
}

// link puts entry i at the front of the list of id.
func (sh *shard) link(i int32, id listID) {
	n := sh.listNumber(id)
	l := &sh.lists[n]
	e := &sh.entries[i]
	e.list, e.prev, e.next = n, -1, l.head
	if l.head >= 0 {
		sh.entries[l.head].prev = i
	}
	l.head = i
	if l.tail < 0 {
		l.tail = i
	}
	l.n++
}

// detach takes entry i out of its list's chain (the count is the caller's).
func (sh *shard) detach(l *lruList, i int32) {
	e := &sh.entries[i]
	if e.prev >= 0 {
		sh.entries[e.prev].next = e.next
	} else {
		l.head = e.next
	}
	if e.next >= 0 {
		sh.entries[e.next].prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

// unlink takes entry i out of its list, freeing the list when it empties.
func (sh *shard) unlink(i int32) {
	n := sh.entries[i].list
	l := &sh.lists[n]
	sh.detach(l, i)
	if l.n--; l.n == 0 {
		delete(sh.listOf, l.id)
		*l = lruList{head: -1, tail: -1}
		sh.freeLists = append(sh.freeLists, n)
	}
}

// listID returns the id of entry e's eviction list.
func (sh *shard) listID(e *entry) listID { return sh.lists[e.list].id }

// remove deletes entry i from the shard and its eviction list: every
// deletion must go through here. The caller holds sh.mu.
func (sh *shard) remove(i int32) {
	sh.unlink(i)
	sh.release(i)
}

// touch marks entry i most recently used at t (no lookup, and at most
// once per touchEvery: it is on the hot path of every counted request).
func (sh *shard) touch(i int32, t int64) {
	e := &sh.entries[i]
	l := &sh.lists[e.list]
	if l.head == i || t-e.touched < touchEvery {
		return
	}
	e.touched = t
	sh.detach(l, i)
	e.next = l.head
	sh.entries[l.head].prev = i
	l.head = i
	if l.tail < 0 {
		l.tail = i
	}
}

// evictOne removes one live key in the eviction order. The caller holds
// sh.mu.
func (s *Store) evictOne(sh *shard) {
	victim := -1
	for n := range sh.lists {
		l, v := &sh.lists[n], (*lruList)(nil)
		if victim >= 0 {
			v = &sh.lists[victim]
		}
		if l.n == 0 {
			continue
		}
		if v == nil || l.id.class < v.id.class || (l.id.class == v.id.class && (l.n > v.n || (l.n == v.n && l.id.group < v.id.group))) {
			victim = n
		}
	}
	if victim < 0 {
		return
	}
	class := sh.lists[victim].id.class
	sh.remove(sh.lists[victim].tail)
	s.evictions.Add(1)
	s.evictedBy[class].Add(1)
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
