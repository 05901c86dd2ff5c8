package rules_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// An unknown client (a trusted proxy sent junk) matches no IP list, not
// even 0.0.0.0/0, and all unknown clients share one "ip" bucket.
func TestUnknownClientSharesOneBucketAndMatchesNoIPRule(t *testing.T) {
	limit := int64(2)
	spec := rules.Spec{
		Safelists: []rules.ListRule{{Name: "everyone", IP: rules.StringList{"0.0.0.0/0", "::/0"}}},
		Throttles: []rules.Throttle{{Name: "per-ip", Limit: &limit, Period: rules.Duration(time.Minute), Key: rules.StringList{"ip"}}},
	}
	st := memory.New(memory.Options{SweepEvery: -1})
	defer st.Close()
	eng, err := rules.Compile(spec, rules.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	var got []rules.Action
	var types []string
	for range 3 {
		r := rules.Request{Method: "GET", Path: "/x", Header: http.Header{}, UnknownClient: true}
		d, err := eng.Decide(context.Background(), now, &r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d.Action)
		types = append(types, d.Type)
		if d.Action == rules.ActionThrottle && d.Discriminator != rules.UnknownClientKey {
			t.Errorf("discriminator %q, want %q", d.Discriminator, rules.UnknownClientKey)
		}
	}
	if types[0] == "safelist" || got[1] != rules.ActionPass || got[2] != rules.ActionThrottle {
		t.Fatalf("unknown clients: %v %v, want counted in one bucket and throttled on the 3rd", got, types)
	}
	// Without the mark a zero IP is Rack::Attack's nil discriminator: the
	// throttle is skipped (the engine's old contract, kept for callers).
	r := rules.Request{Method: "GET", Path: "/x", Header: http.Header{}}
	if d, _ := eng.Decide(context.Background(), now, &r); d.Action == rules.ActionThrottle {
		t.Fatalf("zero IP without UnknownClient throttled: %+v", d)
	}
}
