package backup

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

// fakeBackup writes a complete backup directory without a database: what
// List, Load and Prune look at.
func fakeBackup(t *testing.T, dir string, created time.Time, verified *bool) *Manifest {
	t.Helper()
	m := &Manifest{ID: newID(created), Created: created, Database: "chatwoot_production",
		DumpFile: dumpName, DumpSize: 5, DumpSHA256: "x"}
	if verified != nil {
		m.Verified = &Verification{At: created.Add(time.Minute), OK: *verified}
	}
	path := filepath.Join(dir, m.ID)
	must(t, os.MkdirAll(path, 0o700))
	must(t, os.WriteFile(filepath.Join(path, dumpName), []byte("dump!"), 0o600))
	must(t, writeManifest(path, m))
	return m
}

func ids(ms []*Manifest) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestListSkipsBrokenDirectoriesWithWarnings(t *testing.T) {
	dir := t.TempDir()
	older := fakeBackup(t, dir, t0, nil)
	newer := fakeBackup(t, dir, t0.Add(time.Hour), nil)

	// A crash during Create: files written, manifest too, never renamed.
	crashed := filepath.Join(dir, tmpPrefix+newID(t0.Add(2*time.Hour)))
	must(t, os.CopyFS(crashed, os.DirFS(filepath.Join(dir, newer.ID))))
	noManifest := filepath.Join(dir, newID(t0.Add(3*time.Hour)))
	must(t, os.Mkdir(noManifest, 0o700))
	truncated := fakeBackup(t, dir, t0.Add(4*time.Hour), nil)
	must(t, os.Truncate(filepath.Join(dir, truncated.ID, dumpName), 2))
	garbage := filepath.Join(dir, newID(t0.Add(5*time.Hour)))
	must(t, os.Mkdir(garbage, 0o700))
	must(t, os.WriteFile(filepath.Join(garbage, manifestName), []byte("{not json"), 0o600))
	must(t, os.Mkdir(filepath.Join(dir, "notes"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "README"), []byte("backups"), 0o600))

	ms, warnings, err := ListWithWarnings(dir)
	must(t, err)
	if got, want := ids(ms), []string{newer.ID, older.ID}; !slices.Equal(got, want) {
		t.Errorf("List = %v, want %v (newest first, broken ones skipped)", got, want)
	}
	for _, want := range []string{
		filepath.Base(crashed) + ": incomplete backup",
		filepath.Base(noManifest) + ": no manifest.json",
		dumpName + " has 2 bytes, the manifest says 5",
		"unreadable manifest",
		"notes: not a backup ID",
	} {
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, want) }) {
			t.Errorf("no warning containing %q in %q", want, warnings)
		}
	}
	if len(warnings) != 5 {
		t.Errorf("%d warnings, want 5: %q", len(warnings), warnings)
	}
}

func TestLoadRejectsBadIDs(t *testing.T) {
	dir := t.TempDir()
	m := fakeBackup(t, dir, t0, nil)
	for _, tt := range []struct{ id, want string }{
		{"../etc", "not a backup ID"},
		{"", "not a backup ID"},
		{m.ID + "/..", "not a backup ID"},
		{newID(t0.Add(time.Hour)), "not found"},
	} {
		if _, err := Load(dir, tt.id); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%q) error = %v, want %q", tt.id, err, tt.want)
		}
	}
	if _, err := List(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("List of a missing directory: %v", err)
	}
}

func TestPrune(t *testing.T) {
	yes, no := true, false
	// Backups one day apart, newest last: d0 .. d5 days old at "now".
	now := t0.Add(5 * 24 * time.Hour).Add(time.Hour)
	tests := []struct {
		name     string
		verified map[int]*bool // index (0 = oldest) -> verification result
		p        Retention
		keep     []int
	}{
		{"keep last 2", nil, Retention{KeepLast: 2}, []int{4, 5}},
		{"keep days 3", nil, Retention{KeepDays: 3}, []int{3, 4, 5}},
		{"either rule keeps", nil, Retention{KeepLast: 1, KeepDays: 2}, []int{4, 5}},
		{"newest verified always kept", map[int]*bool{1: &yes, 4: &no}, Retention{KeepLast: 2}, []int{1, 4, 5}},
		{"failed verification is not protected", map[int]*bool{0: &no}, Retention{KeepLast: 1}, []int{5}},
		{"keep verified min 2", map[int]*bool{0: &yes, 2: &yes, 3: &yes}, Retention{KeepLast: 1, KeepVerifiedMin: 2}, []int{2, 3, 5}},
		{"keep more than exist", nil, Retention{KeepLast: 10}, []int{0, 1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var all []*Manifest
			for i := range 6 {
				all = append(all, fakeBackup(t, dir, t0.Add(time.Duration(i)*24*time.Hour), tt.verified[i]))
			}
			staleTmp := tmpPrefix + newID(now.Add(-48*time.Hour))
			freshTmp := tmpPrefix + newID(now.Add(-time.Minute)) // a backup still being written
			must(t, os.Mkdir(filepath.Join(dir, staleTmp), 0o700))
			must(t, os.Mkdir(filepath.Join(dir, freshTmp), 0o700))

			plan, err := PrunePlan(dir, tt.p, now)
			must(t, err)
			removed, err := Prune(dir, tt.p, now)
			must(t, err)
			if !slices.Equal(plan, removed) {
				t.Errorf("PrunePlan %v, Prune removed %v", plan, removed)
			}
			var wantKept []string
			for _, i := range slices.Backward(tt.keep) {
				wantKept = append(wantKept, all[i].ID)
			}
			ms, warnings, err := ListWithWarnings(dir)
			must(t, err)
			if got := ids(ms); !slices.Equal(got, wantKept) {
				t.Errorf("kept %v, want %v", got, wantKept)
			}
			if !slices.Contains(removed, staleTmp) {
				t.Errorf("stale %s not removed: %v", staleTmp, removed)
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], freshTmp) {
				t.Errorf("in-progress %s should be left alone; warnings %q", freshTmp, warnings)
			}
		})
	}
}

func TestPruneRejectsRetentionThatKeepsNothing(t *testing.T) {
	dir := t.TempDir()
	fakeBackup(t, dir, t0, nil)
	for _, p := range []Retention{{}, {KeepVerifiedMin: 3}, {KeepLast: -1, KeepDays: 3}} {
		if _, err := Prune(dir, p, t0); err == nil {
			t.Errorf("Prune(%+v) accepted", p)
		}
	}
	if ms, _ := List(dir); len(ms) != 1 {
		t.Errorf("a rejected prune removed backups: %v", ids(ms))
	}
}
