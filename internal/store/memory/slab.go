package memory

import "sync"

// A shard keeps its keys without a Go pointer per key, so that a full
// store (a million keys after an address spray) costs ~100 B a key and
// nothing for the garbage collector to scan: entries live in one slab
// and refer to each other by index, key bytes live in one byte arena,
// and an open-addressing table of int32 maps a key's hash to its entry.
// docs/performance.md gives the measured bytes per key.

type shard struct {
	mu        sync.Mutex
	entries   []entry // the slab; entries not in use are chained from free through next
	free      int32   // first free entry (-1: none)
	n         int     // entries in use
	index     []int32 // open addressing, linear probing: entry number + 1, 0 empty
	keys      []byte  // key bytes of the entries, and dead bytes of removed ones
	dead      int     // bytes of keys that no entry uses any more
	since     map[int32]int64
	lastSweep int64
	lists     []lruList         // eviction lists (evict.go), by number
	listOf    map[listID]uint16 // list number of a (class, group)
	freeLists []uint16          // numbers of emptied lists, for reuse
}

// entry is one key. Its fields are ordered to fit 48 bytes.
type entry struct {
	count      int64 // the counter (for GCRA the theoretical arrival time, µs)
	expires    int64 // unix nanoseconds
	touched    int64 // when it last moved to the front of its list (unix ns)
	prev, next int32 // neighbours in its eviction list, or the free chain (-1: none)
	keyOff     uint32
	keyLen     uint32
	hash       uint32 // the key's hash (high bits): its home in index, compared before the key
	list       uint16 // its eviction list's number
	flags      uint8
}

const (
	inUse  uint8 = 1 << iota
	banned       // a ban (its start is in shard.since)
)

// minIndex is the smallest index table (a power of two).
const minIndex = 16

func newShard() shard {
	return shard{free: -1, index: make([]int32, minIndex), since: map[int32]int64{}, listOf: map[listID]uint16{}}
}

// key returns the bytes of e's key (valid until the next insert).
func (sh *shard) key(e *entry) []byte {
	return sh.keys[e.keyOff : e.keyOff+e.keyLen : e.keyOff+e.keyLen]
}

// find returns the number of key's entry, or -1.
func (sh *shard) find(key string, h uint32) int32 {
	mask := uint32(len(sh.index) - 1)
	for pos := h & mask; ; pos = (pos + 1) & mask {
		v := sh.index[pos]
		if v == 0 {
			return -1
		}
		e := &sh.entries[v-1]
		if e.hash == h && string(sh.key(e)) == key {
			return v - 1
		}
	}
}

// insert adds a new entry for key (absent: the caller looked) and returns
// its number; the caller sets its fields and links it. It copies key:
// keys may alias the engine's reused buffers.
func (sh *shard) insert(key string, h uint32, limit int) int32 {
	if (sh.n+1)*4 > len(sh.index)*3 {
		sh.growIndex()
	}
	i := sh.free
	if i >= 0 {
		sh.free = sh.entries[i].next
	} else {
		if len(sh.entries) == cap(sh.entries) {
			// Grow by doubling, but never past the shard's bound: a full
			// store must not pay for a slab twice its size.
			c := min(max(2*cap(sh.entries), 16), max(limit, len(sh.entries)+1))
			grown := make([]entry, len(sh.entries), c)
			copy(grown, sh.entries)
			sh.entries = grown
		}
		sh.entries = append(sh.entries, entry{})
		i = int32(len(sh.entries) - 1)
	}
	off := sh.storeKey(key)
	sh.entries[i] = entry{keyOff: off, keyLen: uint32(len(key)), hash: h, flags: inUse, prev: -1, next: -1}
	mask := uint32(len(sh.index) - 1)
	pos := h & mask
	for sh.index[pos] != 0 {
		pos = (pos + 1) & mask
	}
	sh.index[pos] = i + 1
	sh.n++
	return i
}

