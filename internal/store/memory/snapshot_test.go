package memory

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/store"
)

func TestSnapshotRoundTripDropsExpired(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	now := t0
	clock := func() time.Time { return now }
	s := New(Options{SweepEvery: -1, Snapshot: path, SnapshotEvery: -1, Now: clock})
	run(t, s, now, store.Op{Kind: store.OpFailure, Key: "c", TTL: time.Minute, Limit: 1, BanKey: "ban", BanTTL: time.Hour})
	run(t, s, now, store.Op{Kind: store.OpCount, Key: "short", TTL: 10 * time.Second})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file: %v %v", fi, err)
	}
	now = t0.Add(30 * time.Second) // "short" has expired, the ban and "c" have not
	var logs bytes.Buffer
	s = New(Options{SweepEvery: -1, Snapshot: path, SnapshotEvery: -1, Now: clock, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	defer s.Close()
	if s.Len() != 2 || s.banLeft("ban", now.UnixNano()) != time.Hour-30*time.Second {
		t.Fatalf("loaded %d keys, ban left %v", s.Len(), s.banLeft("ban", now.UnixNano()))
	}
	// The ban keeps when it started (admin's ban list shows it).
	if bans, _ := s.Bans(t.Context(), now, ""); len(bans) != 1 || !bans[0].Since.Equal(t0) {
		t.Fatalf("bans after the restart: %+v, want one since %v", bans, t0)
	}
	if !strings.Contains(logs.String(), "keys=2 expired_dropped=1") {
		t.Fatalf("log: %s", logs.String())
	}
}
