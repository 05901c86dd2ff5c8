package redis

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Batching: the script calls of concurrent requests share network round
// trips. At most `flushers` round trips are on the wire at once. A call
// that finds one free (and nothing queued) is sent at once by its own
// goroutine, as without batching: a lone request waits for no batch and no
// timer. Otherwise it is queued, and the next free flusher takes every call
// queued at that moment (up to maxBatch) and sends their programs as one
// script call, so the gateway and Redis pay one write, one read and one
// script call for the batch instead of one per request. Calls only wait while every round trip is
// taken, which on a busy loopback Redis is when sending them sooner would
// not get them answered sooner (one Redis runs scripts one at a time). A
// Redis far away is different: there a queued call would wait a whole
// round trip before its own. So a call that no round trip has taken
// within a quarter of store.timeout is sent on its own by its caller.
const (
	defaultFlushers = 2
	maxBatch        = 128
	queueLen        = 4096
	// maxBatchArgs bounds a batch by its programs' arguments (a record
	// and about one key per operation), so by the script's running time:
	// Redis runs one script call to the end before serving anyone else,
	// and Chatwoot shares that Redis. 128 one-throttle decisions fit (2
	// arguments each); decisions with several operations make smaller
	// batches (docs/redis.md).
	maxBatchArgs = 256
)

var errClosed = errors.New("redis store closed")

// pending is one queued script call.
type pending struct {
	ctx   context.Context // the caller's, with the store timeout
	args  []any
	val   any
	err   error
	done  chan struct{} // closed when val and err are set
	owner atomic.Int32  // who sends it: queued, byFlusher or byCaller
}

const (
	queued int32 = iota
	byFlusher
	byCaller
)

// batcher sends queued programs together, one script call per batch.
type batcher struct {
	client    goredis.UniversalClient
	keys      []string // KEYS of every call: the hash tag
	queue     chan *pending
	slots     chan struct{} // one token per round trip on the wire
	stop      chan struct{}
	wg        sync.WaitGroup
	calls     *atomic.Int64 // programs sent (one per decision; twice after NOSCRIPT)
	pipelines *atomic.Int64 // network round trips (script calls) sent
	trip      func(error)   // the breaker: each round trip's outcome
	patience  time.Duration // how long a call stays queued before its caller sends it
}

func newBatcher(client goredis.UniversalClient, tag string, flushers int, patience time.Duration, calls, pipelines *atomic.Int64, trip func(error)) *batcher {
	b := &batcher{client: client, keys: []string{tag}, queue: make(chan *pending, queueLen),
		slots: make(chan struct{}, flushers), stop: make(chan struct{}), calls: calls, pipelines: pipelines, trip: trip,
		patience: patience}
	b.wg.Add(flushers)
	for range flushers {
		go b.flush()
	}
	return b
}

// tryDirect takes a free round trip for a call to send by itself when no
// call is queued; release gives it back.
func (b *batcher) tryDirect() bool {
	if len(b.queue) > 0 {
		return false
	}
	select {
	case b.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (b *batcher) release() { <-b.slots }

// do queues one call and waits for its answer or for ctx. A call no
// flusher has taken within b.patience is sent by direct, here.
func (b *batcher) do(ctx context.Context, args []any, direct func() (any, error)) (any, error) {
	p := &pending{ctx: ctx, args: args, done: make(chan struct{})}
	select {
	case b.queue <- p:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.stop:
		return nil, errClosed
	}
	wait := time.NewTimer(b.patience)
	defer wait.Stop()
	select {
	case <-p.done:
		return p.val, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-wait.C:
		if p.owner.CompareAndSwap(queued, byCaller) {
			return direct() // a flusher that dequeues it now skips it
		}
	}
	select {
	case <-p.done:
		return p.val, p.err
	case <-ctx.Done():
		return nil, ctx.Err() // the flusher finishes p later; nobody reads it
	}
}

// close stops the flushers and fails what is still queued.
func (b *batcher) close() {
	close(b.stop)
	b.wg.Wait()
	for {
		select {
		case p := <-b.queue:
			if p.owner.CompareAndSwap(queued, byFlusher) {
				p.err = errClosed
				close(p.done)
			}
		default:
			return
		}
	}
}

func (b *batcher) flush() {
	defer b.wg.Done()
	batch := make([]*pending, 0, maxBatch)
	var carry *pending // a call that did not fit the last batch: it leads the next
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-b.queue:
			case <-b.stop:
				return
			}
		}
		select { // wait for a free round trip; calls queue meanwhile
		case b.slots <- struct{}{}:
		case <-b.stop:
			if first.owner.CompareAndSwap(queued, byFlusher) {
				first.err = errClosed
				close(first.done)
			}
			return
		}
		// A call is this flusher's only once claimed: its caller may have
		// given up waiting and sent it itself.
		batch = batch[:0]
		nargs := 0
		if first.owner.CompareAndSwap(queued, byFlusher) {
			batch = append(batch, first)
			nargs = len(first.args)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case p := <-b.queue:
				if len(batch) > 0 && nargs+len(p.args) > maxBatchArgs {
					carry = p // still queued (unclaimed): its caller may yet send it alone
					break fill
				}
				if p.owner.CompareAndSwap(queued, byFlusher) {
					batch = append(batch, p)
					nargs += len(p.args)
				}
			default:
				break fill
			}
		}
		if len(batch) > 0 {
			b.send(batch)
		}
		b.release()
		clear(batch)
	}
}

// send runs one batch as one script call carrying every program of the
// batch (script.lua runs them in order and answers each separately; one
// more call, an EVAL, when Redis lost the script). Redis then pays one
// command, one TIME and one set of the script's closures for the batch
// instead of one per program. The call's deadline is its earliest
// caller's: a batch either answers in time for all of its programs or
// fails for all of them; a program that fails in the script (an error
// from Redis) fails alone.
func (b *batcher) send(batch []*pending) {
	var deadline time.Time
	live, nargs := 0, 0
	for i, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			close(p.done)
			batch[i] = nil
			continue
		}
		if d, ok := p.ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
			deadline = d
		}
		live++
		nargs += len(p.args)
	}
	if live == 0 {
		return
	}
	ctx := context.Background()
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	args := make([]any, 0, nargs)
	for _, p := range batch {
		if p != nil {
			args = append(args, p.args...)
		}
	}
	b.calls.Add(int64(live))
	b.pipelines.Add(1)
	v, err := b.client.EvalSha(ctx, scriptSHA, b.keys, args...).Result()
	if err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
		b.calls.Add(int64(live))
		b.pipelines.Add(1)
		v, err = b.client.Eval(ctx, scriptSource, b.keys, args...).Result()
	}
	failed := err
	j := 0
	for _, p := range batch {
		if p == nil {
			continue
		}
		if err != nil {
			p.err = err
		} else {
			p.val, p.err = programReply(v, j)
			if failed == nil {
				failed = p.err
			}
		}
		j++
		close(p.done)
	}
	b.trip(failed)
}
