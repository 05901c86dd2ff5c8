package memory

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

// snapshotFormat names the file's content; a file without it is refused.
const snapshotFormat = "wootguard-memory-snapshot"

type snapshotFile struct {
	Format  string          `json:"format"`
	Version int             `json:"version"`
	Saved   time.Time       `json:"saved"`
	Entries []snapshotEntry `json:"entries"`
}

type snapshotEntry struct {
	Key     string `json:"key"`
	Count   int64  `json:"count"`
	Expires int64  `json:"expires_unix_nano"`
	Ban     bool   `json:"ban,omitempty"`
	Class   uint8  `json:"class,omitempty"`
	Group   string `json:"group,omitempty"`
	Since   int64  `json:"since_unix_nano,omitempty"` // when a ban started
}

type snapshotter struct {
	path string
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}
}

// startSnapshots loads the snapshot file and starts the periodic writer.
func (s *Store) startSnapshots(o Options) {
	if o.Snapshot == "" {
		return
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	s.snap = snapshotter{path: o.Snapshot, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	n, dropped, err := s.load(o.Snapshot, s.now())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Info("memory store snapshot: no file yet, starting empty", "snapshot", o.Snapshot)
	case err != nil:
		aside := o.Snapshot + ".corrupt-" + strconv.FormatInt(time.Now().Unix(), 10)
		_ = os.Rename(o.Snapshot, aside)
		log.Error("memory store snapshot refused: starting with no bans or counters; the file was moved aside",
			"snapshot", o.Snapshot, "moved_to", aside, "err", err.Error())
	default:
		log.Info("memory store snapshot loaded", "snapshot", o.Snapshot, "keys", n, "expired_dropped", dropped)
	}
	every := o.SnapshotEvery
	if every == 0 {
		every = time.Minute
	}
	go func() {
		defer close(s.snap.done)
		if every < 0 {
			<-s.snap.stop
			return
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-s.snap.stop:
				return
			case <-tick.C:
				if err := s.SaveSnapshot(s.snap.path); err != nil {
					log.Error("memory store snapshot not written", "snapshot", s.snap.path, "err", err.Error())
				}
			}
		}
	}()
}

// stopSnapshots writes the last snapshot.
func (s *Store) stopSnapshots() error {
	if s.snap.path == "" {
		return nil
	}
	close(s.snap.stop)
	<-s.snap.done
	if err := s.SaveSnapshot(s.snap.path); err != nil {
		s.snap.log.Error("memory store snapshot not written", "snapshot", s.snap.path, "err", err.Error())
		return err
	}
	return nil
}

// SaveSnapshot writes every live key to path atomically (a temporary file
// in the same directory, synced, then renamed over path).
func (s *Store) SaveSnapshot(path string) error {
	t := s.now().UnixNano()
	f := snapshotFile{Format: snapshotFormat, Version: 1, Saved: time.Unix(0, t).UTC()}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for i := range sh.entries {
			if e := &sh.entries[i]; e.flags&inUse != 0 && e.expires > t {
				id := sh.listID(e)
				f.Entries = append(f.Entries, snapshotEntry{Key: string(sh.key(e)), Count: e.count, Expires: e.expires,
					Ban: e.flags&banned != 0, Class: uint8(id.class), Group: id.group, Since: sh.since[int32(i)]})
			}
		}
		sh.mu.Unlock()
	}
	data, err := json.Marshal(&f)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
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

// load reads a snapshot, dropping expired entries. It changes nothing
// when the file is unreadable or not a snapshot.
func (s *Store) load(path string, now time.Time) (loaded, dropped int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	var f snapshotFile
	if err := json.Unmarshal(data, &f); err != nil {
		return 0, 0, fmt.Errorf("not a snapshot: %v", err)
	}
	if f.Format != snapshotFormat || f.Version != 1 {
		return 0, 0, fmt.Errorf("not a wootguard memory snapshot (format %q version %d)", f.Format, f.Version)
	}
	t := now.UnixNano()
	for _, e := range f.Entries {
		if e.Expires <= t || e.Key == "" || e.Class > uint8(store.ClassBan) {
			dropped++
			continue
		}
		sh, h := s.shardFor(e.Key)
		sh.mu.Lock()
		s.put(sh, e.Key, h, record{count: e.Count, expires: e.Expires, ban: e.Ban, since: e.Since}, listID{store.Class(e.Class), e.Group}, t)
		sh.mu.Unlock()
		loaded++
	}
	return loaded, dropped, nil
}
