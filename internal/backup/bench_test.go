package backup

import (
	"context"
	"testing"
)

// BenchmarkBackup100kMessages measures a Chatwoot-shaped database with
// 100,000 messages rows (41 MB database, messages 31 MB). It needs PostgreSQL
// (WOOTGUARD_TEST_DATABASE_URL, see ./scripts/test):
//
//	go test -run '^$' -bench Backup100k -benchtime 3x ./internal/backup/
func BenchmarkBackup100kMessages(b *testing.B) {
	ctx := context.Background()
	url := seededDB(b)
	execSQL(b, url, `INSERT INTO messages (content, account_id, conversation_id, message_type, content_attributes, created_at)
		SELECT repeat('Hi, my order #' || n || ' has not arrived yet. ', 1 + n % 8), 1 + n % 3, 1 + n % 60, n % 3,
		       json_build_object('in_reply_to', n - 1, 'external_created_at', n),
		       timestamptz '2025-01-01 00:00:00+00' + n * interval '1 minute'
		FROM generate_series(1, 100000) n; ANALYZE`)
	o := Options{DatabaseURL: url, Dir: b.TempDir(), StorageDir: makeStorage(b)}
	var m *Manifest
	b.Run("create", func(b *testing.B) {
		for b.Loop() {
			var err error
			if m, err = Create(ctx, o); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(m.DumpSize), "dump-bytes")
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := Verify(ctx, o, m.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("restore", func(b *testing.B) {
		for b.Loop() {
			if err := Restore(ctx, o, m.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("table-checksums", func(b *testing.B) {
		for b.Loop() {
			if _, err := TableChecksums(ctx, url); err != nil {
				b.Fatal(err)
			}
		}
	})
}
