package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/listeners"
)

// A Chatwoot port that listens on every interface is reported (read
// from the socket table; a loopback-only listener is fine).
func TestBypassWarning(t *testing.T) {
	dir := t.TempDir()
	tcp := filepath.Join(dir, "tcp")
	table := "  sl  local_address rem_address   st\n" +
		"   0: 00000000:0BB8 00000000:0000 0A 00000000:00000000\n" + // 0.0.0.0:3000
		"   1: 0100007F:0BB9 00000000:0000 0A 00000000:00000000\n" // 127.0.0.1:3001
	if err := os.WriteFile(tcp, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	saved := listeners.Tables
	listeners.Tables = []string{tcp}
	t.Cleanup(func() { listeners.Tables = saved })

	if msg := bypassWarning("127.0.0.1", "3000", "http"); !strings.Contains(msg, "0.0.0.0 (every interface)") || !strings.Contains(msg, "bypass") {
		t.Errorf("0.0.0.0:3000: %q", msg)
	}
	if msg := bypassWarning("127.0.0.1", "3001", "http"); msg != "" {
		t.Errorf("loopback-only listener warned: %q", msg)
	}
	if msg := bypassWarning("rails", "3000", "http"); msg != "" {
		t.Errorf("another host: %q (cannot be seen from here)", msg)
	}
}

func TestServeSaysLoopbackIsSafelisted(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfg, err := loadGatewayConfig(&cliEnv{Getenv: func(string) string { return "" }}, "", addr, "")
	if err != nil {
		t.Fatal(err)
	}
	var buf lockedBuffer
	startNotices(cfg, newLogger(&cliEnv{Stderr: &buf}, cfg))
	if !strings.Contains(buf.String(), "never rate-limited") || !strings.Contains(buf.String(), "curl --interface 127.0.0.2") {
		t.Errorf("start notice missing: %q", buf.String())
	}
}

// serve says at start that a profile not yet enforced blocks nothing, as
// check-config and rules do.
func TestServeSaysProfileIsDryRun(t *testing.T) {
	for _, tc := range []struct {
		profile string
		want    bool
	}{
		{"profile: strict", true},
		{"profile: {name: strict, enforce: true}", false},
	} {
		dir := t.TempDir()
		file := filepath.Join(dir, "w.yaml")
		os.WriteFile(file, []byte("upstream: http://127.0.0.1:1\nclient_ip: {trusted_proxies: [127.0.0.1]}\n"+tc.profile+"\n"), 0o644)
		cfg, err := loadGatewayConfig(&cliEnv{Getenv: func(string) string { return "" }}, file, "", "")
		if err != nil {
			t.Fatal(err)
		}
		var buf lockedBuffer
		startNotices(cfg, newLogger(&cliEnv{Stderr: &buf}, cfg))
		if got := strings.Contains(buf.String(), "profile strict runs in dry-run"); got != tc.want {
			t.Errorf("%s: dry-run notice %v, want %v: %q", tc.profile, got, tc.want, buf.String())
		}
	}
}

// A bad --upstream names the flag (a config file's error names its line).
func TestServeBadUpstreamFlag(t *testing.T) {
	env, _, errb := testEnv(nil)
	if code := run(context.Background(), env, []string{"serve", "--upstream", "127.0.0.1:3000"}); code != 2 ||
		!strings.Contains(errb.String(), "--upstream: bad upstream") {
		t.Errorf("code %d, stderr %q", code, errb)
	}
}
