package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/preset"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/memory"
	"github.com/wootguard/wootguard/internal/testsvc"
)

// recorder is the memory store that remembers which throttle counters
// each program incremented (the ones that ran: a throttled request stops
// the program there).
type recorder struct {
	*memory.Store
	mu   sync.Mutex
	keys []string
}

func (r *recorder) Run(ctx context.Context, now time.Time, program []store.Op, res *store.Result) error {
	err := r.Store.Run(ctx, now, program, res)
	n := len(program)
	if res.Stop != store.Completed {
		n = res.StopAt + 1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, op := range program[:n] {
		if op.Kind == store.OpThrottle {
			r.keys = append(r.keys, op.Key)
		}
	}
	return err
}

// take returns rule → discriminator for the counters recorded since the
// last call. Keys are "wootguard:WINDOW:NAME:DISCRIMINATOR" and names
// contain ":", so they are matched against the known names.
func (r *recorder) take(names []string) map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for _, k := range r.keys {
		rest := k[strings.IndexByte(k[len("wootguard:"):], ':')+len("wootguard:")+1:]
		best := ""
		for _, n := range names {
			if strings.HasPrefix(rest, n+":") && len(n) > len(best) {
				best = n
			}
		}
		out[best] = rest[len(best)+1:]
	}
	r.keys = nil
	return out
}

// presetRig is a gateway with the Chatwoot preset (defaults, trusting
// 127.0.0.1) over a recorder, in front of a stub upstream.
type presetRig struct {
	t     *testing.T
	url   string
	rec   *recorder
	names []string
}

func newPresetRig(t *testing.T, env map[string]string) *presetRig {
	return newPresetRigFile(t, env, "")
}

// newPresetRigFile also reads Chatwoot's variables from a .env file
// (where an empty value is set, not missing).
func newPresetRigFile(t *testing.T, env map[string]string, dotenv string) *presetRig {
	t.Helper()
	up := newUpstream(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "wootguard.yaml")
	yaml := "upstream: " + up.URL + "\nclient_ip: {trusted_proxies: [127.0.0.1]}\nstore: {key_secret: " + fidelitySecret + "}\n"
	if dotenv != "" {
		os.WriteFile(filepath.Join(dir, ".env"), []byte(dotenv), 0o600)
		yaml += "chatwoot_env_file: .env\n"
	}
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Store: memory.New(memory.Options{SweepEvery: -1})}
	t.Cleanup(func() { rec.Close() })
	opts, err := gateway.FromConfig(cfg, rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	clk.set(1_800_000_000)
	opts.Now = clk.now
	srv := httptest.NewServer(gateway.New(opts))
	t.Cleanup(srv.Close)
	r := &presetRig{t: t, url: srv.URL, rec: rec}
	for _, th := range cfg.Spec.Throttles {
		r.names = append(r.names, th.Name)
	}
	return r
}

// fidelityReq is one request of the preset table.
type fidelityReq struct {
	name          string
	method, path  string // path with its query
	ct, body      string
	header        map[string]string
	headers       map[string][]string // repeated headers
	ip            string              // X-Forwarded-For; default 203.0.113.7
	safe          bool                // safelisted: nothing counts, not even req/ip
	want          map[string]string
	diff          string // a preset.Differences ID: Chatwoot counts otherwise
	oracleSkipped string // why the Rack 2 oracle cannot judge this row
}

func (q fidelityReq) httpRequest(t *testing.T, base string) *http.Request {
	t.Helper()
	method := q.method
	if method == "" {
		method = "GET"
	}
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	hr, err := http.NewRequest(method, base+q.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if q.ct != "" {
		hr.Header.Set("Content-Type", q.ct)
	}
	hr.Header.Set("X-Forwarded-For", q.client())
	for k, v := range q.header {
		hr.Header[k] = []string{v} // as given: underscores stay
	}
	for k, vs := range q.headers {
		hr.Header[k] = vs
	}
	return hr
}

func (q fidelityReq) client() string {
	if q.ip == "" {
		return "203.0.113.7"
	}
	return q.ip
}

// wantAll is the row's expectation with req/ip added (everything that
// is not safelisted counts there).
func (q fidelityReq) wantAll() map[string]string {
	out := map[string]string{}
	if !q.safe {
		out["req/ip"] = q.client()
	}
	for k, v := range q.want {
		out[k] = v
	}
	return out
}

const dtaOK = `{"uid":"Agent@X.io","client":"c1","access-token":"t1"}`

func multipartBody(fields ...string) (string, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		w.WriteField(fields[i], fields[i+1])
	}
	w.Close()
	return w.FormDataContentType(), b.String()
}

