package deploy

import (
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/testsvc"
)

var (
	buildOnce sync.Once
	binPath   string
	binErr    error
	binDir    string
)

// wootguard builds the binary the way deploy/Dockerfile does
// (CGO_ENABLED=0, -trimpath), once per test run.
func wootguard(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "wootguard-deploy-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "wootguard")
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", binPath, "./cmd/wootguard")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkConfig runs `wootguard check-config` on a config text.
func checkConfig(t *testing.T, name, body string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "wootguard.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(wootguard(t), "check-config", p).CombinedOutput()
	if err != nil {
		t.Errorf("%s: check-config fails: %v\n%s", name, err, out)
	}
}

func TestDockerfile(t *testing.T) {
	df := read(t, "Dockerfile")
	var froms []string
	for _, l := range strings.Split(df, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && strings.EqualFold(f[0], "FROM") {
			froms = append(froms, f[1])
		}
	}
	if len(froms) < 2 {
		t.Errorf("want a multi-stage build, got FROM %v", froms)
	} else if last := froms[len(froms)-1]; !strings.HasPrefix(last, "gcr.io/distroless/static") && last != "scratch" {
		t.Errorf("final stage %q: want distroless/static or scratch", last)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`CGO_ENABLED=0 go build -trimpath`),
		regexp.MustCompile(`(?m)^USER (nonroot|65532)`),
		regexp.MustCompile(`(?m)^HEALTHCHECK .*\n?.*CMD \["/usr/local/bin/wootguard", "health"\]`),
		regexp.MustCompile(`COPY --from=build /out/wootguard /usr/local/bin/wootguard`),
	} {
		if !want.MatchString(df) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	// The binary built that way is static: no dynamic loader, no shared
	// libraries, so it runs on distroless/static and scratch.
	bin := wootguard(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has a %v segment: not static", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("binary needs shared libraries %v", libs)
	}
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "wootguard ") {
		t.Errorf("--version: %v %q", err, out)
	}
}

// chatwootServices are the services of Chatwoot's official
// docker-compose.production.yaml (chatwoot/chatwoot); its rails port is
// published as 127.0.0.1:3000:3000.
var chatwootServices = []string{"base", "rails", "sidekiq", "postgres", "redis"}

func TestComposeOverride(t *testing.T) {
	var f struct {
		Services map[string]struct {
			Image     string   `yaml:"image"`
			Restart   string   `yaml:"restart"`
			DependsOn []string `yaml:"depends_on"`
			EnvFile   any      `yaml:"env_file"`
			Ports     []any    `yaml:"ports"`
			Volumes   []string `yaml:"volumes"`
			Command   []string `yaml:"command"`
		} `yaml:"services"`
	}
	dec := yaml.NewDecoder(strings.NewReader(read(t, "compose/docker-compose.wootguard.yaml")))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("override does not parse: %v", err)
	}
	wg, ok := f.Services["wootguard"]
	if !ok {
		t.Fatal("no wootguard service")
	}
	for name, s := range f.Services {
		if name != "wootguard" && !slices.Contains(chatwootServices, name) {
			t.Errorf("service %q is not one of Chatwoot's (%v)", name, chatwootServices)
		}
		for _, d := range s.DependsOn {
			if !slices.Contains(chatwootServices, d) && d != "wootguard" {
				t.Errorf("%s depends on %q, which Chatwoot's compose file does not have", name, d)
			}
		}
		for _, p := range s.Ports {
			if host := publishedHost(p); host != "127.0.0.1" && host != "::1" {
				t.Errorf("%s publishes %v on %q: only loopback (the host's nginx) may reach it", name, p, host)
			}
		}
	}
	if !slices.Contains(wg.DependsOn, "rails") || wg.EnvFile != ".env" || len(wg.Ports) == 0 {
		t.Errorf("wootguard service: depends_on %v, env_file %v, ports %v; want rails, Chatwoot's .env, a loopback port", wg.DependsOn, wg.EnvFile, wg.Ports)
	}
	cfg := read(t, "compose/wootguard.yaml")
	if !strings.Contains(cfg, "upstream: http://rails:3000") {
		t.Error("compose/wootguard.yaml does not send traffic to rails:3000")
	}
	checkConfig(t, "compose/wootguard.yaml", cfg)
}

// publishedHost is the host address of a compose port entry ("" = all
// interfaces): "127.0.0.1:8080:8080", "8080:8080", {host_ip: ..., published: ...}.
func publishedHost(p any) string {
	switch v := p.(type) {
	case string:
		parts := strings.Split(v, ":")
		if len(parts) < 3 {
			return ""
		}
		return strings.Trim(strings.Join(parts[:len(parts)-2], ":"), "[]")
	case map[string]any:
		s, _ := v["host_ip"].(string)
		return s
	}
	return ""
}

