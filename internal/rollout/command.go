package rollout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Command is one action of a target: a program with its arguments, or a
// file wootguard writes (the compose override). Commands are data so that
// `update plan` shows exactly what `update apply` will run.
type Command struct {
	Argv []string
	Env  map[string]string // added to wootguard's own environment
	Dir  string
	// Shell marks an operator-supplied string run as `sh -c STRING`.
	Shell bool
	// WriteFile, when set, makes the command write Content to that path
	// (atomically) instead of running a program.
	WriteFile string
	Content   string
}

// String renders the command as one shell-quoted line.
func (c Command) String() string {
	if c.WriteFile != "" {
		return fmt.Sprintf("write %s (%d bytes, owned by wootguard)", c.WriteFile, len(c.Content))
	}
	var b strings.Builder
	if c.Dir != "" {
		fmt.Fprintf(&b, "(in %s) ", c.Dir)
	}
	keys := make([]string, 0, len(c.Env))
	for k := range c.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + "=" + shellQuote(redactValue(k, c.Env[k])) + " ")
	}
	b.WriteString(c.Short())
	return b.String()
}

// Short renders the command without its directory and environment.
func (c Command) Short() string {
	if c.WriteFile != "" {
		return c.String()
	}
	var b strings.Builder
	for i, a := range c.Argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(shellQuote(a))
	}
	if c.Shell {
		b.WriteString("   # operator's shell string")
	}
	return b.String()
}

// redactValue hides secrets in displayed environment values: values of
// variables named like secrets, and passwords inside URLs.
func redactValue(key, v string) string {
	k := strings.ToUpper(key)
	for _, w := range []string{"PASSWORD", "SECRET", "TOKEN", "KEY"} {
		if strings.Contains(k, w) {
			return "REDACTED"
		}
	}
	if u, err := url.Parse(v); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return u.Redacted()
		}
	}
	return v
}

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// run executes c, copying its output to log. The error carries the last
// lines of output, which is usually what explains a failure.
func (c Command) run(ctx context.Context, log io.Writer) error {
	if c.WriteFile != "" {
		return writeFileAtomic(c.WriteFile, []byte(c.Content), 0o644)
	}
	if len(c.Argv) == 0 {
		return fmt.Errorf("empty command")
	}
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = os.Environ()
	for k, v := range c.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var tail tailBuffer
	out := io.MultiWriter(log, &tail)
	cmd.Stdout, cmd.Stderr = out, out
	// A daemon started by a command (`start`) may inherit our pipes and
	// keep them open: once the command itself has exited, stop waiting.
	cmd.WaitDelay = 3 * time.Second
	if err := cmd.Run(); err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		if t := strings.TrimSpace(tail.String()); t != "" {
			return fmt.Errorf("%s: %w\n%s", c, err, indent(t))
		}
		return fmt.Errorf("%s: %w", c, err)
	}
	return nil
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	lines := strings.Split(strings.TrimRight(string(t.b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// writeFileAtomic writes via a temporary file and rename, then fsyncs the
// directory, so a crash leaves either the old or the new file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
