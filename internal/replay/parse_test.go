package replay

import (
	"context"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseLines(t *testing.T) {
	ts := time.Date(2026, 11, 30, 10, 0, 10, 0, time.UTC)
	for _, tc := range []struct {
		name, line string
		json       bool
		fields     string
		want       Record
	}{
		{name: "nginx combined",
			line: `203.0.113.5 - - [30/Nov/2026:10:00:10 +0000] "POST /auth/sign_in?x=1 HTTP/1.1" 401 12 "-" "curl/8.0"`,
			want: Record{Peer: addr("203.0.113.5"), Method: "POST", Path: "/auth/sign_in", Query: "x=1", Status: 401, UserAgent: "curl/8.0", HasUA: true, HasReferer: true}},
		{name: "nginx combined, other zone",
			line: `203.0.113.5 - bob [30/Nov/2026:11:00:10 +0100] "GET / HTTP/2.0" 200 - "https://a.example/" "Mozilla/5.0 (X11; Linux)"`,
			want: Record{Peer: addr("203.0.113.5"), Method: "GET", Path: "/", Status: 200, UserAgent: "Mozilla/5.0 (X11; Linux)", Referer: "https://a.example/", HasUA: true, HasReferer: true}},
		{name: "with $request_time",
			line: `203.0.113.5 - - [30/Nov/2026:10:00:10 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.123`,
			want: Record{Peer: addr("203.0.113.5"), Method: "GET", Path: "/a", Status: 200, UserAgent: "ua", HasUA: true, HasReferer: true}},
		{name: "with $http_x_forwarded_for and $request_time",
			line: `10.0.0.2 - - [30/Nov/2026:10:00:10 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" "198.51.100.7, 10.0.0.9" 0.010`,
			want: Record{Peer: addr("10.0.0.2"), XFF: "198.51.100.7, 10.0.0.9", HasXFF: true, Method: "GET", Path: "/a", Status: 200, UserAgent: "ua", HasUA: true, HasReferer: true}},
		{name: "no X-Forwarded-For logged as -",
			line: `10.0.0.2 - - [30/Nov/2026:10:00:10 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" "-"`,
			want: Record{Peer: addr("10.0.0.2"), HasXFF: true, Method: "GET", Path: "/a", Status: 200, UserAgent: "ua", HasUA: true, HasReferer: true}},
		{name: "common format, absolute URI",
			line: `2001:db8::1 - - [30/Nov/2026:10:00:10 +0000] "GET http://chat.example.com/api/v1/x?y=2 HTTP/1.1" 200 5`,
			want: Record{Peer: addr("2001:db8::1"), Method: "GET", Path: "/api/v1/x", Query: "y=2", Status: 200}},
		{name: "wootguard combined",
			line: `198.51.100.7 - - [30/Nov/2026:10:00:10 +0000] "POST /auth/sign_in HTTP/1.1" 429 20 "-" "ua" "throttle" "login/ip"`,
			want: Record{Client: addr("198.51.100.7"), Method: "POST", Path: "/auth/sign_in", Status: 429, UserAgent: "ua", HasUA: true, HasReferer: true, Decision: "throttle", Rule: "login/ip"}},
		{name: "wootguard json", json: true,
			line: `{"ts":"2026-11-30T10:00:10.000Z","client_ip":"198.51.100.7","peer":"127.0.0.1:5000","method":"GET","uri":"/api/v1/profile?a=b","proto":"HTTP/1.1","host":"h","status":200,"bytes":3,"duration_ms":1.5,"decision":"pass","rule":"","user_agent":"ua","referer":""}`,
			want: Record{Client: addr("198.51.100.7"), Method: "GET", Path: "/api/v1/profile", Query: "a=b", Status: 200, UserAgent: "ua", HasUA: true, HasReferer: true, Decision: "pass"}},
		{name: "json lines, custom names, epoch seconds", json: true, fields: "time=t,peer=addr,xff=fwd,request=req,status=code",
			line: `{"t":1796032810,"addr":"10.0.0.2","fwd":"198.51.100.7","req":"GET /x?q=1 HTTP/1.1","code":"204"}`,
			want: Record{Peer: addr("10.0.0.2"), XFF: "198.51.100.7", HasXFF: true, Method: "GET", Path: "/x", Query: "q=1", Status: 204}},
		{name: "json lines, nginx names", json: true,
			line: `{"time_local":"30/Nov/2026:10:00:10 +0000","remote_addr":"10.0.0.2","request_method":"GET","request_uri":"/x","status":200,"http_user_agent":"ua"}`,
			want: Record{Peer: addr("10.0.0.2"), Method: "GET", Path: "/x", Status: 200, UserAgent: "ua", HasUA: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec Record
			var err error
			if tc.json {
				f, ferr := ParseFields(tc.fields)
				if ferr != nil {
					t.Fatal(ferr)
				}
				err = (&jsonParser{f: f}).parse(tc.line, &rec)
			} else {
				err = (&combinedParser{}).parse(tc.line, &rec)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !rec.Time.Equal(ts) {
				t.Errorf("time %v, want %v", rec.Time, ts)
			}
			rec.Time = time.Time{}
			if rec != tc.want {
				t.Errorf("got  %+v\nwant %+v", rec, tc.want)
			}
		})
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// Bad lines are counted, the first few shown with their line numbers, and
// the run goes on, unless --strict.
func TestMalformedLines(t *testing.T) {
	good := `203.0.113.5 - - [30/Nov/2026:10:00:10 +0000] "POST /auth/sign_in HTTP/1.1" 401 12 "-" "ua"`
	lines := []string{
		good,
		`garbage`,
		good,
		`203.0.113.5 - - [30/Nov/2026:10:00:10 +0000] "\x16\x03\x01" 400 0 "-" "-"`,
		`not-an-ip - - [30/Nov/2026:10:00:11 +0000] "GET / HTTP/1.1" 200 0 "-" "-"`,
		`203.0.113.5 - - [31/Nov/2026:99:00:10 +0000] "GET / HTTP/1.1" 200 0 "-" "-"`,
		``,
		good,
		`203.0.113.5 - - [30/Nov/2026:10:00:10 +0000] "GET / HTTP/1.1" abc 0 "-" "-"`,
		`203.0.113.5 - - [30/Nov/2026:10:00:10 +0000] "GET / HTTP/1.1`,
		`203.0.113.5 - - [30/Nov/2026:10:00:10 +0000] "GET relative HTTP/1.1" 200 0 "-" "-"`,
		"203.0.113.5 - - [30/Nov/2026:10:00:10 +0000] \"GET /" + strings.Repeat("a", 300<<10) + " HTTP/1.1\" 200 0 \"-\" \"-\"",
		good,
	}
	path := writeLog(t, "bad.log", []byte(strings.Join(lines, "\n")+"\n"))
	cfg := loadConfig(t, "preset: chatwoot\n")
	rep, err := Run(context.Background(), []Config{cfg}, []Source{{Name: path}}, Options{Read: ReadOptions{MaxBadExamples: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 4 || rep.BadLines != 8 || rep.Lines != 12 {
		t.Fatalf("requests %d, bad %d, lines %d; want 4, 8, 12 (the empty line is not a line of traffic)", rep.Requests, rep.BadLines, rep.Lines)
	}
	if len(rep.BadExamples) != 3 || rep.BadExamples[0].Line != 2 || rep.BadExamples[1].Line != 4 || rep.BadExamples[2].Line != 5 {
		t.Fatalf("examples %+v; want lines 2, 4, 5", rep.BadExamples)
	}
	if !strings.Contains(rep.BadExamples[1].Reason, "no HTTP request line") || !strings.Contains(rep.BadExamples[2].Reason, "bad client address") {
		t.Errorf("reasons: %+v", rep.BadExamples)
	}
	var text strings.Builder
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "8 lines could not be read") || !strings.Contains(text.String(), "bad.log:2:") {
		t.Errorf("text report does not show the bad lines:\n%s", text.String())
	}

	_, err = Run(context.Background(), []Config{cfg}, []Source{{Name: path}}, Options{Read: ReadOptions{Strict: true}})
	if err == nil || !strings.Contains(err.Error(), "bad.log:2:") {
		t.Fatalf("strict: err %v, want one naming bad.log:2", err)
	}
}

// "-" reads stdin (here any reader), and gzip is recognised by its
// magic bytes, not its name.
func TestStdinAndGzipByContent(t *testing.T) {
	reqs := traffic(3)
	cfg := loadConfig(t, trafficConfig)
	for _, src := range []Source{
		{Name: "-", Reader: strings.NewReader(string(writeCombined(reqs, false)))},
		{Name: writeLog(t, "rotated.1", gz(writeCombined(reqs, false)))},
	} {
		rep, err := Run(context.Background(), []Config{cfg}, []Source{src}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Requests != int64(len(reqs)) || rep.BadLines != 0 {
			t.Errorf("%s: %d requests, %d bad; want %d, 0", src.Name, rep.Requests, rep.BadLines, len(reqs))
		}
	}
}

// Keys are masked as the gateway's log masks them, unless Unmask.
func TestKeysMaskedByDefault(t *testing.T) {
	var lines []string
	for i := 0; i < 4; i++ {
		lines = append(lines, `203.0.113.5 - - [30/Nov/2026:10:00:1`+string(rune('0'+i))+` +0000] "POST /auth/password?email=Alice@Example.com HTTP/1.1" 200 1 "-" "-"`)
	}
	path := writeLog(t, "access.log", []byte(strings.Join(lines, "\n")))
	cfg := loadConfig(t, "preset: none\nthrottles: [{name: reset/email, limit: 2, period: 1h, key: \"param:email\", match: {path: /auth/password}}]\n")
	for unmask, want := range map[bool]string{false: "a***@example.com", true: "alice@example.com"} {
		rep, err := Run(context.Background(), []Config{cfg}, []Source{{Name: path}}, Options{Unmask: unmask})
		if err != nil {
			t.Fatal(err)
		}
		r := ruleByName(t, rep.Configs[0], "reset/email")
		if r.Refused != 2 || len(r.TopKeys) != 1 || r.TopKeys[0].Key != want || r.NotEvaluated != 0 {
			t.Errorf("unmask=%v: %+v; want 2 refusals of %s, all evaluated (the email is in the query)", unmask, r, want)
		}
	}
}

// Rotated logs given newest first (as access.log* expands) are replayed
// oldest first: the brute force spanning them is refused as in one file.
func TestRotatedLogsReplayOldestFirst(t *testing.T) {
	reqs := traffic(30)
	var older, newer []tReq
	for _, r := range reqs {
		if r.t < t0+600 {
			older = append(older, r)
		} else {
			newer = append(newer, r)
		}
	}
	dir := t.TempDir()
	cur, rotated := dir+"/access.log", dir+"/access.log.1.gz"
	if err := os.WriteFile(cur, writeCombined(newer, false), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rotated, gz(writeCombined(older, false)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, trafficConfig)
	rep, err := Run(context.Background(), []Config{cfg}, []Source{{Name: cur}, {Name: rotated}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := simulate(reqs, 5, 120)
	if rep.Files[0] != rotated || rep.OutOfOrder != 0 {
		t.Errorf("files replayed as %v with %d out-of-order lines; want the rotated one first", rep.Files, rep.OutOfOrder)
	}
	for _, name := range []string{"login/ip", "login-failures", "req/ip"} {
		if got := ruleByName(t, rep.Configs[0], name); got.Refused != want[name].refused {
			t.Errorf("%s refused %d, want %d", name, got.Refused, want[name].refused)
		}
	}
}

// A line wootguard logged as refused never reached Chatwoot: a
// response-based ban cannot count its status, and says so.
func TestRefusedWhenLoggedIsNotCountedAsFailure(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 6; i++ {
		decision, status := "pass", 401
		if i >= 3 {
			decision, status = "throttle", 429
		}
		b.WriteString(`198.51.100.7 - - [30/Nov/2026:10:00:1` + string(rune('0'+i)) + ` +0000] "POST /auth/sign_in HTTP/1.1" ` +
			strconv.Itoa(status) + ` 20 "-" "ua" "` + decision + `" "-"` + "\n")
	}
	cfg := loadConfig(t, "preset: none\nfail2ban: [{name: fails, key: ip, match: {path: /auth/sign_in}, failure: {status: [401]}, maxretry: 5, findtime: 1m, bantime: 1h}]\n")
	rep, err := Run(context.Background(), []Config{cfg}, []Source{{Name: writeLog(t, "wg.log", []byte(b.String()))}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := ruleByName(t, rep.Configs[0], "fails")
	if r.Counted != 3 || r.NotEvaluated != 3 || r.BansStarted != 0 || len(r.NotEvaluatedWhy) != 1 || !strings.Contains(r.NotEvaluatedWhy[0].Reason, "refused") {
		t.Errorf("%+v; want 3 failures counted, 3 not evaluated because they were refused when logged", r)
	}
}

// Lists, dry-run lists and tracks are reported too: matched, refused or
// would-have-refused, over limit.
func TestListAndTrackRules(t *testing.T) {
	var lines []string
	for i := 0; i < 5; i++ {
		for _, ip := range []string{"198.51.100.7", "192.0.2.1"} {
			lines = append(lines, ip+` - - [30/Nov/2026:10:00:1`+strconv.Itoa(i)+` +0000] "POST /auth/sign_in HTTP/1.1" 200 1 "-" "-"`)
		}
		lines = append(lines, `192.0.2.1 - - [30/Nov/2026:10:00:2`+strconv.Itoa(i)+` +0000] "GET /wp-admin/x HTTP/1.1" 404 1 "-" "-"`)
	}
	cfg := loadConfig(t, `preset: none
safelists: [{name: monitor, ip: 198.51.100.7, mode: dry-run}]
blocklists:
  - {name: bad-net, ip: 198.51.100.0/24}
  - {name: scanners, match: {path_prefix: /wp-admin}, mode: dry-run}
tracks:
  - {name: signins, limit: 2, period: 1m, key: ip, match: {path: /auth/sign_in}}
  - {name: all-signins, match: {path: /auth/sign_in}}
`)
	rep, err := Run(context.Background(), []Config{cfg}, []Source{{Name: writeLog(t, "a.log", []byte(strings.Join(lines, "\n")))}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Configs[0]
	for _, tc := range []struct {
		name                        string
		counted, refused, overLimit int64
		dry                         bool
	}{
		{"monitor", 5, 0, 0, true},  // would have let 198.51.100.7 through…
		{"bad-net", 5, 5, 0, false}, // …which the blocklist refuses
		{"scanners", 5, 5, 0, true}, // would have refused the scans
		{"signins", 5, 0, 3, false}, // 192.0.2.1's 5 sign-ins in one minute: 3 over 2
		{"all-signins", 5, 0, 0, false},
	} {
		r := ruleByName(t, c, tc.name)
		if r.Counted != tc.counted || r.Refused != tc.refused || r.OverLimit != tc.overLimit || r.DryRun != tc.dry {
			t.Errorf("%s: counted %d refused %d over %d dry %v; want %d %d %d %v", tc.name, r.Counted, r.Refused, r.OverLimit, r.DryRun,
				tc.counted, tc.refused, tc.overLimit, tc.dry)
		}
	}
	if c.Refused != 5 || c.Decisions["block"] != 5 {
		t.Errorf("config: refused %d, blocks %d; want 5 (dry-run rules refuse nothing)", c.Refused, c.Decisions["block"])
	}
}

// One bad line is "1 line ... was skipped", not "1 lines".
func TestOneBadLineIsSingular(t *testing.T) {
	var text strings.Builder
	writeBad(&printer{w: &text}, 1, []BadLine{{File: "a.log", Line: 3, Reason: "no [time] field", Text: "x"}})
	if want := "1 line could not be read and was skipped; the first:\n  a.log:3: no [time] field: x\n"; text.String() != want {
		t.Errorf("got %q, want %q", text.String(), want)
	}
}

func TestOneQuietRuleIsSingular(t *testing.T) {
	cfg := loadConfig(t, "preset: none\nthrottles:\n  - {name: all, limit: 9, period: 1m, key: ip}\n  - {name: none, limit: 9, period: 1m, key: ip, match: {path: /nowhere}}\n")
	src := []Source{{Name: writeLog(t, "access.log", writeCombined([]tReq{{t0, "10.0.0.1", "GET", "/", 200}}, false))}}
	rep, err := Run(context.Background(), []Config{cfg}, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "(1 more rule saw no matching request)") {
		t.Errorf("text:\n%s", text.String())
	}
}

// The gateway logs a client it could not resolve as "unknown" and counts
// all of them in one bucket: replay does the same, never drops the lines
// and never keys them by the proxy that sent them.
func TestUnknownClientIsOneBucket(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 5; i++ {
		b.WriteString(`unknown - - [30/Nov/2026:10:00:1` + string(rune('0'+i)) + ` +0000] "GET /x HTTP/1.1" 200 2 "-" "ua" "pass" "-"` + "\n")
		b.WriteString(`{"ts":"2026-11-30T10:00:1` + string(rune('0'+i)) + `.000Z","client_ip":"unknown","peer":"10.0.0.2:5000","method":"GET","uri":"/x","proto":"HTTP/1.1","host":"h","status":200,"bytes":2,"duration_ms":1,"decision":"pass","rule":"","user_agent":"ua","referer":""}` + "\n")
	}
	cfg := loadConfig(t, "preset: none\nthrottles: [{name: t, key: ip, limit: 4, period: 1m}]\n")
	var combined, jsonl strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if strings.HasPrefix(l, "{") {
			jsonl.WriteString(l + "\n")
		} else {
			combined.WriteString(l + "\n")
		}
	}
	for name, log := range map[string]string{"wg.log": combined.String(), "wg.jsonl": jsonl.String()} {
		rep, err := Run(context.Background(), []Config{cfg}, []Source{{Name: writeLog(t, name, []byte(log))}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.BadLines != 0 || rep.Requests != 5 {
			t.Errorf("%s: %d bad lines, %d requests; want 0 and 5", name, rep.BadLines, rep.Requests)
		}
		if r := ruleByName(t, rep.Configs[0], "t"); r.Counted != 5 || r.Refused != 1 {
			t.Errorf("%s: t counted %d, refused %d; want 5 and 1 (one shared bucket)", name, r.Counted, r.Refused)
		}
	}
}