// fidelityRows are the preset's table: every branch of Chatwoot's rules
// and every parser differential, each with what must be counted.
func fidelityRows() []fidelityReq {
	const ip = "203.0.113.7"
	mpCT, mpBody := multipartBody("email", "Multi@X.io", "password", "x")
	mpAdminCT, mpAdminBody := multipartBody("super_admin[email]", "Root@X.io")
	b64 := base64.StdEncoding.EncodeToString
	// unparsed is what a sign-in whose params cannot be known counts: every
	// sign-in rule, param keys as <unparsed>:CLIENT.
	unparsed := map[string]string{"login/ip": ip, "login/email": "<unparsed>:" + ip, "mfa_login/ip": ip, "mfa_login/token": "<unparsed>:" + ip,
		"mfa_setup_login/ip": ip, "mfa_setup_login/token": "<unparsed>:" + ip}
	login := func(email string) map[string]string {
		m := map[string]string{"login/ip": ip}
		if email != "" {
			m["login/email"] = email
		}
		return m
	}
	j := "application/json"
	f := "application/x-www-form-urlencoded"
	return []fidelityReq{
		// login and its email key
		{name: "login json", method: "POST", path: "/auth/sign_in", ct: j, body: `{"email":" A@B.io ","password":"x"}`, want: login("a@b.io")},
		{name: "login email inner space", method: "POST", path: "/auth/sign_in", ct: j, body: `{"email":"a @b.\tio"}`, want: login("a@b.io")},
		{name: "login email number", method: "POST", path: "/auth/sign_in", ct: j, body: `{"email":7}`, want: login("")},
		{name: "login email array", method: "POST", path: "/auth/sign_in", ct: j, body: `{"email":["a@b.io"]}`, want: login("")},
		{name: "login email object", method: "POST", path: "/auth/sign_in", ct: j, body: `{"email":{"a":"b"}}`, want: login("")},
		{name: "login email blank", method: "POST", path: "/auth/sign_in", ct: j, body: `{"email":"   "}`, want: login("")},
		{name: "login email null", method: "POST", path: "/auth/sign_in", ct: j, body: `{"email":null}`, want: login("")},
		{name: "login email header", method: "POST", path: "/auth/sign_in", header: map[string]string{"Email": "Hdr@X.io"}, want: login("hdr@x.io")},
		{name: "login param beats header", method: "POST", path: "/auth/sign_in", ct: j, body: `{"email":"p@x.io"}`, header: map[string]string{"Email": "h@x.io"}, want: login("p@x.io")},
		{name: "login form", method: "POST", path: "/auth/sign_in", ct: f, body: "email=VICTIM%40x.io&password=x", want: login("victim@x.io")},
		{name: "login form no content type", method: "POST", path: "/auth/sign_in", body: "email=n@x.io", want: login("n@x.io")},
		{name: "login multipart", method: "POST", path: "/auth/sign_in", ct: mpCT, body: mpBody, want: login("multi@x.io")},
		{name: "login .json", method: "POST", path: "/auth/sign_in.json", ct: j, body: `{"email":"e@x.io"}`, want: login("e@x.io")},
		{name: "login trailing slash", method: "POST", path: "/auth/sign_in/", ct: j, body: `{"email":"e@x.io"}`, want: login("e@x.io")},
		{name: "login double slash", method: "POST", path: "//auth//sign_in", ct: j, body: `{"email":"e@x.io"}`, want: login("e@x.io")},
		{name: "login json comments", method: "POST", path: "/auth/sign_in", ct: j, body: "{\"email\" /* c */ : \"c@x.io\", // x\n\"password\":\"p\"}", want: login("c@x.io")},
		{name: "login problem+json", method: "POST", path: "/auth/sign_in", ct: "application/problem+json", body: `{"email":"p@x.io"}`, want: login("p@x.io")},
		{name: "login json with comma type", method: "POST", path: "/auth/sign_in", ct: "application/json, text/plain", body: `{"email":"k@x.io"}`, want: login("k@x.io")},
		{name: "login vendor json is not parsed", method: "POST", path: "/auth/sign_in", ct: "application/vnd.api+json", body: `{"email":"v@x.io"}`, want: login("")},
		{name: "login text/plain is not parsed", method: "POST", path: "/auth/sign_in", ct: "text/plain", body: "email=t@x.io", want: login("")},
		{name: "query ; is not a separator", method: "POST", path: "/auth/sign_in?a=1;email=q@x.io", want: login("")},
		{name: "login via query", method: "POST", path: "/auth/sign_in?email=Q@x.io", want: login("q@x.io")},
		{name: "login GET is not a login", path: "/auth/sign_in?email=g@x.io"},
		{name: "login multipart Name is not name", method: "POST", path: "/auth/sign_in", ct: "multipart/form-data; boundary=B", body: "--B\r\nContent-Disposition: form-data; Name=\"email\"\r\n\r\nx@x.io\r\n--B--\r\n", want: login(""),
			oracleSkipped: "Rack 2 reads Name= case-insensitively; Rack 3.2 only the lower-case name parameter (railsreq TestBodies)"},
		{name: "login multipart file named email", method: "POST", path: "/auth/sign_in", ct: "multipart/form-data; boundary=B", body: "--B\r\nContent-Disposition: form-data; name=\"email\"; filename=\"e.txt\"\r\n\r\nx@x.io\r\n--B--\r\n", want: login("")},
		{name: "login multipart/mixed", method: "POST", path: "/auth/sign_in", ct: "multipart/mixed; boundary=B", body: "--B\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nmix@x.io\r\n--B--\r\n", want: login("mix@x.io")},
		{name: "login multipart without boundary is a form", method: "POST", path: "/auth/sign_in", ct: "multipart/form-data", body: "email=nb@x.io", want: login("nb@x.io")},
		{name: "login multipart unquoted name", method: "POST", path: "/auth/sign_in", ct: "multipart/form-data; boundary=B", body: "--B\r\nContent-Disposition: form-data; name=email\r\n\r\nuq@x.io\r\n--B--\r\n", want: login("uq@x.io")},
		{name: "login form upper-case type", method: "POST", path: "/auth/sign_in", ct: "Application/X-WWW-Form-Urlencoded;charset=UTF-8", body: "email=up@x.io", want: login("up@x.io")},
		{name: "login json nested email", method: "POST", path: "/auth/sign_in", ct: j, body: `{"user":{"email":"n@x.io"}}`, want: login("")},
		{name: "login json top-level array", method: "POST", path: "/auth/sign_in", ct: j, body: `[{"email":"a@x.io"}]`, want: login("")},
		{name: "login json duplicate key", method: "POST", path: "/auth/sign_in", ct: j, body: `{"email":"first@x.io","email":"last@x.io"}`, want: login("last@x.io")},
		{name: "login json unicode email", method: "POST", path: "/auth/sign_in", ct: j, body: `{"email":"\u212Aelvin@X.io"}`, want: login("kelvin@x.io")},
		{name: "login form repeated email", method: "POST", path: "/auth/sign_in", ct: f, body: "email=a@x.io&email=b@x.io", want: login("b@x.io")},
		{name: "login repeated email header", method: "POST", path: "/auth/sign_in", headers: map[string][]string{"Email": {"a@x.io", "b@x.io"}}, want: login("a@x.io,b@x.io")},
		{name: "repeated override header", method: "POST", path: "/api/v1/accounts/9/conversations/12", headers: map[string][]string{"X-Http-Method-Override": {"DELETE", "DELETE"}}},
		// MFA
		{name: "mfa token", method: "POST", path: "/auth/sign_in", ct: j, body: `{"mfa_token":"Abc","code":"1"}`, want: map[string]string{"mfa_login/ip": ip, "mfa_login/token": "abc"}},
		{name: "mfa token number", method: "POST", path: "/auth/sign_in", ct: j, body: `{"mfa_token":7,"email":"m@x.io"}`, want: login("m@x.io")},
		{name: "mfa token false", method: "POST", path: "/auth/sign_in", ct: j, body: `{"mfa_token":false,"email":"m@x.io"}`, want: login("m@x.io")},
		{name: "mfa token true", method: "POST", path: "/auth/sign_in", ct: j, body: `{"mfa_token":true,"email":"m@x.io"}`, want: login("m@x.io")},
		{name: "mfa token blank", method: "POST", path: "/auth/sign_in", ct: f, body: "mfa_token=+&email=m@x.io", want: login("m@x.io")},
		{name: "mfa setup token", method: "POST", path: "/auth/sign_in", ct: f, body: "mfa_setup_token=S1", want: map[string]string{"mfa_setup_login/ip": ip, "mfa_setup_login/token": "s1"}},
		{name: "mfa verification delete", method: "DELETE", path: "/api/v1/profile/mfa", want: map[string]string{"mfa_verification/ip": ip}},
		{name: "mfa verification verify", method: "POST", path: "/api/v1/profile/mfa/verify.json", want: map[string]string{"mfa_verification/ip": ip}},
		{name: "mfa verification backup codes", method: "POST", path: "/api/v1/profile/mfa/backup_codes", want: map[string]string{"mfa_verification/ip": ip}},
		{name: "mfa verification get", path: "/api/v1/profile/mfa/verify"},
		// the other email rules: no header fallback
		{name: "reset password", method: "POST", path: "/auth/password", ct: j, body: `{"email":"R@x.io"}`, want: map[string]string{"reset_password/ip": ip, "reset_password/email": "r@x.io"}},
		{name: "reset password header ignored", method: "POST", path: "/auth/password", header: map[string]string{"Email": "h@x.io"}, want: map[string]string{"reset_password/ip": ip}},
		{name: "resend confirmation", method: "POST", path: "/resend_confirmation", ct: f, body: "email=c@x.io", want: map[string]string{"resend_confirmation/ip": ip, "resend_confirmation/email": "c@x.io"}},
		{name: "resend confirmation auth", method: "POST", path: "/api/v1/profile/resend_confirmation", want: map[string]string{"resend_confirmation_auth/ip": ip}},
		{name: "signup", method: "POST", path: "/api/v1/accounts", want: map[string]string{"accounts/ip": ip}},
		// super admin
		{name: "super admin email", method: "POST", path: "/super_admin/sign_in", ct: f, body: "email=Root@X.io", want: map[string]string{"super_admin_login/ip": ip, "super_admin_login/email": "root@x.io"}},
		{name: "super admin no email is one bucket", method: "POST", path: "/super_admin/sign_in", want: map[string]string{"super_admin_login/ip": ip, "super_admin_login/email": ""}},
		{name: "super admin email array", method: "POST", path: "/super_admin/sign_in", ct: f, body: "email[]=A@x.io", want: map[string]string{"super_admin_login/ip": ip, "super_admin_login/email": `["a@x.io"]`}},
		{name: "super admin nested email", method: "POST", path: "/super_admin/sign_in", ct: f, body: "super_admin%5Bemail%5D=Root@X.io&super_admin%5Bpassword%5D=x", diff: "super-admin-nested-email",
			want: map[string]string{"super_admin_login/ip": ip, "super_admin_login/email": "root@x.io"}},
		{name: "super admin nested email multipart", method: "POST", path: "/super_admin/sign_in", ct: mpAdminCT, body: mpAdminBody, diff: "super-admin-nested-email",
			want: map[string]string{"super_admin_login/ip": ip, "super_admin_login/email": "root@x.io"}},
		// widget
		{name: "widget conversation", method: "POST", path: "/api/v1/widget/conversations?website_token=WT1", want: map[string]string{"api/v1/widget/conversations": ip + ":wt1"}},
		{name: "widget conversation no token", method: "POST", path: "/api/v1/widget/conversations?website_token="},
		{name: "widget conversation token array", method: "POST", path: "/api/v1/widget/conversations", ct: j, body: `{"website_token":["wt9"]}`, want: map[string]string{"api/v1/widget/conversations": ip + `:["wt9"]`}},
		{name: "widget conversation token hash", method: "POST", path: "/api/v1/widget/conversations", ct: j, body: `{"website_token":{"a":1}}`, want: map[string]string{"api/v1/widget/conversations": ip + `:{"a" => 1}`}},
		{name: "widget conversation token number", method: "POST", path: "/api/v1/widget/conversations", ct: j, body: `{"website_token":1.5e20}`, want: map[string]string{"api/v1/widget/conversations": ip + ":1.5e+20"}},
		{name: "widget message query wins", method: "POST", path: "/api/v1/widget/messages?website_token=wt3", ct: f, body: "website_token=wt2", want: map[string]string{"api/v1/widget/messages": ip + ":wt3"}},
		{name: "widget contact patch", method: "PATCH", path: "/api/v1/widget/contact", want: map[string]string{"api/v1/widget/contact": ip}},
		{name: "widget contact put override", method: "POST", path: "/api/v1/widget/contact", ct: f, body: "_method=put", want: map[string]string{"api/v1/widget/contact": ip}},
		{name: "widget contact override not trimmed", method: "POST", path: "/api/v1/widget/contact", ct: f, body: "_method=put+"},
		{name: "widget contact override json is no form", method: "POST", path: "/api/v1/widget/contact", ct: j, body: `{"_method":"put"}`},
		{name: "widget contact override header", method: "POST", path: "/api/v1/widget/contact", header: map[string]string{"X-Http-Method-Override": "patch"}, want: map[string]string{"api/v1/widget/contact": ip}},
		{name: "widget contact empty _method beats header", method: "POST", path: "/api/v1/widget/contact", ct: f, body: "_method=", header: map[string]string{"X-Http-Method-Override": "PATCH"}},
		{name: "agents POST with an unread override body stays POST", method: "POST", path: "/api/v1/accounts/9/agents", ct: f, body: "_method=junk", header: map[string]string{"X-Http-Method-Override": "GET"},
			want: map[string]string{"/api/v1/accounts/:account_id/agents POST": "9"}},
		{name: "agents POST moved by _method", method: "POST", path: "/api/v1/accounts/9/agents", ct: f, body: "_method=delete", diff: "unread-form-override",
			want: map[string]string{"/api/v1/accounts/:account_id/agents POST": "9"}},
		{name: "widget contact override only from POST", method: "GET", path: "/api/v1/widget/contact", header: map[string]string{"X-Http-Method-Override": "PATCH"}},
		{name: "widget load", path: "/widget?website_token=x", want: map[string]string{"widget?website_token={website_token}&cw_conversation={x-auth-token}": ip}},
		{name: "widget load with conversation", path: "/widget?website_token=x&cw_conversation=abc"},
		{name: "widget load conversation false", path: "/widget", ct: j, body: `{"cw_conversation":false}`, want: map[string]string{"widget?website_token={website_token}&cw_conversation={x-auth-token}": ip}},
		{name: "widget load conversation 0", path: "/widget", ct: j, body: `{"cw_conversation":0}`},
		{name: "widget transcript", method: "POST", path: "/api/v1/widget/conversations/transcript", want: map[string]string{"api/v1/widget/conversations/transcript": ip}},
		// health
		{name: "health", path: "/health", safe: true},
		{name: "health trailing slash", path: "/health/", safe: true},
		{name: "health.json is counted", path: "/health.json"},
		{name: "encoded health is counted", path: "/%68ealth"},
		{name: "health double slash", path: "//health", safe: true},
		// application API
		{name: "transcript", path: "/api/v1/accounts/9/conversations/3/transcript", want: map[string]string{"/api/v1/accounts/:account_id/conversations/:conversation_id/transcript": "9"}},
		{name: "transcript .json keeps matching", path: "/api/v1/accounts/9/conversations/3/transcript.json", want: map[string]string{"/api/v1/accounts/:account_id/conversations/:conversation_id/transcript": "9"}},
		{name: "upload", method: "POST", path: "/api/v1/accounts/9/upload", want: map[string]string{"/api/v1/accounts/:account_id/upload": "9"}},
		{name: "contact search", path: "/api/v1/accounts/9/contacts/search?q=x", want: map[string]string{"/api/v1/accounts/:account_id/contacts/search": "9"}},
		{name: "conversation delete", method: "DELETE", path: "/api/v1/accounts/9/conversations/12", want: map[string]string{"/api/v1/accounts/:account_id/conversations/:id DELETE": "9"}},
		{name: "conversation delete override", method: "POST", path: "/api/v1/accounts/9/conversations/12", ct: f, body: "_method=delete", want: map[string]string{"/api/v1/accounts/:account_id/conversations/:id DELETE": "9"}},
		{name: "conversation delete override multipart", method: "POST", path: "/api/v1/accounts/9/conversations/12.json", ct: "multipart/form-data; boundary=XyZ", body: "--XyZ\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nDELETE\r\n--XyZ--\r\n", want: map[string]string{"/api/v1/accounts/:account_id/conversations/:id DELETE": "9"}},
		{name: "conversation delete header override", method: "POST", path: "/api/v1/accounts/9/conversations/12", header: map[string]string{"X-Http-Method-Override": "DELETE"}, want: map[string]string{"/api/v1/accounts/:account_id/conversations/:id DELETE": "9"}},
		{name: "conversation delete bogus override", method: "POST", path: "/api/v1/accounts/9/conversations/12", header: map[string]string{"X-Http-Method-Override": "REMOVE"}},
		{name: "agents create", method: "POST", path: "/api/v1/accounts/9/agents", want: map[string]string{"/api/v1/accounts/:account_id/agents POST": "9"}},
		{name: "agents bulk create", method: "POST", path: "/api/v1/accounts/9/agents/bulk_create/", want: map[string]string{"/api/v1/accounts/:account_id/agents POST": "9"}},
		{name: "agent delete", method: "DELETE", path: "/api/v1/accounts/9/agents/4.json", want: map[string]string{"/api/v1/accounts/:account_id/agents/:id DELETE": "9"}},
		{name: "reports token", path: "/api/v2/accounts/9/reports?metric=x", header: map[string]string{"Api_access_token": "Tok"},
			want: map[string]string{"/api/v2/accounts/:account_id/reports/user": "tok:9", "/api/v2/accounts/:account_id/reports": "9"}},
		{name: "reports no identity", path: "/api/v2/accounts/9/reports", want: map[string]string{"/api/v2/accounts/:account_id/reports": "9"}},
		{name: "reports uid beats token", path: "/api/v2/accounts/9/reports/summary", header: map[string]string{"Uid": "u1", "Api-Access-Token": "t"},
			want: map[string]string{"/api/v2/accounts/:account_id/reports/user": "u1:9", "/api/v2/accounts/:account_id/reports": "9"}},
		{name: "reports bearer dta", path: "/api/v2/accounts/9/reports", header: map[string]string{"Authorization": "Bearer " + b64([]byte(dtaOK))},
			want: map[string]string{"/api/v2/accounts/:account_id/reports/user": "agent@x.io:9", "/api/v2/accounts/:account_id/reports": "9"}},
		{name: "reports bearer lower case", path: "/api/v2/accounts/9/reports", header: map[string]string{"Authorization": "bearer " + b64([]byte(dtaOK)), "Uid": "hdr"},
			want: map[string]string{"/api/v2/accounts/:account_id/reports/user": "hdr:9", "/api/v2/accounts/:account_id/reports": "9"}},
		{name: "reports bearer opaque", path: "/api/v2/accounts/9/reports", header: map[string]string{"Authorization": "Bearer Opaque1"},
			want: map[string]string{"/api/v2/accounts/:account_id/reports/user": "opaque1:9", "/api/v2/accounts/:account_id/reports": "9"}},
		{name: "reports bearer incomplete dta", path: "/api/v2/accounts/9/reports", header: map[string]string{"Authorization": "Bearer " + b64([]byte(`{"uid":"a","client":"c"}`))},
			want: map[string]string{"/api/v2/accounts/:account_id/reports/user": strings.ToLower(b64([]byte(`{"uid":"a","client":"c"}`))) + ":9", "/api/v2/accounts/:account_id/reports": "9"}},
		{name: "reports empty bearer", path: "/api/v2/accounts/9/reports", header: map[string]string{"Authorization": "Bearer", "Uid": "u1"},
			want: map[string]string{"/api/v2/accounts/:account_id/reports": "9"}},
		{name: "drilldown", path: "/api/v2/accounts/9/reports/drilldown", header: map[string]string{"Uid": "u1"}, want: map[string]string{
			"/api/v2/accounts/:account_id/reports/drilldown/user": "u1:9", "/api/v2/accounts/:account_id/reports/user": "u1:9", "/api/v2/accounts/:account_id/reports": "9"}},
		{name: "drilldown post", method: "POST", path: "/api/v2/accounts/9/reports/drilldown", header: map[string]string{"Uid": "u1"}, want: map[string]string{
			"/api/v2/accounts/:account_id/reports/user": "u1:9", "/api/v2/accounts/:account_id/reports": "9"}},
		{name: "meta", path: "/api/v1/accounts/9/conversations/meta", header: map[string]string{"Api_access_token": "tok"}, want: map[string]string{"/api/v1/accounts/:account_id/conversations/meta/user": "tok:9"}},
		{name: "meta post", method: "POST", path: "/api/v1/accounts/9/conversations/meta", header: map[string]string{"Api_access_token": "tok"}},
		// deliberate differences
		{name: "percent-encoded path", method: "POST", path: "/auth/sign%5Fin", ct: j, body: `{"email":"e@x.io"}`, diff: "percent-decoding", want: login("e@x.io")},
		{name: "query over body", method: "POST", path: "/auth/sign_in?email=b@x.io", ct: f, body: "email=a@x.io", diff: "query-over-body", want: login("b@x.io")},
		{name: "ipv6 client", path: "/api/v1/accounts/1/conversations", ip: "2001:db8:1:2::7", diff: "ipv6-prefix", want: map[string]string{"req/ip": "2001:db8:1:2::/64"}},
		{name: "account alias 09", method: "POST", path: "/api/v1/accounts/09/upload", diff: "record-id-aliases", want: map[string]string{"/api/v1/accounts/:account_id/upload": "9"}},
		{name: "account alias 9-x", path: "/api/v1/accounts/9-x/contacts/search", diff: "record-id-aliases", want: map[string]string{"/api/v1/accounts/:account_id/contacts/search": "9"}},
		{name: "broken json fails closed", method: "POST", path: "/auth/sign_in", ct: j, body: `{"email":"x@x.io"`, diff: "fail-closed", want: unparsed},
		{name: "invalid utf-8 fails closed", method: "POST", path: "/auth/sign_in", ct: f, body: "email=%FF@x.io", diff: "fail-closed", want: unparsed},
		{name: "bad escape fails closed", method: "POST", path: "/auth/sign_in?x=%zz", ct: j, body: `{"email":"x@x.io"}`, diff: "fail-closed", want: unparsed},
		{name: "content type Rails rejects fails closed", method: "POST", path: "/auth/sign_in", ct: "application json", body: `{"email":"x@x.io"}`, diff: "fail-closed", want: unparsed},
		{name: "unparsed mfa token still counts login", method: "POST", path: "/auth/sign_in", ct: j, body: `{"mfa_token":"x"`, diff: "fail-closed", want: unparsed},
	}
}

