package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// The gateway's GC defaults, applied by serve unless the operator set
// GOGC or GOMEMLIMIT (see docs/performance.md). A proxied request leaves
// ~8 KB of garbage and the live heap is small, so Go's GOGC=100 collects
// every few hundred requests; GOGC=400 collects 6× less often (measured:
// GC CPU per proxied request 7.6–10.9 µs → 1.3 µs in BenchmarkHotPath).
// The soft memory limit keeps that from costing memory when the heap is
// full of live data (a full store, thousands of connections): the GC then
// works towards the limit instead of letting the heap grow to 5× live.
// The limit is sized from what those can hold, so it is not reached in
// normal use (where it would make the GC run often).
const (
	serveGOGC = 400
	// Bytes per store.max_keys counter and per limits.connections
	// connection that the limit leaves room for; never below the floor.
	serveMemPerKey  = 200
	serveMemPerConn = 16 << 10
	serveMemFloor   = 256 << 20
)

// gcSettings is what serve sets; zero fields are left as the runtime has
// them (the operator's GOGC / GOMEMLIMIT).
type gcSettings struct {
	gcPercent int   // 0: keep
	memLimit  int64 // 0: keep
}

// serveGC chooses the GC settings for a gateway with maxKeys counters and
// up to conns client connections, in a cgroup whose memory.max is
// cgroupMax (0: none or unknown).
func serveGC(getenv func(string) string, maxKeys, conns int, cgroupMax int64) gcSettings {
	var s gcSettings
	if getenv("GOGC") == "" {
		s.gcPercent = serveGOGC
	}
	if getenv("GOMEMLIMIT") == "" {
		if conns <= 0 {
			conns = 10_000 // no cap: as many as the default cap
		}
		lim := max(int64(maxKeys)*serveMemPerKey+int64(conns)*serveMemPerConn, serveMemFloor)
		if cgroupMax > 0 {
			lim = min(lim, cgroupMax/10*8) // leave the container headroom
		}
		s.memLimit = lim
	}
	return s
}

// tuneGC applies serveGC and logs what it chose.
func tuneGC(getenv func(string) string, maxKeys, conns int, log *slog.Logger) {
	s := serveGC(getenv, maxKeys, conns, cgroupMemoryMax())
	if s.gcPercent != 0 {
		debug.SetGCPercent(s.gcPercent)
		log.Debug("GOGC for the gateway (set GOGC to override)", "gogc", s.gcPercent)
	}
	if s.memLimit != 0 {
		debug.SetMemoryLimit(s.memLimit)
		log.Debug("GOMEMLIMIT for the gateway (set GOMEMLIMIT to override)", "memory_limit_mib", s.memLimit>>20)
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
