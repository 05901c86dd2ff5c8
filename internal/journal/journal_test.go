package journal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAppendAndReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	clock := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	j := Open(path, func() time.Time { clock = clock.Add(time.Second); return clock })
	in := []Record{
		{UpdateID: "u1", Step: "preflight", Phase: PhaseStart, From: "4.1.0", To: "4.2.0"},
		{UpdateID: "u1", Step: "preflight", Phase: PhaseEnd, Outcome: OutcomeOK, Checks: []Check{{Name: "/health", OK: true, Attempts: 2}}},
		{UpdateID: "u2", Step: "backup", Phase: PhaseEnd, Outcome: OutcomeFailed, Error: "disk full\nsecond line"},
		{UpdateID: "u2", Step: "rollback", Phase: PhaseNote, Decision: "rollback: smoke failed"},
	}
	for _, r := range in {
		if err := j.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	out, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("read %d records, wrote %d", len(out), len(in))
	}
	for i := range in {
		if out[i].Step != in[i].Step || out[i].Error != in[i].Error || out[i].Decision != in[i].Decision || len(out[i].Checks) != len(in[i].Checks) {
			t.Errorf("record %d: got %+v, want %+v", i, out[i], in[i])
		}
		if out[i].User == "" || out[i].Time.IsZero() {
			t.Errorf("record %d: user/time not filled: %+v", i, out[i])
		}
		if i > 0 && !out[i].Time.After(out[i-1].Time) {
			t.Errorf("record %d: time %v not after %v", i, out[i].Time, out[i-1].Time)
		}
	}
	last := LastUpdate(out)
	if len(last) != 2 || last[0].UpdateID != "u2" {
		t.Errorf("LastUpdate = %+v, want the two u2 records", last)
	}
	// Appending never rewrites: the file only grows, one line per record.
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != len(in) {
		t.Errorf("file has %d lines, want %d", n, len(in))
	}
}

func TestReadAllDamage(t *testing.T) {
	good := `{"update_id":"u1","step":"a","phase":"start","time":"2026-01-01T00:00:00Z","user":"x","host":"h"}` + "\n"
	tests := []struct {
		name    string
		content string
		want    int
		wantErr string
	}{
		{"missing file is empty", "", 0, ""},
		{"torn last line skipped", good + `{"update_id":"u1","st`, 1, ""},
		{"bad middle line is an error", good + "garbage\n" + good, 0, ":2: not a journal record"},
		{"blank lines ignored", good + "\n" + good, 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.jsonl")
			if tc.content != "" {
				os.WriteFile(path, []byte(tc.content), 0o600)
			}
			recs, err := ReadAll(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != tc.want {
				t.Errorf("got %d records, want %d", len(recs), tc.want)
			}
		})
	}
}

func TestWho(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SUDO_USER": "alice", "USER": "root"}, "alice"},
		{map[string]string{"USER": "bob"}, "bob"},
		{map[string]string{"LOGNAME": "carol"}, "carol"},
	}
	for _, tc := range tests {
		if got := Who(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("Who(%v) = %q, want %q", tc.env, got, tc.want)
		}
	}
}

// BenchmarkAppend measures one durable record (write + fsync).
func BenchmarkAppend(b *testing.B) {
	j := Open(filepath.Join(b.TempDir(), "journal.jsonl"), nil)
	rec := Record{UpdateID: "20261123T200000Z-abcdef", From: "4.15.1", To: "4.18.0", Target: "main", Instance: "production",
		Step: "production.smoke", Phase: PhaseEnd, Outcome: OutcomeOK,
		Checks: []Check{{Name: "GET /health", OK: true, Attempts: 1}, {Name: "GET /api", OK: true, Attempts: 2}}}
	for b.Loop() {
		if err := j.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
}