// TestChatwootPresetTable sends every row through the real proxy and
// checks, for every rule, the discriminator counted (or that it was not).
func TestChatwootPresetTable(t *testing.T) {
	rig := newPresetRig(t, nil)
	for _, q := range fidelityRows() {
		got := rig.send(q)
		if want := q.wantAll(); !mapsEqual(got, want) {
			t.Errorf("%s: counted\n  %v\nwant\n  %v", q.name, fmtMap(got), fmtMap(want))
		}
	}
}

func (r *presetRig) send(q fidelityReq) map[string]string {
	r.t.Helper()
	r.rec.Reset(context.Background(), "")
	r.rec.take(nil)
	resp, err := http.DefaultClient.Do(q.httpRequest(r.t, r.url))
	if err != nil {
		r.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return unhashTokens(r.rec.take(r.names), q)
}

// fidelitySecret is the rig's store.key_secret. Tokens reach the store
// only as their HMAC (internal/rules/secret.go); to compare with the keys
// Chatwoot derives, unhashTokens puts back each header value (or a
// Bearer header's token), and each word of the body and query (MFA
// tokens), whose hash the key holds: a row checks both the value Chatwoot
// keys on and that it was hashed.
const fidelitySecret = "fidelity-test-secret"

var wordRE = regexp.MustCompile(`[^"&=:{},?/\s\[\]]+`)

func unhashTokens(keys map[string]string, q fidelityReq) map[string]string {
	var candidates []string
	for _, v := range q.header {
		candidates = append(candidates, v, v[strings.LastIndexByte(v, ' ')+1:])
	}
	candidates = append(candidates, wordRE.FindAllString(q.body+" "+q.path, -1)...)
	raw := map[string]string{}
	{
		for _, c := range candidates {
			c = strings.TrimSpace(c)
			raw[string(rules.AppendSecretHash(nil, []byte(fidelitySecret), c))] = strings.ToLower(c)
		}
	}
	for rule, k := range keys {
		for h, v := range raw {
			k = strings.ReplaceAll(k, h, v)
		}
		keys[rule] = k
	}
	return keys
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func fmtMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q ", k, m[k])
	}
	return b.String()
}

