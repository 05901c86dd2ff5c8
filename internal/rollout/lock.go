package rollout

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Lock is the exclusive update lock: a file created with O_EXCL holding
// "PID HOST". It outlives a crash on purpose; a lock whose process is gone
// is recognised as stale and taken over.
type Lock struct {
	path string
}

// ErrLocked means another live update holds the lock.
var ErrLocked = errors.New("another update is running")

// AcquireLock takes the lock in dir. stale is non-empty when a lock left
// by a dead process was taken over (worth telling the operator).
func AcquireLock(dir string) (l *Lock, stale string, err error) {
	path := filepath.Join(dir, "update.lock")
	host, _ := os.Hostname()
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := fmt.Fprintf(f, "%d %s\n", os.Getpid(), host)
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(path)
				return nil, "", werr
			}
			return &Lock{path: path}, stale, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, "", fmt.Errorf("update lock: %w", err)
		}
		data, _ := os.ReadFile(path)
		pid, lockHost := parseLock(string(data))
		if lockHost != "" && lockHost != host {
			return nil, "", fmt.Errorf("%w: %s is held by PID %d on host %s (remove it only if that update is really gone)", ErrLocked, path, pid, lockHost)
		}
		if pid > 0 && processAlive(pid) {
			return nil, "", fmt.Errorf("%w: PID %d holds %s", ErrLocked, pid, path)
		}
		// Dead holder (or unreadable lock): move it aside, keeping it as
		// evidence, and try once more; O_EXCL settles a race between two.
		stale = fmt.Sprintf("stale update lock from dead PID %d was taken over", pid)
		if err := os.Rename(path, path+".stale"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("update lock: %w", err)
		}
	}
	return nil, "", fmt.Errorf("%w: could not take %s", ErrLocked, path)
}

func parseLock(s string) (int, string) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, ""
	}
	pid, _ := strconv.Atoi(f[0])
	if len(f) > 1 {
		return pid, f[1]
	}
	return pid, ""
}

// processAlive reports whether pid exists (EPERM means it does, owned by
// someone else). A zombie counts as dead: it can hold nothing.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc: trust kill
	}
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// Release removes the lock.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	return os.Remove(l.path)
}
