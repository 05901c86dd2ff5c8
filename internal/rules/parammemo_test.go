package rules_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// A Request decided by one engine and then by another (a rule set
// reloaded, a second engine explaining it) is decided by the second as a
// fresh one: the param memo of the first, whose slots are another
// engine's params, is not read as the second's.
func TestParamMemoOfAnotherEngine(t *testing.T) {
	lim := func(n int64) *int64 { return &n }
	compile := func(first, second string) *rules.Engine {
		st := memory.New(memory.Options{SweepEvery: -1})
		t.Cleanup(func() { st.Close() })
		// "first" takes memo slot 0, "second" slot 1.
		e, err := rules.Compile(rules.Spec{Throttles: []rules.Throttle{
			{Name: "on-" + first, Limit: lim(0), Period: rules.Duration(time.Minute), Key: rules.StringList{"ip"},
				Match: &rules.Match{ParamPresent: rules.StringList{first}}},
			{Name: "on-" + second, Limit: lim(0), Period: rules.Duration(time.Minute), Key: rules.StringList{"ip"},
				Match: &rules.Match{ParamPresent: rules.StringList{second}}},
		}}, rules.Options{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	xy, yx := compile("x", "y"), compile("y", "x")
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct{ name, query, want string }{
		{"x present, y absent", "x=1", "on-x"},
		{"y present, x absent", "y=1", "on-y"},
		{"both absent", "z=1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &rules.Request{Method: "GET", Path: "/", RawQuery: tc.query, IP: netip.MustParseAddr("192.0.2.1")}
			if _, err := xy.Decide(context.Background(), now, req); err != nil {
				t.Fatal(err)
			}
			d, err := yx.Decide(context.Background(), now, req)
			if err != nil {
				t.Fatal(err)
			}
			if d.Rule != tc.want {
				t.Errorf("the second engine on the reused request: rule %q, want %q", d.Rule, tc.want)
			}
		})
	}
}