// TestChatwootPresetOrder: the first exceeded throttle stops counting. A
// drilldown request throttled by its own rule must not increment the
// reports counters that come after it in Chatwoot's file.
func TestChatwootPresetOrder(t *testing.T) {
	rig := newPresetRig(t, map[string]string{"RATE_LIMIT_REPORTS_DRILLDOWN_API_USER_LEVEL": "1"})
	q := fidelityReq{path: "/api/v2/accounts/9/reports/drilldown", header: map[string]string{"Uid": "u1"}}
	send := func() (int, map[string]string) {
		resp, err := http.DefaultClient.Do(q.httpRequest(t, rig.url))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, rig.rec.take(rig.names)
	}
	if code, got := send(); code != 200 || len(got) != 4 {
		t.Fatalf("first drilldown: %d %v", code, got)
	}
	code, got := send()
	want := map[string]string{"req/ip": "203.0.113.7", "/api/v2/accounts/:account_id/reports/drilldown/user": "u1:9"}
	if code != 429 || !mapsEqual(got, want) {
		t.Fatalf("throttled drilldown: %d counted %v, want 429 and only %v", code, fmtMap(got), fmtMap(want))
	}
}

// oracleReport is what the Rails oracle answers.
type oracleReport struct {
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	Counted     map[string]string `json:"counted"`
	MatchType   string            `json:"match_type"`
	Params      json.RawMessage   `json:"params"`
	ParamsError string            `json:"params_error"`
	Rack        string            `json:"rack"`
}

