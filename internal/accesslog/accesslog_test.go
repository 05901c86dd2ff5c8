package accesslog

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
)

func record() *gateway.Record {
	return &gateway.Record{Start: time.Date(2026, 12, 2, 5, 6, 7, 891_000_000, time.UTC), Duration: 1500 * time.Microsecond,
		Client: netip.MustParseAddr("192.0.2.7"), Peer: "127.0.0.1:5555", Method: "POST", URI: "/auth/sign_in?x=\"1\"",
		Proto: "HTTP/1.1", Host: "chat.example.com", UA: "curl/8 \x01", Referer: "", Status: 429, Bytes: 12,
		Decision: gateway.DecisionThrottle, Rule: "login/ip"}
}

func TestCombinedLine(t *testing.T) {
	got := string(appendCombined(nil, record()))
	want := `192.0.2.7 - - [02/Dec/2026:05:06:07 +0000] "POST /auth/sign_in?x=\x221\x22 HTTP/1.1" 429 12 "-" "curl/8 \x01" "throttle" "login/ip"` + "\n"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	rec := record()
	rec.Client, rec.Rule, rec.Decision = netip.Addr{}, "", gateway.DecisionPass
	// The line stays parseable by an nginx combined regex with two fields more.
	re := regexp.MustCompile(`^(\S+) - - \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)"\n$`)
	m := re.FindStringSubmatch(string(appendCombined(nil, rec)))
	if m == nil || m[1] != "-" || m[8] != "pass" || m[9] != "-" {
		t.Fatalf("unparseable or wrong: %q", m)
	}
}

func TestJSONLine(t *testing.T) {
	rec := record()
	rec.UA = "bad \xff byte"
	var m map[string]any
	line := appendJSON(nil, rec)
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	want := map[string]any{"ts": "2026-12-02T05:06:07.891Z", "client_ip": "192.0.2.7", "peer": "127.0.0.1:5555", "method": "POST",
		"uri": `/auth/sign_in?x="1"`, "proto": "HTTP/1.1", "host": "chat.example.com", "status": 429.0, "bytes": 12.0,
		"duration_ms": 1.5, "decision": "throttle", "rule": "login/ip", "user_agent": "bad \ufffd byte", "referer": ""}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("fields %v", m)
	}
}

// After logrotate renames the file, Run notices and writes to a new file
// at the path; Reopen (SIGUSR1) does the same on demand.
func TestReopenAfterRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	l, err := Open(path, Combined)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Observe(record())
	l.Flush()
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if !l.moved() {
		t.Fatal("rename not noticed")
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Observe(record())
	l.Observe(record())
	l.Flush()
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if strings.Count(string(old), "\n") != 1 || strings.Count(string(cur), "\n") != 2 {
		t.Fatalf("old %q\nnew %q", old, cur)
	}
	if l.moved() {
		t.Fatal("moved after reopen")
	}
	if _, err := Open(path, "xml"); err == nil {
		t.Fatal("unknown format accepted")
	}
}
