package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// TestBatchedCallFollowsMovedSlot: when the {prefix} slot moves to
// another primary, the batch's one EVALSHA is answered MOVED and the
// Cluster client sends it there: the calls are counted on the new owner,
// none goes to the failure policy.
func TestBatchedCallFollowsMovedSlot(t *testing.T) {
	nodes, st := clusterStore(t)
	if err := st.Run(context.Background(), time.Now(), throttle(100), newResult(1)); err != nil {
		t.Fatal(err) // the client now knows the slot's owner
	}
	owner := -1
	for i, n := range nodes {
		if keys, _ := n.Do("keys", "{wootguard}:*").([]any); len(keys) > 0 {
			owner = i
		}
	}
	if owner < 0 {
		t.Fatal("no node holds the counter")
	}
	nodes[owner].Do("flushall") // an empty slot may be reassigned at once
	target := nodes[(owner+1)%len(nodes)]
	slot := nodes[0].Do("cluster", "keyslot", "{wootguard}")
	id := target.Do("cluster", "myid")
	target.Do("cluster", "setslot", slot, "node", id)
	for _, n := range nodes {
		if n != target {
			n.Do("cluster", "setslot", slot, "node", id)
		}
	}
	waitFor(t, "every node to name the new owner", func() bool {
		for _, n := range nodes {
			if slotOwner(n, slot.(int64)) != target.Port {
				return false
			}
		}
		return true
	})
	for _, n := range nodes {
		n.Do("client", "pause", 300) // the calls queue, and go as batches
	}
	counts, errs := decideConcurrently(st, 32, throttle(100))
	wantEachCountOnce(t, counts, errs, ", on the slot's new owner")
	if keys, _ := target.Do("keys", "{wootguard}:*").([]any); len(keys) == 0 {
		t.Fatal("the slot's new owner holds no counter")
	}
	if s := st.Stats(); s.Pipelines >= s.RoundTrips || s.Errors != 0 {
		t.Fatalf("stats %+v: want batches and no error", s)
	}
}

// slotOwner is the port of the primary that n says serves slot.
func slotOwner(n *redistest.Server, slot int64) int {
	ranges, _ := n.Do("cluster", "slots").([]any)
	for _, r := range ranges {
		r, _ := r.([]any)
		if len(r) < 3 {
			continue
		}
		from, _ := r[0].(int64)
		to, _ := r[1].(int64)
		primary, _ := r[2].([]any)
		if from <= slot && slot <= to && len(primary) >= 2 {
			port, _ := primary[1].(int64)
			return int(port)
		}
	}
	return 0
}