func askOracle(t *testing.T, base string, q fidelityReq) oracleReport {
	t.Helper()
	resp, err := http.DefaultClient.Do(q.httpRequest(t, base))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep oracleReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatalf("%s: oracle answered %d: %v", q.name, resp.StatusCode, err)
	}
	return rep
}

// TestChatwootPresetAgainstRailsOracle drives the gateway and the Rails
// oracle (Chatwoot's rules in real Rack::Attack behind
// Rack::MethodOverride, ActionDispatch loaded) in lockstep with the same
// requests: every row must count exactly what Chatwoot counts, except the
// rows that show a deliberate difference — those must differ.
func TestChatwootPresetAgainstRailsOracle(t *testing.T) {
	base := testsvc.Env(t, "WOOTGUARD_TEST_RAILS_ORACLE", "the Rails oracle (scripts/services/rails_oracle.sh)")
	rig := newPresetRig(t, nil)
	ids := map[string]bool{}
	for _, d := range preset.Differences {
		ids[d.ID] = true
	}
	for _, q := range fidelityRows() {
		if q.oracleSkipped != "" {
			t.Logf("%s: not compared: %s", q.name, q.oracleSkipped)
			continue
		}
		reset, err := http.Get(base + "/__oracle/reset")
		if err != nil {
			t.Fatal(err)
		}
		reset.Body.Close()
		ours := rig.send(q)
		theirs := askOracle(t, base, q).Counted
		if theirs == nil {
			theirs = map[string]string{}
		}
		switch {
		case q.diff != "" && !ids[q.diff]:
			t.Errorf("%s: difference %q is not in preset.Differences", q.name, q.diff)
		case q.diff != "" && mapsEqual(ours, theirs):
			t.Errorf("%s: tagged %q but Chatwoot counts the same: %v", q.name, q.diff, fmtMap(ours))
		case q.diff == "" && !mapsEqual(ours, theirs):
			t.Errorf("%s: wootguard counted\n  %v\nChatwoot counts\n  %v", q.name, fmtMap(ours), fmtMap(theirs))
		}
	}
}

