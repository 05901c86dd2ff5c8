//go:build race

package memory

// raceEnabled: the race detector slows single-goroutine tests several
// times over without finding anything in them; they do fewer steps.
const raceEnabled = true
