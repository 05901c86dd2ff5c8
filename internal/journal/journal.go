// Package journal is the update guardian's audit log: an append-only file of
// JSON lines, one record per step start and end, fsynced per record so that
// a crash never loses a step that was reported as started.
package journal

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"
)

// Phases of a record.
const (
	PhaseStart = "start"
	PhaseEnd   = "end"
	PhaseNote  = "note" // a decision or event that is not a step boundary
)

// Outcomes of an end record.
const (
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
	OutcomeSkipped = "skipped"
)

// Check is one smoke-test result as stored in the journal.
type Check struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Attempts int    `json:"attempts"`
	Detail   string `json:"detail,omitempty"`
}

// Record is one line of the journal.
type Record struct {
	Time     time.Time `json:"time"`
	User     string    `json:"user"`
	Host     string    `json:"host"`
	UpdateID string    `json:"update_id"`
	From     string    `json:"from,omitempty"`
	To       string    `json:"to,omitempty"`
	Target   string    `json:"target,omitempty"`
	Instance string    `json:"instance,omitempty"`
	Step     string    `json:"step"`
	Phase    string    `json:"phase"`
	Outcome  string    `json:"outcome,omitempty"`
	BackupID string    `json:"backup_id,omitempty"`
	Checks   []Check   `json:"checks,omitempty"`
	// Decision says what the guardian decided and why ("rollback: migrate
	// failed on production"), so an operator can audit automatic choices.
	Decision string   `json:"decision,omitempty"`
	Commands []string `json:"commands,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// Journal appends records to one file.
type Journal struct {
	path string
	user string
	host string
	now  func() time.Time
}

// Open prepares the journal at path (created on first append). now may be
// nil for the wall clock.
func Open(path string, now func() time.Time) *Journal {
	if now == nil {
		now = time.Now
	}
	host, _ := os.Hostname()
	return &Journal{path: path, user: Who(os.Getenv), host: host, now: now}
}

// Path is the journal file.
func (j *Journal) Path() string { return j.path }

// Who names the person behind the process: the sudo caller first, because
// "root" says nothing about who ran an update.
func Who(getenv func(string) string) string {
	for _, k := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// Fill sets r's time, user and host when they are empty.
func (j *Journal) Fill(r *Record) {
	if r.Time.IsZero() {
		r.Time = j.now().UTC()
	}
	if r.User == "" {
		r.User = j.user
	}
	if r.Host == "" {
		r.Host = j.host
	}
}

// Append writes r as one line (filling time, user and host when empty) and
// fsyncs before returning.
func (j *Journal) Append(r Record) error {
	j.Fill(&r)
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("journal: encode record: %w", err)
	}
	line = append(line, '\n')
	// O_APPEND makes each single write land at the end even with several
	// writers; one write per record keeps lines whole.
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("journal: write %s: %w", j.path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("journal: fsync %s: %w", j.path, err)
	}
	return f.Close()
}

// ReadAll returns every record of the journal at path. A missing file is
// an empty journal. A torn last line (crash during write) is skipped; a bad
// line elsewhere is an error naming its line number.
func ReadAll(path string) ([]Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	lineNo := 0
	var pendingErr error
	for sc.Scan() {
		lineNo++
		if pendingErr != nil {
			return nil, pendingErr
		}
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			pendingErr = fmt.Errorf("journal: %s:%d: not a journal record: %v", path, lineNo, err)
			continue
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("journal: read %s: %w", path, err)
	}
	return out, nil
}

// LastUpdate returns the records of the most recent update in recs, in order.
func LastUpdate(recs []Record) []Record {
	if len(recs) == 0 {
		return nil
	}
	id := recs[len(recs)-1].UpdateID
	var out []Record
	for _, r := range recs {
		if r.UpdateID == id {
			out = append(out, r)
		}
	}
	return out
}