// TestRailsOraclePins checks that the oracle behaves like Chatwoot's
// versions where Debian's differ (each PIN in its config.ru).
func TestRailsOraclePins(t *testing.T) {
	base := testsvc.Env(t, "WOOTGUARD_TEST_RAILS_ORACLE", "the Rails oracle (scripts/services/rails_oracle.sh)")
	rep := askOracle(t, base, fidelityReq{name: "pins", path: "/x?a=1;b=2", ct: "application/problem+json", body: `{"h":{"k":1}}`, method: "POST"})
	if !strings.HasPrefix(rep.Rack, "2.") {
		t.Logf("oracle runs Rack %s; the pins target Rack 2", rep.Rack)
	}
	// rack3-query-separator: one param "a" = "1;b=2"; rails72-problem-json: the body is params.
	if !strings.Contains(string(rep.Params), `["a",{"s":"1;b=2"}]`) || strings.Contains(string(rep.Params), `["b",`) {
		t.Errorf("query split on ';' (Rack 2): %s", rep.Params)
	}
	if !strings.Contains(string(rep.Params), `["h",{"h":[["k",{"i":"1"}]]}]`) {
		t.Errorf("application/problem+json not parsed (Rails 6.1): %s", rep.Params)
	}
	// ruby34-inspect: a hash token interpolates as {"a" => 1}.
	rep = askOracle(t, base, fidelityReq{name: "inspect", method: "POST", path: "/api/v1/widget/conversations", ct: "application/json", body: `{"website_token":{"a":1}}`})
	if got := rep.Counted["api/v1/widget/conversations"]; got != `203.0.113.7:{"a" => 1}` {
		t.Errorf("hash interpolation %q, want Ruby 3.4's", got)
	}
	if slices.Contains([]string{"", "0"}, rep.Method) {
		t.Errorf("method %q", rep.Method)
	}
}