func TestPublishedHost(t *testing.T) {
	for in, want := range map[string]string{"127.0.0.1:8080:8080": "127.0.0.1", "8080:8080": "", "8080": "", "[::1]:80:80": "::1", "0.0.0.0:80:80": "0.0.0.0"} {
		if got := publishedHost(in); got != want {
			t.Errorf("publishedHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSystemdUnits(t *testing.T) {
	analyze := testsvc.Env(t, "WOOTGUARD_TEST_SYSTEMD_ANALYZE", "systemd-analyze (package systemd)")
	svc := read(t, "systemd/wootguard.service")
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=wootguard", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"CapabilityBoundingSet=\n", "ExecReload=/bin/kill -HUP $MAINPID", "ExecStart=/usr/local/bin/wootguard serve --config /etc/wootguard/wootguard.yaml"} {
		if !strings.Contains(svc, want) {
			t.Errorf("wootguard.service lacks %q", want)
		}
	}
	if !strings.Contains(read(t, "systemd/wootguard-updates.service"), "ExecStart=/usr/local/bin/wootguard updates watch --once") {
		t.Error("wootguard-updates.service does not run updates watch --once")
	}
	if !strings.Contains(read(t, "systemd/wootguard-updates.timer"), "OnCalendar=") {
		t.Error("the timer has no OnCalendar")
	}
	// systemd-analyze verify wants the executables to exist: point the
	// units at the binary built for these tests.
	dir := t.TempDir()
	bin := wootguard(t)
	var units []string
	for _, name := range []string{"wootguard.service", "wootguard-updates.service", "wootguard-updates.timer"} {
		body := strings.ReplaceAll(read(t, "systemd/"+name), "/usr/local/bin/wootguard", bin)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		units = append(units, p)
	}
	cmd := exec.Command(analyze, append([]string{"verify"}, units...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	// Any message is a problem (unknown keys are only warnings, exit 0).
	if err != nil || strings.TrimSpace(out.String()) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out.String())
	}
}

func TestKubernetesManifests(t *testing.T) {
	dec := yaml.NewDecoder(strings.NewReader(read(t, "kubernetes/wootguard.yaml")))
	docs := map[string]map[string]any{}
	for {
		var d map[string]any
		if err := dec.Decode(&d); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("manifests do not parse: %v", err)
		}
		kind, _ := d["kind"].(string)
		if d["apiVersion"] == nil || kind == "" || dig(d, "metadata", "name") == nil {
			t.Errorf("a manifest without apiVersion, kind or metadata.name: %v", d)
		}
		docs[kind] = d
	}
	for _, k := range []string{"ConfigMap", "Secret", "Deployment", "Service"} {
		if docs[k] == nil {
			t.Fatalf("no %s", k)
		}
	}
	cfg, _ := dig(docs["ConfigMap"], "data", "wootguard.yaml").(string)
	if cfg == "" {
		t.Fatal("the ConfigMap has no wootguard.yaml")
	}
	checkConfig(t, "ConfigMap wootguard.yaml", cfg)
	if dig(docs["Secret"], "stringData", "token") == nil {
		t.Error("the Secret has no admin token")
	}
	dep := docs["Deployment"]
	podLabels, _ := dig(dep, "spec", "template", "metadata", "labels").(map[string]any)
	sel, _ := dig(dep, "spec", "selector", "matchLabels").(map[string]any)
	svcSel, _ := dig(docs["Service"], "spec", "selector").(map[string]any)
	for name, s := range map[string]map[string]any{"Deployment selector": sel, "Service selector": svcSel} {
		if len(s) == 0 {
			t.Errorf("%s is empty", name)
		}
		for k, v := range s {
			if podLabels[k] != v {
				t.Errorf("%s %s=%v does not select the pods (%v)", name, k, v, podLabels)
			}
		}
	}
	if dig(dep, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
		t.Error("pods may run as root")
	}
	containers, _ := dig(dep, "spec", "template", "spec", "containers").([]any)
	if len(containers) != 1 {
		t.Fatalf("want one container, got %d", len(containers))
	}
	c := containers[0].(map[string]any)
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		if c[probe] == nil {
			t.Errorf("container has no %s", probe)
		}
	}
	var portNames []any
	for _, p := range c["ports"].([]any) {
		portNames = append(portNames, p.(map[string]any)["name"])
	}
	for _, p := range dig(docs["Service"], "spec", "ports").([]any) {
		if tp := p.(map[string]any)["targetPort"]; !slices.Contains(portNames, tp) {
			t.Errorf("Service targetPort %v is not a container port (%v)", tp, portNames)
		}
	}
}

func dig(m any, path ...string) any {
	for _, k := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

func TestProxySnippets(t *testing.T) {
	nginx := read(t, "proxy/nginx.conf")
	for _, want := range []string{"server 127.0.0.1:8080", "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for", "trusted_proxies: [127.0.0.1]"} {
		if !strings.Contains(nginx, want) {
			t.Errorf("nginx.conf lacks %q", want)
		}
	}
	if !strings.Contains(read(t, "proxy/Caddyfile"), "reverse_proxy 127.0.0.1:8080") {
		t.Error("Caddyfile does not proxy to wootguard")
	}
	var tr struct {
		HTTP struct {
			Services map[string]struct {
				LoadBalancer struct {
					Servers []struct {
						URL string `yaml:"url"`
					} `yaml:"servers"`
				} `yaml:"loadBalancer"`
			} `yaml:"services"`
		} `yaml:"http"`
	}
	if err := yaml.Unmarshal([]byte(read(t, "proxy/traefik.yaml")), &tr); err != nil {
		t.Fatal(err)
	}
	if s := tr.HTTP.Services["wootguard"].LoadBalancer.Servers; len(s) != 1 || s[0].URL != "http://127.0.0.1:8080" {
		t.Errorf("traefik servers %v, want wootguard on 127.0.0.1:8080", s)
	}
}

// docs/deploy.md documents every recipe.
func TestEveryRecipeIsDocumented(t *testing.T) {
	doc := read(t, "../docs/deploy.md")
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") {
			return err
		}
		if !strings.Contains(doc, "deploy/"+filepath.ToSlash(p)) {
			t.Errorf("docs/deploy.md does not mention deploy/%s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
