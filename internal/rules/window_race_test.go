package rules_test

import (
	"context"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// The window digits a pooled scratch keeps across decisions are the
// window of each decision: clients deciding at once, each alternating
// between two windows (and the two throttles between two periods), count
// every window on its own. Run with -race.
func TestWindowDigitsConcurrent(t *testing.T) {
	lim := func(n int64) *int64 { return &n }
	st := memory.New(memory.Options{SweepEvery: -1})
	t.Cleanup(func() { st.Close() })
	e, err := rules.Compile(rules.Spec{Throttles: []rules.Throttle{
		{Name: "minute", Limit: lim(1000), Period: rules.Duration(time.Minute), Key: rules.StringList{"ip"}},
		{Name: "hour", Limit: lim(1000), Period: rules.Duration(time.Hour), Key: rules.StringList{"ip"}},
	}}, rules.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_800_000_000-1_800_000_000%3600, 0)
	const clients, rounds = 8, 200
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for c := range clients {
		wg.Go(func() {
			ip := netip.AddrFrom4([4]byte{192, 0, 2, byte(c + 1)})
			for i := range rounds {
				// Even rounds in the first minute, odd ones in the
				// second hour: both windows of both rules differ.
				at := start.Add(time.Duration(i%2) * (time.Hour + time.Minute))
				d, err := e.Decide(context.Background(), at, &rules.Request{Method: "GET", Path: "/", IP: ip})
				if err != nil {
					errs <- err.Error()
					return
				}
				// The tighter quota is the minute's once it has fewer left.
				if want := int64(1000 - (i/2 + 1)); !d.QuotaValid || d.Quota.Remaining != want {
					errs <- "client " + ip.String() + ": remaining quota " + strconv.FormatInt(d.Quota.Remaining, 10) + ", want " + strconv.FormatInt(want, 10)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
