package release

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// cacheEntry is one feed body kept on disk, so that a feed outage (or an
// air-gapped day) still gives an answer, stated with its age.
type cacheEntry struct {
	URL       string    `json:"url"`
	ETag      string    `json:"etag,omitempty"`
	FetchedAt time.Time `json:"fetched_at"`
	Body      []byte    `json:"body"`
}

// DefaultCacheDir is $XDG_CACHE_HOME/wootguard, else ~/.cache/wootguard.
func DefaultCacheDir(getenv func(string) string) string {
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "wootguard")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "wootguard")
	}
	return ""
}

func cachePath(dir, url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(dir, "feed-"+hex.EncodeToString(sum[:12])+".json")
}

// readCache returns nil when there is no usable entry; a damaged entry is
// treated as absent (it is only a cache).
func readCache(dir, url string) *cacheEntry {
	if dir == "" {
		return nil
	}
	data, err := os.ReadFile(cachePath(dir, url))
	if err != nil {
		return nil
	}
	var e cacheEntry
	if json.Unmarshal(data, &e) != nil || e.URL != url {
		return nil
	}
	return &e
}

func writeCache(dir string, e *cacheEntry) error {
	if dir == "" {
		return nil
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return WriteFileAtomic(cachePath(dir, e.URL), data, 0o600)
}

// WriteFileAtomic writes data to a temporary file in path's directory and
// renames it over path, so a crash never leaves a half-written file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
