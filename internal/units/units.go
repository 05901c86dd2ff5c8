// Package units parses the two kinds of quantities a wootguard config
// holds, durations and sizes, with one syntax everywhere (gateway rules,
// server timeouts, schedule, audit, feeds, rollout):
//
//	durations: 30s 5m 1h 1d 1w, combined (1h30m, 1d12h), fractions (1.5d),
//	           Go's ms/us/ns, or a plain number of seconds (90)
//	sizes:     65536 (bytes), 64KiB 1MiB 5GiB 1TiB (powers of 1024),
//	           64KB 64kB 64kb 64K 500MB 5G (powers of 1000); units ignore case
//
// Negative quantities are refused: nothing in wootguard can use one.
package units

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DurationSyntax and SizeSyntax are the examples error messages give.
const (
	DurationSyntax = "30s, 5m, 1h, 1d, 1w (or a number of seconds)"
	SizeSyntax     = "65536, 64KiB, 64KB, 1MiB, 5GiB"
)

var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond, "ms": time.Millisecond,
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
}

var durationPartRE = regexp.MustCompile(`^(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h|d|w)`)

// ParseDuration reads a duration in the syntax of the package comment.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("bad duration %q%s: want e.g. %s", s, why, DurationSyntax)
	}
	if in == "" {
		return bad("")
	}
	if strings.HasPrefix(in, "-") {
		return 0, fmt.Errorf("bad duration %q: must not be negative", s)
	}
	if n, err := strconv.ParseUint(in, 10, 63); err == nil {
		if n > math.MaxInt64/uint64(time.Second) {
			return bad(" (too long)")
		}
		return time.Duration(n) * time.Second, nil
	}
	rest, total := strings.TrimPrefix(in, "+"), 0.0
	for rest != "" {
		m := durationPartRE.FindStringSubmatch(rest)
		if m == nil {
			return bad("")
		}
		f, _ := strconv.ParseFloat(m[1], 64)
		total += f * float64(durationUnits[m[2]])
		rest = rest[len(m[0]):]
	}
	if total > math.MaxInt64 {
		return bad(" (too long)")
	}
	return time.Duration(total), nil
}

var sizeRE = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*([a-z]*)$`)

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30, "ti": 1 << 40, "tib": 1 << 40,
}

// ParseSize reads a size in bytes in the syntax of the package comment.
func ParseSize(s string) (int64, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return 0, fmt.Errorf("bad size %q: must not be negative", s)
	}
	m := sizeRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	var mult float64
	if m != nil {
		mult = sizeUnits[m[2]]
	}
	if m == nil || mult == 0 {
		return 0, fmt.Errorf("bad size %q: want e.g. %s", s, SizeSyntax)
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	if f*mult > math.MaxInt64 {
		return 0, fmt.Errorf("bad size %q: too large", s)
	}
	return int64(f * mult), nil
}

// FormatDuration prints d in the largest exact unit of the syntax
// (300s → "5m", 14 days → "2w"); sub-second values use Go's form.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Second != 0:
		return d.String()
	}
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}} {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// YAMLError wraps a parse error so that the YAML decoder records it and
// goes on with the rest of the document, instead of stopping at the
// first bad value: that is what lets check-config report every problem of
// a file in one pass. line is the value's line, 0 when unknown (the
// config package then finds it from the quoted value).
func YAMLError(line int, err error) error {
	msg := err.Error()
	if line > 0 {
		msg = fmt.Sprintf("line %d: %s", line, msg)
	}
	return &yaml.TypeError{Errors: []string{msg}}
}
