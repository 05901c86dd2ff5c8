package rules_test

import (
	"context"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/preset"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/memory"
)

// The engine reads a JSON body's params by a targeted scan
// (railsreq.Request.Want); a Request whose params were read before
// Decide (Param) keeps the full parse. Both must decide alike, request
// after request, on the preset's body-reading routes.
func TestDecideTargetedJSONMatchesFullParse(t *testing.T) {
	spec, _ := preset.Chatwoot(func(string) string { return "" })
	engine := func() *rules.Engine {
		st := memory.New(memory.Options{SweepEvery: -1})
		t.Cleanup(func() { st.Close() })
		e, err := rules.Compile(spec, rules.Options{Store: st, StripExtension: true})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	targeted, full := engine(), engine()
	bodies := []string{
		`{"email":"A@B.io","password":"x"}`, `{"email":" a@b.io ","email":"C@D.io"}`, `{"email":["a@b.io"]}`,
		`{"email":{"x":1}}`, `{"email":12}`, `{"email":null}`, `{"email":"  "}`, `{"em\u0061il":"esc@x"}`,
		`{"email":"\u0130lker@x.io"}`, `{"email":"K\u212aelvin@x"}`, `{"email":"a @b\t.io"}`, `/*c*/{"email"://c` + "\n" + `"c@x"}`,
		`{"email":"a@b.io"`, `{"email":"a@b.io"}x`, "{\"email\":\"\xff\",\"email\":\"ok@x\"}", "{\"email\":\"ok@x\",\"p\":\"\xff\"}",
		`{"mfa_token":"t","email":"a@b"}`, `{"mfa_token":"","mfa_setup_token":["x"]}`, `{"mfa_token":5}`,
		`{"super_admin":{"email":"S@x"}}`, `{"super_admin":{"email":["a","b"]}}`, `{"super_admin":{"email":"s@x"},"super_admin":1}`,
		`["a@b.io"]`, `{"email":"` + strings.Repeat("long", 100) + `@x"}`, `{"email":"` + strings.Repeat("[", 50) + `"}`,
	}
	paths := []string{"/auth/sign_in", "/auth/password", "/super_admin/sign_in", "/resend_confirmation", "/auth/sign_in.json"}
	now := time.Unix(1_800_000_000, 0)
	n := 0
	keyed := map[string]bool{}
	// A new client each time, so that the per-IP throttles never refuse
	// first: the email throttles do, and their decision shows the key.
	for round := 0; round < 12; round++ {
		for _, path := range paths {
			for _, body := range bodies {
				for _, h := range []http.Header{{"Content-Type": {"application/json"}}, {"Content-Type": {"application/json"}, "Email": {"hdr@x"}}} {
					n++
					ip := netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)})
					mk := func() rules.Request {
						return rules.Request{Method: "POST", Path: path, IP: ip, Header: h, Body: []byte(body)}
					}
					rt, rf := mk(), mk()
					rf.Param("email") // builds the full parse before Decide
					dt, errT := targeted.Decide(context.Background(), now, &rt)
					df, errF := full.Decide(context.Background(), now, &rf)
					if df.Discriminator != "" && df.Rule != "req/ip" {
						keyed[df.Rule] = true
					}
					if (errT == nil) != (errF == nil) || !reflect.DeepEqual(dt, df) {
						t.Fatalf("%s %q: targeted %+v (%v), full parse %+v (%v)", path, body, dt, errT, df, errF)
					}
				}
			}
		}
	}
	for _, rule := range []string{"login/email", "reset_password/email", "super_admin_login/email", "resend_confirmation/email"} {
		if !keyed[rule] {
			t.Errorf("no decision by %s: its key was never compared", rule)
		}
	}
}
