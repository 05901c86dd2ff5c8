package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOperationsSections(t *testing.T) {
	// Defaults: the admin listener on loopback, no token needed there.
	g, err := load(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if o := g.Operations; o.AdminListen != DefaultAdminListen || o.AdminToken != "" || o.AccessLogPath != "" || o.AccessLogFormat != "combined" {
		t.Fatalf("defaults %+v", o)
	}
	if g, _ := load(t, "admin: {listen: 'off'}\n", nil); g.Operations.AdminListen != "" {
		t.Fatalf("off: %q", g.Operations.AdminListen)
	}
	// The environment wins over the file.
	g, err = load(t, "admin: {listen: 0.0.0.0:9797, token: from-file-0123456789}\n", map[string]string{AdminTokenEnv: "from-env-0123456789"})
	if err != nil || g.Operations.AdminToken != "from-env-0123456789" {
		t.Fatalf("env token: %v %+v", err, g)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tok"), []byte("file-token-0123456789\n"), 0o600)
	p := filepath.Join(dir, "w.yaml")
	os.WriteFile(p, []byte("admin: {listen: '[::]:9797', token_file: tok}\n"), 0o644)
	g, err = Load(p, func(string) string { return "" })
	if err != nil || g.Operations.AdminToken != "file-token-0123456789" {
		t.Fatalf("token_file: %v %+v", err, g)
	}
}

func TestOperationsErrorsInOnePass(t *testing.T) {
	body := strings.Join([]string{
		"admin: {listen: 0.0.0.0:9797}",
		"access_log: {path: /tmp/x.log, format: xml}",
		"tls: {cert_file: /nonexistent.pem}",
		"maintenance: {retry_after: -5s}",
		"alerts:",
		"  refusals: {threshold: 0}",
		"  notify: {webhooks: [{url: 'not a url'}]}",
	}, "\n") + "\n"
	_, err := load(t, body, nil)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"wootguard.yaml:1: admin listener 0.0.0.0:9797 is not on loopback",
		`wootguard.yaml:2: unknown access log format "xml"`,
		"wootguard.yaml:3: tls needs both cert_file and key_file",
		"wootguard.yaml:3: stat /nonexistent.pem",
		"wootguard.yaml:4: bad duration \"-5s\": must not be negative",
		"wootguard.yaml:6: threshold must be at least 1",
		`wootguard.yaml:7: notify.webhooks[0].url: "not a url" is not an http(s) URL`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// A token file that cannot be read names the key, so a bare "open tok: no
// such file" does not leave the operator guessing which file it meant.
func TestAdminTokenFileMissing(t *testing.T) {
	_, err := load(t, "admin: {token_file: missing-token}\n", nil)
	if err == nil || !strings.Contains(err.Error(), "wootguard.yaml:1: admin.token_file: ") || !strings.Contains(err.Error(), "missing-token") {
		t.Fatalf("got %v", err)
	}
}
