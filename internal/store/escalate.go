package store

import (
	"math"
	"time"
)

// EscalatedBanTTL is the length of a key's n-th ban (n >= 1):
// min(base × factor^(n-1), max), with factor < 1 read as 1 and max 0 (or
// above ten years) as ten years, so that no expiry time overflows. Every
// store must compute it the same way (see Op.HistoryKey).
func EscalatedBanTTL(base time.Duration, factor float64, maxTTL time.Duration, n int64) time.Duration {
	const ceiling = 10 * 365 * 24 * time.Hour
	if maxTTL <= 0 || maxTTL > ceiling {
		maxTTL = ceiling
	}
	factor = max(factor, 1)
	d := float64(base) * math.Pow(factor, float64(max(n-1, 0)))
	if math.IsNaN(d) || d >= float64(maxTTL) {
		return maxTTL
	}
	return time.Duration(d)
}
