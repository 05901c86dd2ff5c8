package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// check-config rejects, in one pass and each at its line, every value a
// later command would reject: the list of values that used to
// print "ok".
func TestCheckConfigRejectsEveryBadValueInOnePass(t *testing.T) {
	p := filepath.Join(t.TempDir(), "w.yaml")
	body := `listen: 127.0.0.1:8080
body_limit: 64 kilobytes
throttles:
  - {name: a, limit: 5, period: 20 minutes, key: ip}
  - {name: b, limit: 5, period: 1m, key: ip, match: {method: POSTT, path: /x}}
updates:
  chatwoot_url: chat.example.com
  feeds:
    releases: ftp://x
    timeout: -1s
    max_age: 1w
  notify:
    webhooks: [{url: "not a url"}]
    smtp: {host: smtp.example.com, port: 99999, from: ops@example.com, to: [ops@example.com]}
  backup:
    dir: /var/backups/wootguard
    database_url: mysql://x
    retention: {keep_last: -3}
  soak: 2d
  min_free_disk: 5 GiB
  targets:
    - name: main
      kind: dockr-compose
      production: {url: http://127.0.0.1:3000, database_url: "postgres://u@127.0.0.1/db", backup: {dir: /tmp/b}}
    - name: other
      kind: exec
      production: {url: 127.0.0.1:3000, database_url: "postgres://u@127.0.0.1/db", backup: {dir: /tmp/b}}
audit: {fail_on: severe, max_db_age: a week}
`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	env, out, errb := testEnv(nil)
	if code := run(context.Background(), env, []string{"check-config", p}); code != 1 {
		t.Fatalf("exit %d, want 1; stdout %q", code, out.String())
	}
	want := []string{
		`w.yaml:2: bad size "64 kilobytes"`,
		`w.yaml:4: bad duration "20 minutes"`,
		`w.yaml:5: unknown HTTP method "POSTT"`,
		`w.yaml:7: updates.chatwoot_url "chat.example.com"`,
		`w.yaml:9: feeds.releases: "ftp://x"`,
		`w.yaml:10: timeout: bad duration "-1s": must not be negative`,
		`w.yaml:13: notify.webhooks[0].url: "not a url"`,
		`w.yaml:14: notify.smtp.port 99999 is not a TCP port`,
		`w.yaml:17: wrong scheme: database_url must start with postgres://`,
		`w.yaml:18: retention.keep_last must not be negative`,
		`w.yaml:23: target "main": kind "dockr-compose" is not one of`,
		`w.yaml:27: target "other" production: url must be the instance's http(s) base URL`,
		`w.yaml:28: audit.fail_on "severe"`,
		`w.yaml:28: audit.max_db_age: bad duration "a week"`,
	}
	got := errb.String()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q", w)
		}
	}
	if n := strings.Count(got, "w.yaml:"); n != len(want)+1 { // +1: the "N problems" line
		t.Errorf("%d lines name the file, want %d (no duplicates, nothing else):\n%s", n, len(want)+1, got)
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", got)
	}
}
