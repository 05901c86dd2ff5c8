package backup

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// querier is a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type tableName struct{ schema, name string }

func (t tableName) key() string    { return t.schema + "." + t.name }
func (t tableName) quoted() string { return ident(t.schema, t.name) }

// userTables lists every table holding user data: all schemas but the
// system ones, without tables owned by extensions (pg_dump does not dump
// their rows; CREATE EXTENSION recreates them).
func userTables(ctx context.Context, q querier) ([]tableName, error) {
	rows, err := q.Query(ctx, `
		SELECT n.nspname, c.relname
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p')
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d
		      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (tableName, error) {
		var t tableName
		err := r.Scan(&t.schema, &t.name)
		return t, err
	})
}

// tableChecksum returns the row count and the md5 of the table's rows as
// text, sorted bytewise and joined by newlines: the same value as
//
//	SELECT md5(string_agg(t::text, E'\n' ORDER BY t::text COLLATE "C")) FROM tbl t
//
// (md5 of "" for an empty table) but streamed, so a table larger than
// PostgreSQL's 1 GB string limit still works.
func tableChecksum(ctx context.Context, q querier, t tableName) (int64, string, error) {
	rows, err := q.Query(ctx, `SELECT t::text FROM `+t.quoted()+` t ORDER BY t::text COLLATE "C"`)
	if err != nil {
		return 0, "", fmt.Errorf("checksum %s: %w", t.key(), err)
	}
	defer rows.Close()
	h := md5.New()
	var n int64
	for rows.Next() {
		if n > 0 {
			h.Write([]byte{'\n'})
		}
		h.Write(rows.RawValues()[0])
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, "", fmt.Errorf("checksum %s: %w", t.key(), err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// dbStats is what a manifest records about the data.
type dbStats struct {
	counts       map[string]int64
	sums         map[string]string
	maxMigration string
	schema       string
}

func collectStats(ctx context.Context, q querier) (*dbStats, error) {
	tables, err := userTables(ctx, q)
	if err != nil {
		return nil, err
	}
	s := &dbStats{counts: map[string]int64{}, sums: map[string]string{}}
	for _, t := range tables {
		n, sum, err := tableChecksum(ctx, q, t)
		if err != nil {
			return nil, err
		}
		s.counts[t.key()], s.sums[t.key()] = n, sum
	}
	if s.maxMigration, err = maxSchemaMigration(ctx, q); err != nil {
		return nil, err
	}
	s.schema, err = schemaChecksum(ctx, q)
	return s, err
}

// maxSchemaMigration returns max(schema_migrations.version), "" when the
// table does not exist or is empty.
func maxSchemaMigration(ctx context.Context, q querier) (string, error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return "", fmt.Errorf("look for schema_migrations: %w", err)
	}
	if !exists {
		return "", nil
	}
	var v *string
	if err := q.QueryRow(ctx, `SELECT max(version)::text FROM schema_migrations`).Scan(&v); err != nil {
		return "", fmt.Errorf("read max(schema_migrations.version): %w", err)
	}
	if v == nil {
		return "", nil
	}
	return *v, nil
}

// readOnlySnapshot runs fn in one REPEATABLE READ read-only transaction,
// so every number it reads belongs to the same moment.
func readOnlySnapshot(ctx context.Context, databaseURL string, fn func(pgx.Tx) error) error {
	c, err := connect(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	tx, err := c.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	return fn(tx)
}

// TableChecksums returns, for every user table ("schema.table"), the md5
// of its rows in a stable order (see the package docs); the value does
// not depend on server settings, collation or physical row order.
func TableChecksums(ctx context.Context, databaseURL string) (map[string]string, error) {
	var s *dbStats
	err := readOnlySnapshot(ctx, databaseURL, func(tx pgx.Tx) (err error) {
		s, err = collectStats(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.sums, nil
}

// RowCounts returns the number of rows of every user table ("schema.table").
func RowCounts(ctx context.Context, databaseURL string) (map[string]int64, error) {
	counts := map[string]int64{}
	err := readOnlySnapshot(ctx, databaseURL, func(tx pgx.Tx) error {
		tables, err := userTables(ctx, tx)
		if err != nil {
			return err
		}
		for _, t := range tables {
			var n int64
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+t.quoted()).Scan(&n); err != nil {
				return fmt.Errorf("count %s: %w", t.key(), err)
			}
			counts[t.key()] = n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}
