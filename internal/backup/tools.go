package backup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"
)

// tool builds a pg_dump/pg_restore command, run locally or through
// Options.ToolPrefix. Locally the password travels in PGPASSWORD rather
// than on the command line, where other users could read it in ps.
func (o *Options) tool(ctx context.Context, conn string, name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, o.ToolPrefix...), name), args...)
	var env []string
	if conn != "" {
		target := conn
		if len(o.ToolPrefix) == 0 && isURL(conn) {
			if u, err := url.Parse(conn); err == nil && u.User != nil {
				if pw, ok := u.User.Password(); ok {
					env = append(env, "PGPASSWORD="+pw)
					u.User = url.User(u.User.Username())
					target = u.String()
				}
			}
		}
		argv = append(argv, "--dbname="+target)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	return cmd
}

// tailBuffer keeps the last bytes written to it: enough of a tool's
// stderr to explain a failure without holding a huge log in memory.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	const max = 4096
	t.b = append(t.b, p...)
	if len(t.b) > max {
		t.b = t.b[len(t.b)-max:]
	}
	return len(p), nil
}

// runTool runs cmd with the given stdin/stdout and turns a failure into
// an error carrying the tool's own message (password removed).
func runTool(cmd *exec.Cmd, stdin io.Reader, stdout io.Writer, conn string) error {
	var stderr tailBuffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return nil
	}
	return toolError(cmd, err, stderr.b, conn)
}

func toolError(cmd *exec.Cmd, err error, stderr []byte, conn string) error {
	msg := strings.TrimSpace(string(bytes.ToValidUTF8(stderr, []byte("?"))))
	if pw := password(conn); pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	name := cmd.Args[0]
	for _, a := range cmd.Args {
		if strings.HasPrefix(a, "pg_") {
			name = a
			break
		}
	}
	if msg == "" {
		return fmt.Errorf("%s: %v", name, err)
	}
	return fmt.Errorf("%s: %v: %s", name, err, msg)
}

// toolVersion returns the first line of "<name> --version".
func (o *Options) toolVersion(ctx context.Context, name string) (string, error) {
	var out bytes.Buffer
	if err := runTool(o.tool(ctx, "", name, "--version"), nil, &out, ""); err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	return strings.TrimSpace(line), nil
}
