package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// buildDockerImages builds, locally, the stand-in Chatwoot images
// chatwoot/chatwoot:v4.1.0 (also tagged :latest), :v4.2.0 and :v4.3.0 and
// the PostgreSQL image (dockerImages).
func buildDockerImages(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	pgErr := make(chan error, 1)
	go func() { pgErr <- buildPostgresImage(filepath.Join(dir, "postgres")) }()
	cwErr := buildChatwootImages(filepath.Join(dir, "chatwoot"), dockerOld, dockerNew, dockerBad)
	if err := <-pgErr; err != nil {
		t.Fatal(err)
	}
	if cwErr != nil {
		t.Fatal(cwErr)
	}
	docker(t, "tag", "chatwoot/chatwoot:v"+dockerOld, "chatwoot/chatwoot:latest")
}

// buildChatwootImages builds one static fake Chatwoot and, per version,
// an image FROM scratch with it as /bin/bundle (so the compose file's
// `bundle exec …` commands run it) and FAKECW_VERSION set.
func buildChatwootImages(ctxDir string, versions ...string) error {
	os.MkdirAll(ctxDir, 0o755)
	build := exec.Command("go", "build", "-o", filepath.Join(ctxDir, "bundle"), "../../internal/rollout/testdata/fakechatwoot")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build fakechatwoot: %v\n%s", err, out)
	}
	for _, v := range versions {
		dockerfile := "FROM scratch\nCOPY bundle /bin/bundle\nENV PATH=/bin FAKECW_VERSION=" + v + "\n" +
			`CMD ["bundle", "exec", "rails", "s", "-p", "3000", "-b", "127.0.0.1"]` + "\n"
		if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
			return err
		}
		if out, err := exec.Command("docker", "build", "--force-rm", "-q", "-t", "chatwoot/chatwoot:v"+v, ctxDir).CombinedOutput(); err != nil {
			return fmt.Errorf("docker build chatwoot %s: %v\n%s", v, err, out)
		}
	}
	return nil
}

// buildPostgresImage builds PostgreSQL FROM scratch out of this machine's
// Debian PostgreSQL: the server and client programs, the extension
// libraries, the share directory, every library ldd names for them, and
// dash as /bin/sh (initdb runs the server through it). The cluster is
// created at build time (RUN initdb, exec form), with a password, so a
// named volume starts from it as the official image's first start does.
func buildPostgresImage(ctxDir string) error {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 {
		return fmt.Errorf("no Debian PostgreSQL server in /usr/lib/postgresql/*/bin (package postgresql)")
	}
	sort.Strings(bins)
	binDir := filepath.Dir(bins[len(bins)-1])
	pgConfig := func(flag string) (string, error) {
		out, err := exec.Command(filepath.Join(binDir, "pg_config"), flag).Output()
		return strings.TrimSpace(string(out)), err
	}
	share, err := pgConfig("--sharedir")
	if err != nil {
		return fmt.Errorf("pg_config --sharedir: %v", err)
	}
	pkglib, err := pgConfig("--pkglibdir")
	if err != nil {
		return fmt.Errorf("pg_config --pkglibdir: %v", err)
	}
	root := filepath.Join(ctxDir, "rootfs")
	var elves []string
	put := func(src, dst string) error {
		if err := copyFile(src, filepath.Join(root, dst)); err != nil {
			return err
		}
		elves = append(elves, src)
		return nil
	}
	for _, b := range []string{"postgres", "initdb", "pg_dump", "pg_restore"} {
		if err := put(filepath.Join(binDir, b), filepath.Join(binDir, b)); err != nil {
			return err
		}
	}
	libs, _ := filepath.Glob(filepath.Join(pkglib, "*.so"))
	for _, l := range libs {
		if strings.HasPrefix(filepath.Base(l), "llvmjit") { // JIT: large, unused
			continue
		}
		if err := put(l, l); err != nil {
			return err
		}
	}
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		return err
	}
	if err := put(sh, "/bin/sh"); err != nil {
		return err
	}
	needed := map[string]bool{}
	for _, e := range elves {
		out, _ := exec.Command("ldd", e).Output() // a non-ELF (none here) has no libraries
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
				needed[f[2]] = true
			case len(f) >= 1 && strings.HasPrefix(f[0], "/"): // the dynamic loader
				needed[f[0]] = true
			}
		}
	}
	for l := range needed {
		if err := copyFile(l, filepath.Join(root, l)); err != nil {
			return err
		}
	}
	err = filepath.WalkDir(share, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if rel, _ := filepath.Rel(share, p); strings.HasPrefix(rel, "man") {
			return nil
		}
		return copyFile(p, filepath.Join(root, p))
	})
	if err != nil {
		return err
	}
	for _, z := range []string{"UTC", "Etc/UTC"} {
		if err := copyFile("/usr/share/zoneinfo/UTC", filepath.Join(root, "usr/share/zoneinfo", z)); err != nil {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0::/:/bin/sh\npostgres:x:999:999::/var/lib/postgresql:/bin/sh\n",
		"etc/group":  "root:x:0:\npostgres:x:999:\n",
		"etc/pw":     pgPassword + "\n",
	}
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	for p, content := range files {
		if err := os.WriteFile(filepath.Join(root, p), []byte(content), 0o644); err != nil {
			return err
		}
	}
	dockerfile := "FROM scratch\nCOPY rootfs/ /\nCOPY --chown=999:999 pgdir/ /var/lib/postgresql/\nUSER 999:999\n" +
		"ENV PATH=" + binDir + " TZ=UTC LANG=C\n" +
		`RUN ["initdb", "-D", "/var/lib/postgresql/data", "-U", "postgres", "--pwfile=/etc/pw", "-A", "scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C"]` + "\n" +
		`CMD ["postgres", "-D", "/var/lib/postgresql/data", "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]` + "\n"
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return err
	}
	os.MkdirAll(filepath.Join(ctxDir, "pgdir"), 0o755)
	os.MkdirAll(filepath.Join(root, "tmp"), 0o1777)
	// --network host: RUN needs a network mode, and this engine has no bridge.
	if out, err := exec.Command("docker", "build", "--force-rm", "-q", "--network", "host", "-t", pgImage, ctxDir).CombinedOutput(); err != nil {
		return fmt.Errorf("docker build postgres: %v\n%s", err, out)
	}
	return nil
}

// copyFile copies src's content (following symlinks) to dst, keeping the
// permission bits.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