// storeKey appends key to the arena and returns its offset. A full arena
// is compacted into a new one with room for half as much again as what
// is live, so the copying costs O(1) per inserted byte and the arena
// stays within 1.5× the live key bytes (plus the removed keys since).
func (sh *shard) storeKey(key string) uint32 {
	if len(sh.keys)+len(key) > cap(sh.keys) {
		live := len(sh.keys) - sh.dead + len(key)
		fresh := make([]byte, 0, max(live+live/2, 256))
		for j := range sh.entries {
			e := &sh.entries[j]
			if e.flags&inUse != 0 {
				k := sh.key(e)
				e.keyOff = uint32(len(fresh))
				fresh = append(fresh, k...)
			}
		}
		sh.keys, sh.dead = fresh, 0
	}
	off := uint32(len(sh.keys))
	sh.keys = append(sh.keys, key...)
	return off
}

func (sh *shard) growIndex() {
	grown := make([]int32, 2*len(sh.index))
	mask := uint32(len(grown) - 1)
	for _, v := range sh.index {
		if v == 0 {
			continue
		}
		pos := sh.entries[v-1].hash & mask
		for grown[pos] != 0 {
			pos = (pos + 1) & mask
		}
		grown[pos] = v
	}
	sh.index = grown
}

// release deletes entry i from the index and the arena and frees it (the
// eviction list is the caller's: see remove).
func (sh *shard) release(i int32) {
	e := &sh.entries[i]
	mask := uint32(len(sh.index) - 1)
	pos := e.hash & mask
	for sh.index[pos] != i+1 {
		pos = (pos + 1) & mask
	}
	// Backward-shift deletion: move later entries of the probe run into
	// the hole unless their home lies cyclically in (hole, them].
	hole := pos
	for j := (hole + 1) & mask; sh.index[j] != 0; j = (j + 1) & mask {
		home := sh.entries[sh.index[j]-1].hash & mask
		if (j > hole && (home <= hole || home > j)) || (j < hole && home <= hole && home > j) {
			sh.index[hole] = sh.index[j]
			hole = j
		}
	}
	sh.index[hole] = 0
	sh.dead += int(e.keyLen)
	if e.flags&banned != 0 {
		delete(sh.since, i)
	}
	*e = entry{next: sh.free, prev: -1}
	sh.free = i
	sh.n--
	if sh.n == 0 { // nothing live: the arena can start over
		sh.keys, sh.dead = sh.keys[:0], 0
	}
}

// shrinkBelow is the share of the slab in use under which a sweep
// rebuilds the shard smaller: after a spray has expired, its slab, index
// and arena would otherwise stay at their peak size (as a Go map does).
const shrinkBelow = 4

// shrink rebuilds the shard with room for twice what is in use when less
// than a quarter of its slab is, keeping each eviction list's order. It
// costs O(shard), as the sweep that calls it does. The caller holds sh.mu.
func (sh *shard) shrink() {
	if cap(sh.entries) <= 64 || sh.n*shrinkBelow >= cap(sh.entries) {
		return
	}
	old, oldKeys, oldSince := sh.entries, sh.keys, sh.since
	sh.entries = make([]entry, 0, max(2*sh.n, 16))
	sh.keys = make([]byte, 0, max(len(oldKeys)-sh.dead, 256))
	sh.dead, sh.free, sh.since = 0, -1, map[int32]int64{}
	size := minIndex
	for size*3 < (sh.n+1)*4 {
		size *= 2
	}
	sh.index = make([]int32, size)
	mask := uint32(size - 1)
	for n := range sh.lists {
		l := &sh.lists[n]
		prev := int32(-1)
		for i := l.head; i >= 0; i = old[i].next {
			e := old[i]
			j := int32(len(sh.entries))
			e.prev, e.next = prev, -1
			if prev >= 0 {
				sh.entries[prev].next = j
			} else {
				l.head = j
			}
			k := oldKeys[e.keyOff : e.keyOff+e.keyLen]
			e.keyOff = uint32(len(sh.keys))
			sh.keys = append(sh.keys, k...)
			if e.flags&banned != 0 {
				sh.since[j] = oldSince[i]
			}
			sh.entries = append(sh.entries, e)
			pos := e.hash & mask
			for sh.index[pos] != 0 {
				pos = (pos + 1) & mask
			}
			sh.index[pos] = j + 1
			prev = j
		}
		l.tail = prev
	}
}
