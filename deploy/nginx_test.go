package deploy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/testsvc"
)

// The nginx snippet is valid nginx: `nginx -t` on it, wrapped in a minimal
// main config (a throwaway certificate for its TLS listener). Nothing is
// started.
func TestNginxSnippetSyntax(t *testing.T) {
	nginx := testsvc.Env(t, "WOOTGUARD_TEST_NGINX_BIN", "nginx (package nginx-light)")
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	site := read(t, "proxy/nginx.conf")
	for old, repl := range map[string]string{
		"# ssl_certificate ...; ssl_certificate_key ...;": "ssl_certificate " + cert + "; ssl_certificate_key " + key + ";",
		"listen 443 ssl http2;":                           "listen 127.0.0.1:1 ssl http2;",
	} {
		if !strings.Contains(site, old) {
			t.Fatalf("nginx.conf no longer has %q", old)
		}
		site = strings.ReplaceAll(site, old, repl)
	}
	os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o644)
	main := "pid " + dir + "/nginx.pid;\nerror_log " + dir + "/error.log;\nevents {}\nhttp {\n  access_log off;\n"
	for _, p := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		main += "  " + p + "_temp_path " + dir + ";\n"
	}
	main += "  include " + dir + "/site.conf;\n}\n"
	conf := filepath.Join(dir, "nginx.conf")
	os.WriteFile(conf, []byte(main), 0o644)
	if out, err := exec.Command(nginx, "-t", "-q", "-p", dir, "-c", conf).CombinedOutput(); err != nil {
		t.Errorf("nginx -t: %v\n%s", err, out)
	}
}

func selfSigned(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "chat.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(k)
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certPath, keyPath
}
