package main

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// The gateway's GC defaults, applied by serve unless the operator set
// GOGC or GOMEMLIMIT (see docs/performance.md). A proxied request leaves
// ~8 KB of garbage and the live heap is small, so Go's GOGC=100 collects
// every few hundred requests; GOGC=400 collects 6× less often (measured:
// GC CPU per proxied request 7.6–10.9 µs → 1.3 µs in BenchmarkHotPath).
// The soft memory limit bounds what that costs when the heap is full of
// live data (a full store after an address spray, many connections): the
// GC then works towards the limit instead of letting the heap grow to 5×
// live. The limit is what a full store and the connections open now can
// hold plus room for garbage, so it is not reached in normal use (where
// it would make the GC run often), and it follows the open connections so
// that many of them do not push live data to the limit (GC thrash).
const (
	serveGOGC = 400
	// serveMemPerKey is what one store.max_keys key may cost: the memory
	// store's 102 B measured at a full store (BenchmarkKeySpray) plus its
	// key arena's slack under churn.
	serveMemPerKey = 112
	// serveMemPerConn is an open client connection (goroutine stack and
	// net/http's buffers, ~15 KiB measured).
	serveMemPerConn = 16 << 10
	// serveMemBase is the rest: the runtime, rules and config, and the
	// room for garbage between collections (48 MiB: one every ~6,000
	// proxied requests when the store is full).
	serveMemBase = 48 << 20
	// serveMemFloor keeps a small store.max_keys from making the limit the
	// GC's pace in normal use.
	serveMemFloor = 96 << 20
)

// gcSettings is what serve sets; zero fields are left as the runtime has
// them (the operator's GOGC / GOMEMLIMIT).
type gcSettings struct {
	gcPercent int   // 0: keep
	memLimit  int64 // at start, before any connection; 0: keep (and do not follow connections)
}

// serveGC chooses the GC settings at start for a gateway with maxKeys
// counters, in a cgroup whose memory.max is cgroupMax (0: none or
// unknown).
func serveGC(getenv func(string) string, maxKeys int, cgroupMax int64) gcSettings {
	var s gcSettings
	if getenv("GOGC") == "" {
		s.gcPercent = serveGOGC
	}
	if getenv("GOMEMLIMIT") == "" {
		s.memLimit = serveMemLimit(maxKeys, 0, cgroupMax)
	}
	return s
}

// serveMemLimit is the soft memory limit for maxKeys counters and open
// client connections. Connections count in steps of 64 (1 MiB) so that
// the limit changes rarely.
func serveMemLimit(maxKeys int, open, cgroupMax int64) int64 {
	open = (max(open, 0) + 63) / 64 * 64
	lim := max(serveMemBase+int64(maxKeys)*serveMemPerKey+open*serveMemPerConn, serveMemFloor)
	if cgroupMax > 0 {
		lim = min(lim, cgroupMax/10*8) // leave the container headroom
	}
	return lim
}

// gcTuner is what tuneGC set, for following the connections.
type gcTuner struct {
	maxKeys   int
	cgroupMax int64
	limit     int64 // the limit set now; 0: the operator's, left alone
	set       func(int64) int64
	log       *slog.Logger
}

// tuneGC applies serveGC and logs what it chose.
func tuneGC(getenv func(string) string, maxKeys int, log *slog.Logger) *gcTuner {
	cg := cgroupMemoryMax()
	s := serveGC(getenv, maxKeys, cg)
	if s.gcPercent != 0 {
		debug.SetGCPercent(s.gcPercent)
		log.Debug("GOGC for the gateway (set GOGC to override)", "gogc", s.gcPercent)
	}
	if s.memLimit != 0 {
		debug.SetMemoryLimit(s.memLimit)
		log.Debug("GOMEMLIMIT for the gateway (set GOMEMLIMIT to override)", "memory_limit_mib", s.memLimit>>20)
	}
	return &gcTuner{maxKeys: maxKeys, cgroupMax: cg, limit: s.memLimit, set: debug.SetMemoryLimit, log: log}
}

// adjust sets the limit for open connections; it reports whether it changed.
func (g *gcTuner) adjust(open int64) bool {
	if g.limit == 0 {
		return false
	}
	lim := serveMemLimit(g.maxKeys, open, g.cgroupMax)
	if lim == g.limit {
		return false
	}
	g.limit = lim
	g.set(lim)
	return true
}

// followConnections re-sizes the limit every second to the client
// connections open (open reports them) until ctx ends.
func (g *gcTuner) followConnections(ctx context.Context, open func() int64) {
	if g.limit == 0 {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if g.adjust(open()) {
				g.log.Debug("GOMEMLIMIT follows the open connections", "connections", open(), "memory_limit_mib", g.limit>>20)
			}
		}
	}
}

// cgroupMemoryMax reads cgroup v2's memory.max (0 when unlimited or not
// in a cgroup).
func cgroupMemoryMax() int64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0 // "max"
	}
	return n
}