// A widget upload names its website_token in the query string, which
// wins over the body in Rails' params: the body is not needed for the
// key, so a large attachment streams through instead of getting 413.
func TestQueryDecidesNoBodyBuffering(t *testing.T) {
	rig := newPresetRig(t, nil)
	big := strings.Repeat("x", 200<<10)
	ct, body := multipartBody("message[content]", "hi", "message[attachments][]", big)
	for _, tc := range []struct {
		target string
		status int
		want   map[string]string
	}{
		{"/api/v1/widget/messages?website_token=WT", 200, map[string]string{"req/ip": "203.0.113.7", "api/v1/widget/messages": "203.0.113.7:wt"}},
		{"/api/v1/widget/messages", 413, map[string]string{}},
	} {
		hr, _ := http.NewRequest("POST", rig.url+tc.target, strings.NewReader(body))
		hr.Header.Set("Content-Type", ct)
		hr.Header.Set("X-Forwarded-For", "203.0.113.7")
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := rig.rec.take(rig.names); resp.StatusCode != tc.status || !mapsEqual(got, tc.want) {
			t.Errorf("%s: %d counted %v, want %d %v", tc.target, resp.StatusCode, fmtMap(got), tc.status, fmtMap(tc.want))
		}
	}
}

// TestChatwootEnvCastsThroughProxy: switches are cast as Chatwoot casts
// them (ActiveModel::Type::Boolean), seen from the counted requests.
func TestChatwootEnvCastsThroughProxy(t *testing.T) {
	login := fidelityReq{method: "POST", path: "/auth/sign_in", ct: "application/json", body: `{"email":"a@x.io"}`}
	widget := fidelityReq{method: "POST", path: "/api/v1/widget/conversations?website_token=wt"}
	for _, tc := range []struct {
		name         string
		env          map[string]string
		dotenv       string
		login, wdget bool
	}{
		{"defaults", nil, "", true, true},
		{"rack attack empty in .env is off", nil, "ENABLE_RACK_ATTACK=\n", false, false},
		{"rack attack 0", map[string]string{"ENABLE_RACK_ATTACK": "0"}, "", false, false},
		{"rack attack False is on", map[string]string{"ENABLE_RACK_ATTACK": "False"}, "", true, true},
		{"widget api f", map[string]string{"ENABLE_RACK_ATTACK_WIDGET_API": "f"}, "", true, false},
		{"widget conversations OFF", map[string]string{"ENABLE_RACK_ATTACK_WIDGET_CONVERSATIONS": "OFF"}, "", true, false},
		{"widget conversations off-ish is on", map[string]string{"ENABLE_RACK_ATTACK_WIDGET_CONVERSATIONS": "Off"}, "", true, true},
	} {
		rig := newPresetRigFile(t, tc.env, tc.dotenv)
		_, gotLogin := rig.send(login)["login/email"]
		_, gotWidget := rig.send(widget)["api/v1/widget/conversations"]
		if gotLogin != tc.login || gotWidget != tc.wdget {
			t.Errorf("%s: login counted %v, widget counted %v; want %v, %v", tc.name, gotLogin, gotWidget, tc.login, tc.wdget)
		}
	}
}
