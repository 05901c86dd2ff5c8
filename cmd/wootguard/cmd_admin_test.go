package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 named cn.
func writeCert(t *testing.T, dir, cn string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}

// The real serve command with TLS, an access log and the admin listener,
// driven by the operator commands: a ban is listed, explained and lifted;
// maintenance answers 503; SIGHUP reloads the certificate; SIGUSR1
// reopens the access log after logrotate moved it.
func TestServeOperations(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auth/sign_in" {
			w.WriteHeader(401)
		}
	}))
	defer up.Close()
	dir := t.TempDir()
	writeCert(t, dir, "first")
	cfg := filepath.Join(dir, "w.yaml")
	os.WriteFile(cfg, []byte(`upstream: `+up.URL+`
preset: none
client_ip: {trusted_proxies: [127.0.0.1]}
admin: {listen: "127.0.0.1:0", token: cli-token-0123456789}
access_log: {path: access.log, format: json}
tls: {cert_file: cert.pem, key_file: key.pem}
fail2ban:
  - {name: login-failures, key: ip, match: {method: POST, path: /auth/sign_in}, failure: {status: [401]}, maxretry: 2, findtime: 10m, bantime: 1h}
`), 0o644)
	env, _, errb := testEnv(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, env, []string{"serve", "--config", cfg, "--listen", "127.0.0.1:0"}) }()
	addr := waitFor(t, errb, regexp.MustCompile(`gateway listening.* listen=(127\.0\.0\.1:\d+)`))
	adminURL := "http://" + waitFor(t, errb, regexp.MustCompile(`msg="admin listener" listen=(127\.0\.0\.1:\d+)`))
	seen := ""
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error { seen = cs.PeerCertificates[0].Subject.CommonName; return nil }}}}
	send := func(method, path, ip string) int {
		req, _ := http.NewRequest(method, "https://"+addr+path, nil)
		req.Header.Set("X-Forwarded-For", ip)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	cli := func(args ...string) (int, string) {
		e, out, eb := testEnv(map[string]string{"WOOTGUARD_ADMIN_TOKEN": "cli-token-0123456789"})
		code := run(context.Background(), e, append(args, "--admin", adminURL))
		return code, out.String() + eb.String()
	}

	send("POST", "/auth/sign_in", "192.0.2.66")
	send("POST", "/auth/sign_in", "192.0.2.66")
	if c := send("GET", "/x", "192.0.2.66"); c != 403 {
		t.Fatalf("not banned over TLS: %d", c)
	}
	if seen != "first" {
		t.Fatalf("certificate %q", seen)
	}
	if code, out := cli("health"); code != 0 || !strings.Contains(out, "ready") || !strings.Contains(out, "store: memory") {
		t.Fatalf("health: %d %s", code, out)
	}
	if code, out := cli("bans", "list"); code != 0 || !strings.Contains(out, "login-failures") || !strings.Contains(out, "192.0.2.66") {
		t.Fatalf("bans list: %d %s", code, out)
	}
	if code, out := cli("explain", "--path", "/x", "--client-ip", "192.0.2.66"); code != 0 || !strings.Contains(out, "decision: block (403) by fail2ban login-failures") {
		t.Fatalf("explain: %d %s", code, out)
	}
	if code, out := cli("top", "--window", "5m"); code != 0 || !strings.Contains(out, "192.0.2.66") {
		t.Fatalf("top: %d %s", code, out)
	}
	if code, out := cli("bans", "unban", "--rule", "login-failures", "--key", "192.0.2.66"); code != 0 || !strings.Contains(out, "unbanned") {
		t.Fatalf("unban: %d %s", code, out)
	}
	if c := send("GET", "/x", "192.0.2.66"); c != 200 {
		t.Fatalf("after unban: %d", c)
	}
	e, _, eb := testEnv(nil) // no token
	if code := run(context.Background(), e, []string{"bans", "list", "--admin", adminURL}); code != 1 || !strings.Contains(eb.String(), "refused the token") {
		t.Fatalf("without a token: %d %s", code, eb.String())
	}
	if code, out := cli("maintenance", "on"); code != 0 || !strings.Contains(out, "ON") {
		t.Fatalf("maintenance on: %d %s", code, out)
	}
	if c := send("GET", "/x", "192.0.2.1"); c != 503 {
		t.Fatalf("maintenance answer %d", c)
	}
	// The scrape-time gauges read the running gateway: maintenance is on,
	// and the one request with a junk forwarding entry is an unknown client.
	send("GET", "/x", "not-an-address")
	mreq, _ := http.NewRequest("GET", adminURL+"/metrics", nil)
	mreq.Header.Set("Authorization", "Bearer cli-token-0123456789")
	mresp, err := http.DefaultClient.Do(mreq)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{"\nwootguard_maintenance_mode 1\n", "\nwootguard_unknown_clients_total 1\n", `wootguard_limit_refusals_total{limit="upgrades"} 0`, `wootguard_limit_refusals_total{limit="connections"} 0`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	cli("maintenance", "off")
	if c := send("GET", "/x", "192.0.2.1"); c != 200 {
		t.Fatalf("after maintenance %d", c)
	}

	// A new certificate on SIGHUP, for new connections.
	writeCert(t, dir, "second")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor(t, errb, regexp.MustCompile(`TLS certificate reloaded`))
	client.CloseIdleConnections()
	send("GET", "/y", "192.0.2.1")
	if seen != "second" {
		t.Fatalf("certificate after reload %q", seen)
	}

	// logrotate moves the log; SIGUSR1 reopens it at the path.
	logPath := filepath.Join(dir, "access.log")
	time.Sleep(1100 * time.Millisecond) // the log flushes every second
	os.Rename(logPath, logPath+".1")
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	waitFor(t, errb, regexp.MustCompile(`access log reopened`))
	send("GET", "/after-rotate", "192.0.2.9")
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d: %s", code, errb.String())
	}
	old, _ := os.ReadFile(logPath + ".1")
	cur, _ := os.ReadFile(logPath)
	if !strings.Contains(string(old), `"decision":"ban"`) || strings.Contains(string(old), "after-rotate") {
		t.Fatalf("rotated log:\n%s", old)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(cur))), &line); err != nil || line["uri"] != "/after-rotate" || line["client_ip"] != "192.0.2.9" {
		t.Fatalf("new log %q: %v", cur, err)
	}
}
