package rollout

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Status of an update in the state file.
const (
	StatusRunning        = "running"         // steps in progress (or the process died)
	StatusRollingBack    = "rolling_back"    // rollback in progress (or the process died)
	StatusDone           = "done"            // updated and healthy
	StatusFailed         = "failed"          // stopped before anything was changed
	StatusRolledBack     = "rolled_back"     // failed, and restored to the previous version
	StatusRollbackFailed = "rollback_failed" // needs an operator
)

// State is the update in progress, saved after every step so that a crash
// at any point can be detected and resumed or rolled back.
type State struct {
	UpdateID string            `json:"update_id"`
	Target   string            `json:"target"`
	To       string            `json:"to"`
	From     map[string]string `json:"from"`    // role -> version before the update
	Backups  map[string]string `json:"backups"` // role -> verified backup id
	// Touched lists roles whose app or database was changed.
	Touched  map[string]bool `json:"touched"`
	Step     string          `json:"step"`      // current or last step, e.g. "staging.deploy"
	StepDone bool            `json:"step_done"` // Step finished (its end is journaled)
	Status   string          `json:"status"`
	// RollbackRole is the instance being (or that was) rolled back.
	RollbackRole string    `json:"rollback_role,omitempty"`
	PID          int       `json:"pid"`
	Host         string    `json:"host"`
	Started      time.Time `json:"started"`
	Updated      time.Time `json:"updated"`
	Error        string    `json:"error,omitempty"`
}

// Unfinished reports a state that a crash left behind.
func (s *State) Unfinished() bool {
	return s != nil && (s.Status == StatusRunning || s.Status == StatusRollingBack || s.Status == StatusRollbackFailed)
}

func statePath(dir string) string { return filepath.Join(dir, "state.json") }

// LoadState reads the state file in dir; nil when there is none.
func LoadState(dir string) (*State, error) {
	data, err := os.ReadFile(statePath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("state file %s is damaged (%v); inspect it and the journal before removing it", statePath(dir), err)
	}
	return &s, nil
}

func saveState(dir string, s *State) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(statePath(dir), append(data, '\n'), 0o640); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// lastDumpSizes remembers each instance's last dump size for the disk check.
func lastDumpSize(dir, key string) int64 {
	data, err := os.ReadFile(filepath.Join(dir, "dump-sizes.json"))
	if err != nil {
		return 0
	}
	var m map[string]int64
	json.Unmarshal(data, &m)
	return m[key]
}

func saveDumpSize(dir, key string, size int64) error {
	m := map[string]int64{}
	if data, err := os.ReadFile(filepath.Join(dir, "dump-sizes.json")); err == nil {
		json.Unmarshal(data, &m)
	}
	m[key] = size
	data, _ := json.Marshal(m)
	return writeFileAtomic(filepath.Join(dir, "dump-sizes.json"), data, 0o640)
}
