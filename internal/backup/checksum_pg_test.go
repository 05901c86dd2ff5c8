package backup

import (
	"context"
	"maps"
	"testing"
)

// Checksums must describe the data, not the session or the disk: the
// scratch database of a verify has other settings and row order.
func TestTableChecksumsIgnoreSettingsAndRowOrder(t *testing.T) {
	ctx := context.Background()
	url := seededDB(t)
	before, err := TableChecksums(ctx, url)
	must(t, err)
	db, _ := DatabaseName(url)
	execSQL(t, url, `ALTER DATABASE `+ident(db)+` SET timezone TO 'Asia/Tokyo';
		ALTER DATABASE `+ident(db)+` SET DateStyle TO 'SQL, DMY';
		ALTER DATABASE `+ident(db)+` SET extra_float_digits TO 3;
		ALTER DATABASE `+ident(db)+` SET bytea_output TO 'escape';
		UPDATE messages SET id = id WHERE id % 2 = 0; -- new row versions: other physical order
		CLUSTER conversations USING conversations_pkey;`)
	after, err := TableChecksums(ctx, url)
	must(t, err)
	if !maps.Equal(before, after) {
		t.Errorf("checksums changed with settings/physical order:\nbefore %v\nafter  %v", before, after)
	}
}

// Every kind of change a failed migration makes must change some number
// the manifest records. The changes are applied one after another to one
// database, each compared with the state just before it.
func TestStatsSeeChanges(t *testing.T) {
	ctx := context.Background()
	url := seededDB(t)
	db, _ := DatabaseName(url)
	tests := []struct {
		name  string
		sql   string
		field func(*dbStats) string
	}{
		{"row edited", `UPDATE accounts SET name = 'Acme' WHERE id = 1`, func(s *dbStats) string { return s.sums["public.accounts"] }},
		{"row deleted", `DELETE FROM ar_internal_metadata`, func(s *dbStats) string { return s.sums["public.ar_internal_metadata"] }},
		{"migration added", `INSERT INTO schema_migrations VALUES ('20991231000000')`, func(s *dbStats) string { return s.maxMigration }},
		{"index dropped", `DROP INDEX index_messages_on_conversation_id`, func(s *dbStats) string { return s.schema }},
		{"default changed", `ALTER TABLE accounts ALTER COLUMN locale SET DEFAULT 1`, func(s *dbStats) string { return s.schema }},
		{"constraint added", `ALTER TABLE messages ADD CONSTRAINT positive_type CHECK (message_type >= 0)`, func(s *dbStats) string { return s.schema }},
		{"sequence moved", `SELECT setval('messages_id_seq', 100000)`, func(s *dbStats) string { return s.schema }},
		{"column type changed", `ALTER TABLE conversations ALTER COLUMN priority TYPE numeric(8,2)`, func(s *dbStats) string { return s.schema }},
	}
	before, err := statsOf(ctx, url, db)
	must(t, err)
	for _, tt := range tests {
		execSQL(t, url, tt.sql)
		after, err := statsOf(ctx, url, db)
		must(t, err)
		if tt.field(before) == tt.field(after) {
			t.Errorf("%s: %q did not change the recorded value %q", tt.name, tt.sql, tt.field(after))
		}
		before = after
	}
}
