package railsreq

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/testsvc"
)

// randomParamRequest builds a request from pieces chosen to hit parser
// edges: nested names, repeated keys, escapes (some invalid), "+", "=",
// ";" and spaces, in a query, a form, a JSON or a multipart body. Names
// avoid stray brackets, which Rack 2 (the oracle) and Rack 3.2 read
// differently (see oracleCases).
func randomParamRequest(rng *rand.Rand) (method, target, ct, body string) {
	names := []string{"a", "b", "email", "_method", "a[]", "a[x]", "a[][x]", "u[e]", "u[e][]"}
	vals := []string{"1", "", "x+y", "%41", "%zz", "a=b", "a;b", "%FF", "%C3%A9", "put", "DELETE", " s ", "%2B", "%00"}
	pair := func() string {
		n := names[rng.IntN(len(names))]
		if rng.IntN(8) == 0 {
			return n // no "=": nil
		}
		return n + "=" + vals[rng.IntN(len(vals))]
	}
	pairs := func() string {
		var ps []string
		for range 1 + rng.IntN(4) {
			ps = append(ps, pair())
		}
		sep := "&"
		if rng.IntN(6) == 0 {
			sep = "& "
		}
		return strings.Join(ps, sep)
	}
	method, target = "POST", "/p"
	if rng.IntN(2) == 0 {
		target += "?" + strings.ReplaceAll(pairs(), " ", "")
	}
	switch rng.IntN(4) {
	case 0:
		ct, body = "application/x-www-form-urlencoded", pairs()
	case 1:
		jv := []string{`"x"`, `7`, `1.5`, `true`, `false`, `null`, `[]`, `{}`, `["a",null]`, `{"e":"v"}`, `"\u00e9"`, `"a\/b"`, `1e400`}
		var kv []string
		for range 1 + rng.IntN(3) {
			kv = append(kv, fmt.Sprintf("%q:%s", []string{"a", "email", "_method", "u"}[rng.IntN(4)], jv[rng.IntN(len(jv))]))
		}
		ct, body = "application/json", "{"+strings.Join(kv, ",")+"}"
		if rng.IntN(8) == 0 {
			body = body[:len(body)-1] // broken
		}
	case 2:
		var b strings.Builder
		for range 1 + rng.IntN(3) {
			n := names[rng.IntN(len(names))]
			v := []string{"x", "", "put", "é", "a\r\nb"}[rng.IntN(5)]
			fmt.Fprintf(&b, "--B\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", n, v)
		}
		b.WriteString("--B--\r\n")
		ct, body = "multipart/form-data; boundary=B", b.String()
	default:
		method = []string{"GET", "PUT", "POST"}[rng.IntN(3)]
	}
	return method, target, ct, body
}

// TestRandomParamsAgainstRailsOracle: a few hundred generated requests,
// each read by railsreq and by ActionDispatch, must agree.
func TestRandomParamsAgainstRailsOracle(t *testing.T) {
	base := testsvc.Env(t, "WOOTGUARD_TEST_RAILS_ORACLE", "the Rails oracle (scripts/services/rails_oracle.sh)")
	rng := rand.New(rand.NewPCG(7, 12))
	for i := range 300 {
		method, target, ct, body := randomParamRequest(rng)
		hr, err := http.NewRequest(method, base+target, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ct != "" {
			hr.Header.Set("Content-Type", ct)
		}
		hr.Header.Set("X-Forwarded-For", "203.0.113.10")
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Method      string          `json:"method"`
			Params      json.RawMessage `json:"params"`
			ParamsError string          `json:"params_error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&rep)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("#%d %s %s: oracle: %v", i, method, target, err)
		}
		_, query, _ := strings.Cut(target, "?")
		r := &Request{Method: method, RawQuery: query, Header: hr.Header, Body: []byte(body)}
		desc := fmt.Sprintf("#%d %s %s [%s] %q", i, method, target, ct, body)
		if got := r.MethodOverride(); got != rep.Method {
			t.Errorf("%s: method %s, Rails %s", desc, got, rep.Method)
		}
		v, err := r.Params()
		switch {
		case rep.ParamsError != "" && err == nil:
			t.Errorf("%s: Rails refuses (%s), railsreq read %s", desc, rep.ParamsError, v.ToS())
		case rep.ParamsError == "" && err != nil:
			t.Errorf("%s: railsreq: %v; Rails read %s", desc, err, rep.Params)
		case err == nil:
			var want, got any
			json.Unmarshal(rep.Params, &want)
			ours, _ := json.Marshal(encodeLikeOracle(v))
			json.Unmarshal(ours, &got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n railsreq %s\n Rails    %s", desc, ours, rep.Params)
			}
		}
	}
}
