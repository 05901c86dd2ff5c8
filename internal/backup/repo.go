package backup

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// idLayout makes IDs sort by creation time: 20261123T020000Z-4f2a.
const idLayout = "20060102T150405Z"

var idPattern = regexp.MustCompile(`^\d{8}T\d{6}Z-[0-9a-f]{4}$`)

// tmpPrefix marks a backup still being written; it only loses the prefix
// (one rename) once complete, so a crash never leaves a backup that looks
// complete.
const tmpPrefix = ".tmp-"

func newID(now time.Time) string {
	return now.UTC().Format(idLayout) + "-" + randomHex(2)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// CheckID rejects anything that is not a backup ID, so an ID from the
// command line can never name a path outside the repository.
func CheckID(id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%q is not a backup ID (expected the form 20261123T020000Z-4f2a; see 'wootguard backup list')", id)
	}
	return nil
}

// Load reads the manifest of backup id in repository dir and checks that
// the files it lists are present with their recorded sizes.
func Load(dir, id string) (*Manifest, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	return loadDir(filepath.Join(dir, id), id)
}

func loadDir(path, id string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(path, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		if _, statErr := os.Stat(path); statErr != nil {
			return nil, fmt.Errorf("backup %s not found in %s", id, filepath.Dir(path))
		}
		return nil, fmt.Errorf("%s: no %s (incomplete or not a backup)", path, manifestName)
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: unreadable manifest: %v", filepath.Join(path, manifestName), err)
	}
	if m.ID != id {
		return nil, fmt.Errorf("%s: manifest is for backup %q, not %q", path, m.ID, id)
	}
	if m.DumpFile == "" {
		return nil, fmt.Errorf("%s: manifest lists no database dump", path)
	}
	for _, f := range []struct {
		name string
		size int64
	}{{m.DumpFile, m.DumpSize}, {m.StorageFile, m.StorageSize}, {m.EnvFile, -1}} {
		if f.name == "" {
			continue
		}
		if f.name != filepath.Base(f.name) {
			return nil, fmt.Errorf("%s: manifest names a file outside the backup: %q", path, f.name)
		}
		st, err := os.Stat(filepath.Join(path, f.name))
		if err != nil {
			return nil, fmt.Errorf("%s: %s is missing", path, f.name)
		}
		if f.size >= 0 && st.Size() != f.size {
			return nil, fmt.Errorf("%s: %s has %d bytes, the manifest says %d (truncated or replaced)", path, f.name, st.Size(), f.size)
		}
	}
	return &m, nil
}

// List returns the complete backups in dir, newest first. Incomplete or
// broken directories are skipped; ListWithWarnings says which.
func List(dir string) ([]*Manifest, error) {
	ms, _, err := ListWithWarnings(dir)
	return ms, err
}

// ListWithWarnings is List plus one warning per directory entry that looks
// like a backup but is not usable (interrupted creation, missing files,
// unreadable manifest).
func ListWithWarnings(dir string) (ms []*Manifest, warnings []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("backup directory %s does not exist", dir)
		}
		return nil, nil, err
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasPrefix(name, tmpPrefix):
			warnings = append(warnings, fmt.Sprintf("%s: incomplete backup (interrupted while being written); ignored, safe to delete", path))
		case !e.IsDir() || strings.HasPrefix(name, "."):
			// not ours: a README, lost+found's siblings, editor files
		case !idPattern.MatchString(name):
			warnings = append(warnings, fmt.Sprintf("%s: not a backup ID, ignored", path))
		default:
			m, err := loadDir(path, name)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("%v; ignored", err))
				continue
			}
			ms = append(ms, m)
		}
	}
	sortNewestFirst(ms)
	return ms, warnings, nil
}

func sortNewestFirst(ms []*Manifest) {
	sort.SliceStable(ms, func(i, j int) bool {
		if !ms[i].Created.Equal(ms[j].Created) {
			return ms[i].Created.After(ms[j].Created)
		}
		return ms[i].ID > ms[j].ID
	})
}

// writeManifest replaces path/manifest.json atomically: readers see the
// old or the new manifest, never half of one.
func writeManifest(path string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(path, manifestName+".tmp")
	if err := writeFileSync(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(path, manifestName)); err != nil {
		return err
	}
	return syncDir(path)
}

func writeFileSync(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
