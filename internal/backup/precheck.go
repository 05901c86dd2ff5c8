package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// Source is where a backup came from, recorded in its manifest so that
// verify and restore need not be told again. It never holds the password.
type Source struct {
	Host     string `json:"host"`
	Port     uint16 `json:"port"`
	Database string `json:"database"`
	User     string `json:"user"`
	SSLMode  string `json:"sslmode,omitempty"` // as given in the URL, if it was
}

// SourceOf reads the source of a connection string (password left out).
func SourceOf(conn string) (*Source, error) {
	cfg, err := pgx.ParseConfig(conn)
	if err != nil {
		return nil, err
	}
	src := &Source{Host: cfg.Host, Port: cfg.Port, Database: cfg.Database, User: cfg.User}
	if u, err := url.Parse(conn); err == nil && isURL(conn) {
		src.SSLMode = u.Query().Get("sslmode")
	} else if m := dsnSSLMode.FindStringSubmatch(conn); m != nil {
		src.SSLMode = m[1]
	}
	return src, nil
}

// URL is a password-less connection URL to the source. The driver takes
// the password from PGPASSWORD or ~/.pgpass, as psql does.
func (s *Source) URL() string {
	u := &url.URL{Scheme: "postgres", User: url.User(s.User), Path: "/" + s.Database}
	q := url.Values{}
	if strings.HasPrefix(s.Host, "/") { // a Unix socket directory
		q.Set("host", s.Host)
		q.Set("port", fmt.Sprint(s.Port))
	} else {
		u.Host = net.JoinHostPort(s.Host, fmt.Sprint(s.Port))
	}
	if s.SSLMode != "" {
		q.Set("sslmode", s.SSLMode)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

var dsnSSLMode = regexp.MustCompile(`sslmode\s*=\s*'?([a-z-]+)`)

func (s *Source) String() string {
	return fmt.Sprintf("database %s on %s:%d as %s", s.Database, s.Host, s.Port, s.User)
}

// Precheck finds, before anything is dumped, what would make Create fail
// half-way: a --storage that is not a readable directory, an --env-file
// that is not a readable file, a backup directory that cannot be written
// or has too little free space, and a database that cannot be reached.
// Every problem is reported, not just the first.
func Precheck(ctx context.Context, o Options) error {
	var probs []error
	if o.StorageDir != "" {
		if st, err := os.Stat(o.StorageDir); err != nil {
			probs = append(probs, fmt.Errorf("storage directory (--storage, updates.backup.storage_dir): %w", err))
		} else if !st.IsDir() {
			probs = append(probs, fmt.Errorf("storage directory (--storage) %s is not a directory", o.StorageDir))
		} else if _, err := os.ReadDir(o.StorageDir); err != nil {
			probs = append(probs, fmt.Errorf("storage directory (--storage) cannot be read: %w", err))
		}
	}
	if o.EnvFile != "" {
		if st, err := os.Stat(o.EnvFile); err != nil {
			probs = append(probs, fmt.Errorf(".env file (--env-file, updates.backup.env_file): %w", err))
		} else if !st.Mode().IsRegular() {
			probs = append(probs, fmt.Errorf(".env file (--env-file) %s is not a regular file", o.EnvFile))
		} else if f, err := os.Open(o.EnvFile); err != nil {
			probs = append(probs, fmt.Errorf(".env file (--env-file) cannot be read: %w", err))
		} else {
			f.Close()
		}
	}
	dbSize := int64(-1)
	if err := CheckDatabaseURL(o.DatabaseURL); err != nil {
		probs = append(probs, err)
	} else if c, err := pgx.Connect(ctx, o.DatabaseURL); err != nil {
		probs = append(probs, explainConn(o.DatabaseURL, err))
	} else {
		if err := c.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&dbSize); err != nil {
			dbSize = -1
		}
		c.Close(context.Background())
	}
	if o.Dir != "" {
		if err := checkWritableSpace(o, dbSize); err != nil {
			probs = append(probs, err)
		}
	}
	return errors.Join(probs...)
}

// checkWritableSpace checks that the backup directory (or its nearest
// existing parent) can be written and has room for a dump about the size
// of the database plus storage/: a custom-format dump is compressed, so
// this errs on the safe side.
func checkWritableSpace(o Options, dbSize int64) error {
	dir := o.Dir
	for {
		if _, err := os.Stat(dir); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	probe, err := os.CreateTemp(dir, ".wgprecheck-*")
	if err != nil {
		return fmt.Errorf("backup directory (--dir, updates.backup.dir) %s cannot be written: %w", o.Dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	var s syscall.Statfs_t
	if err := syscall.Statfs(dir, &s); err != nil {
		return nil // no statfs here: the dump will tell
	}
	free := int64(s.Bavail) * int64(s.Bsize)
	need := max(dbSize, 0)
	if o.StorageDir != "" {
		need += dirSize(o.StorageDir)
	}
	if need > free {
		return fmt.Errorf("not enough free space in %s: %s free, the database and storage/ take %s (free some space or choose another --dir)",
			dir, humanBytes(free), humanBytes(need))
	}
	return nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
