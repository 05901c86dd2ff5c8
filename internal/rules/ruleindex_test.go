package rules_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/wootguard/wootguard/internal/preset"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// The throttle index may only leave out throttles whose matcher fails,
// and may settle (skip mayMatch for) only candidates whose mayMatch
// holds: on the preset (one word of rules) and on a spec of 70 throttles
// (two words) mixing path, method, regex, any and no conditions, for
// every method and path view.
func TestThrottleIndexKeepsEveryMatch(t *testing.T) {
	chatwoot, _ := preset.Chatwoot(func(string) string { return "" })
	limit := int64(5)
	var big rules.Spec
	for i := range 70 {
		th := rules.Throttle{Name: fmt.Sprintf("t%d", i), Limit: &limit, Period: rules.Duration(60e9), Key: rules.StringList{"ip"}}
		switch i % 7 {
		case 0:
			th.Match = &rules.Match{Path: rules.StringList{"/auth/sign_in"}, Method: rules.StringList{"POST"}}
		case 1:
			th.Match = &rules.Match{Path: rules.StringList{"/api/v1/accounts", "/widget"}, Extensions: "keep"}
		case 2:
			th.Match = &rules.Match{PathRegex: `^/api/v1/accounts/\d+/conversations`, Method: rules.StringList{"GET", "DELETE"}}
		case 3:
			th.Match = &rules.Match{Any: []rules.Match{{Path: rules.StringList{"/auth/sign_in"}}, {Method: rules.StringList{"PATCH"}}}}
		case 4:
			th.Match = &rules.Match{Path: rules.StringList{"/Health"}, Extensions: "exact"}
		case 5:
			th.Match = &rules.Match{PathPrefix: rules.StringList{"/api/"}, Method: rules.StringList{"PUT"}}
		}
		big.Throttles = append(big.Throttles, th)
	}
	methods := []string{"GET", "POST", "DELETE", "PATCH", "PUT", ""}
	paths := []string{"/auth/sign_in", "/auth/sign_in.json", "//auth/sign_in/", "/auth/sign%5Fin", "/super_admin/sign_in",
		"/api/v1/accounts", "/api/v1/accounts.json", "/api/v1/accounts/1/conversations/2/transcript",
		"/api/v1/accounts/1/conversations/2", "/api/v1/accounts/ 09/agents/bulk_create", "/api/v1/accounts/1/agents/3",
		"/api/v1/accounts/1/upload.json", "/api/v1/accounts/1/contacts/search", "/api/v2/accounts/1/reports/drilldown",
		"/api/v2/accounts/1/reports", "/api/v1/accounts/1/conversations/meta", "/api/v1/widget/contact", "/api/v1/widget/messages",
		"/widget", "/widget.js", "/Health", "/health", "/api/v1/profile/mfa", "/api/v1/profile/mfa/verify", "/API/v1/accounts", "/", ""}
	headers := []http.Header{{}, {"X-Http-Method-Override": {"delete"}}, {"x_http_method_override": {"PATCH"}}}
	for name, spec := range map[string]rules.Spec{"chatwoot": chatwoot, "big": big} {
		for _, strip := range []bool{true, false} {
			st := memory.New(memory.Options{SweepEvery: -1})
			defer st.Close()
			e, err := rules.Compile(spec, rules.Options{Store: st, StripExtension: strip})
			if err != nil {
				t.Fatal(err)
			}
			left := 0
			for _, m := range methods {
				for _, p := range paths {
					for _, h := range headers {
						r := &rules.Request{Method: m, Path: p, Header: h}
						cand, matched, wronglySettled := e.ThrottleCandidates(r)
						for i := range cand {
							if matched[i] && !cand[i] {
								t.Errorf("%s strip=%v: %s %q %v: throttle %d matches but is no candidate", name, strip, m, p, h, i)
							}
							if wronglySettled[i] {
								t.Errorf("%s strip=%v: %s %q %v: throttle %d settled but its method or path fails", name, strip, m, p, h, i)
							}
							if !cand[i] {
								left++
							}
						}
					}
				}
			}
			if left == 0 {
				t.Errorf("%s strip=%v: the index never left a throttle out", name, strip)
			}
		}
	}
}
