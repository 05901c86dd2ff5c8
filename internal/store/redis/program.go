package redis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// Program modes (the record's first byte; script.lua documents the
// record).
const (
	modeRun  = 1 // count
	modePeek = 2 // change nothing
	modeFail = 3 // one OpFailure outside a program: no stop
)

// Op flags (script.lua).
const (
	flagEnforce    = 1
	flagStop       = 2
	flagKey        = 4
	flagBanKey     = 8
	flagHistoryKey = 16
)

// Record sizes: header B B i8 i4 i4; op B B B i8 i8 i8 i4 i8 i8; an
// OpFailure's extra i8 i8 d i8.
const (
	headerLen  = 1 + 1 + 8 + 4 + 4
	opLen      = 3 + 8 + 8 + 8 + 4 + 8 + 8
	failureLen = 8 + 8 + 8 + 8
)

// encode turns a program into its ARGV group: one binary record of its
// numbers, then the strings its operations use (script.lua). Several
// groups make one call (batch.go).
func (s *Store) encode(mode byte, now time.Time, program []store.Op) []any {
	size := headerLen + opLen*len(program)
	for i := range program {
		if program[i].Kind == store.OpFailure {
			size += failureLen
		}
	}
	rec := make([]byte, 0, size)
	args := make([]any, 1, 1+2*len(program))
	le := binary.LittleEndian
	rec = append(rec, mode, 0)
	if s.opts.CallerClock {
		rec[1] = 1
		rec = le.AppendUint64(rec, uint64(now.UnixMicro()))
	} else {
		rec = le.AppendUint64(rec, 0)
	}
	rec = le.AppendUint32(rec, uint32(len(program)))
	rec = le.AppendUint32(rec, 0) // the strings, counted below
	for i := range program {
		op := &program[i]
		flags := byte(0)
		if op.Enforce {
			flags |= flagEnforce
		}
		if op.StopOnCount {
			flags |= flagStop
		}
		at, win := 0, int64(-1)
		if op.Key != "" {
			flags |= flagKey
			key := s.key(op.Key)
			if op.WindowAt > 0 {
				at = op.WindowAt + len(key) - len(op.Key) + 1 // shifted by the hash tag, 1-based
				win = windowNumber(op.Key, op.WindowAt)
			}
			args = append(args, key)
		}
		if op.BanKey != "" {
			flags |= flagBanKey
			args = append(args, s.key(op.BanKey))
		}
		if op.HistoryKey != "" {
			flags |= flagHistoryKey
			args = append(args, s.key(op.HistoryKey))
		}
		rec = append(rec, byte(op.Kind), flags, byte(op.Algorithm))
		rec = le.AppendUint64(rec, uint64(max(op.TTL.Milliseconds(), 1)))
		rec = le.AppendUint64(rec, uint64(op.Limit))
		rec = le.AppendUint64(rec, uint64(op.Period))
		rec = le.AppendUint32(rec, uint32(at))
		rec = le.AppendUint64(rec, uint64(win))
		rec = le.AppendUint64(rec, uint64(op.Rate))
		if op.Kind == store.OpFailure {
			rec = le.AppendUint64(rec, uint64(max(op.BanTTL.Milliseconds(), 1)))
			rec = le.AppendUint64(rec, uint64(max(op.HistoryTTL.Milliseconds(), 1)))
			rec = le.AppendUint64(rec, math.Float64bits(op.BanFactor))
			rec = le.AppendUint64(rec, uint64(op.BanMaxTTL.Milliseconds()))
		}
	}
	le.PutUint32(rec[headerLen-4:], uint32(len(args)-1))
	args[0] = string(rec)
	return args
}

// windowNumber reads the window number key names at at (the digits up to
// the next ':'), or -1 when it is not a plain decimal that the script's
// format('%d') would write the same way (then the script compares the
// key's text, as it did before the number was sent).
func windowNumber(key string, at int) int64 {
	n, digits := int64(0), 0
	for i := at; i < len(key); i++ {
		c := key[i]
		if c == ':' {
			if digits == 0 || (digits > 1 && key[at] == '0') {
				return -1
			}
			return n
		}
		if c < '0' || c > '9' || digits == 15 {
			return -1
		}
		n = n*10 + int64(c-'0')
		digits++
	}
	return -1 // no ':' after it: the script keeps the key and its TTL
}

// programReply picks one program's reply out of a call's (one element
// per program, in order).
func programReply(reply any, i int) (any, error) {
	vals, ok := reply.([]any)
	if !ok || i >= len(vals) {
		return nil, fmt.Errorf("redis store: unexpected script reply %T for program %d", reply, i)
	}
	switch v := vals[i].(type) {
	case string:
		return nil, errors.New("redis store: script: " + v)
	case error:
		return nil, v
	default:
		return v, nil
	}
}

// decode reads one program's reply into res.
func decode(reply any, n int, res *store.Result) error {
	vals, ok := reply.([]any)
	if !ok || len(vals) != 4+3*n {
		return fmt.Errorf("redis store: unexpected script reply %T of %d values for %d operations", reply, len(vals), n)
	}
	num := func(i int) int64 {
		v, _ := vals[i].(int64)
		return v
	}
	res.Stop, res.StopAt = store.StopReason(num(0)), int(num(1))
	res.BanTTL = time.Duration(num(2)) * time.Microsecond
	res.Now = time.UnixMicro(num(3))
	for i := 0; i < n; i++ {
		res.Counts[i] = num(4 + 3*i)
		res.Banned[i] = num(5+3*i) == 1
		if i < len(res.Reset) {
			res.Reset[i] = time.Duration(num(6+3*i)) * time.Microsecond
		}
	}
	return nil
}
