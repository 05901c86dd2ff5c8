package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// State remembers which keyed events were delivered, in a small JSON file
// that survives restarts. It is shared by the Once wrappers of one
// process. Each write merges what other processes wrote to the file
// meanwhile; truly simultaneous writes can still lose an entry (the event
// is then sent again, never lost).
type State struct {
	path string
	mu   sync.Mutex
	sent map[string]time.Time
}

type stateFile struct {
	Sent map[string]time.Time `json:"sent"`
}

// OpenState loads the state file at path; a missing file is an empty
// state. A damaged file is an error rather than a silent reset, which
// would resend every notification.
func OpenState(path string) (*State, error) {
	if path == "" {
		return nil, fmt.Errorf("notification state file: no path given")
	}
	s := &State{path: path, sent: map[string]time.Time{}}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("notification state file: %v", err)
	}
	var f stateFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("notification state file %s is damaged (%v): fix or delete it (deleting resends old notifications)", path, err)
	}
	for k, v := range f.Sent {
		s.sent[k] = v
	}
	return s, nil
}

// Sent reports whether key was delivered on channel.
func (s *State) Sent(channel, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sent[channel+"|"+key]
	return ok
}

func (s *State) markSent(channel, key string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Another process (the update runner and the watcher may share a
	// state_file) may have written since we loaded: merge its entries
	// instead of overwriting them.
	if data, err := os.ReadFile(s.path); err == nil {
		var f stateFile
		if json.Unmarshal(data, &f) == nil {
			for k, v := range f.Sent {
				if _, ok := s.sent[k]; !ok {
					s.sent[k] = v
				}
			}
		}
	}
	s.sent[channel+"|"+key] = at
	data, err := json.MarshalIndent(stateFile{Sent: s.sent}, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path, data)
}

// Once delivers each keyed event at most once ever per channel: an event
// whose Key was already delivered is skipped; a failed delivery is not
// recorded, so the next run tries again. Events without a Key always go
// through.
type Once struct {
	Next    Sender
	State   *State
	Channel string // distinguishes channels sharing a State
}

// NewOnce wraps next with the state file at path.
func NewOnce(path string, next Sender) (*Once, error) {
	st, err := OpenState(path)
	if err != nil {
		return nil, err
	}
	return &Once{Next: next, State: st, Channel: "default"}, nil
}

// Send delivers e unless its Key was delivered before.
func (o *Once) Send(ctx context.Context, e Event) error {
	if e.Key == "" {
		return o.Next.Send(ctx, e)
	}
	if o.State.Sent(o.Channel, e.Key) {
		return nil
	}
	if err := o.Next.Send(ctx, e); err != nil {
		return err
	}
	if err := o.State.markSent(o.Channel, e.Key, time.Now().UTC()); err != nil {
		return fmt.Errorf("notification delivered but not recorded (it may be sent again): %v", err)
	}
	return nil
}

// writeFileAtomic writes via a temporary file and a rename, so a crash
// never leaves a half-written state file.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
