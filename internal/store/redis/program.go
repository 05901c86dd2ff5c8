package redis

import (
	"fmt"
	"strconv"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// stride is the number of ARGV fields per operation (script.lua documents
// them). A new Op field is appended to the group and stride raised.
const stride = 15

// encode turns a program into the script's KEYS and ARGV.
func (s *Store) encode(mode string, now time.Time, program []store.Op) []any {
	args := make([]any, 0, 3+stride*len(program))
	clock := ""
	if s.opts.CallerClock {
		clock = strconv.FormatInt(now.UnixMicro(), 10)
	}
	args = append(args, mode, clock, stride)
	for i := range program {
		op := &program[i]
		flags := 0
		if op.Enforce {
			flags |= 1
		}
		if op.StopOnCount {
			flags |= 2
		}
		key, at := "", 0
		if op.Key != "" {
			key = s.key(op.Key)
			if op.WindowAt > 0 {
				at = op.WindowAt + len(key) - len(op.Key) + 1 // shifted by the hash tag, 1-based
			}
		}
		banKey := ""
		if op.BanKey != "" {
			banKey = s.key(op.BanKey)
		}
		historyKey := ""
		if op.HistoryKey != "" {
			historyKey = s.key(op.HistoryKey)
		}
		args = append(args, int(op.Kind), key, max(op.TTL.Milliseconds(), 1), op.Limit, banKey,
			max(op.BanTTL.Milliseconds(), 1), flags, op.Period, at, int(op.Algorithm), op.Rate,
			historyKey, max(op.HistoryTTL.Milliseconds(), 1), strconv.FormatFloat(op.BanFactor, 'g', -1, 64), op.BanMaxTTL.Milliseconds())
	}
	return args
}

// decode reads the script's reply into res.
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
