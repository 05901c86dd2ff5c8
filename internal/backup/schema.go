package backup

import (
	"context"
	"fmt"
)

// schemaChecksumSQL fingerprints what data checksums cannot see: columns
// (in order, with types, NOT NULL and defaults), constraints, indexes,
// views, triggers and sequence positions of every user schema. Every
// name is schema-qualified (search_path is pg_catalog while it runs), so
// the result does not depend on session settings.
const schemaChecksumSQL = `
WITH user_rel AS (
    SELECT c.oid, c.relkind, n.nspname, c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
), line AS (
    SELECT format('column %I.%I %s %I %s%s%s', r.nspname, r.relname,
               row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum), a.attname,
               format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
               coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')) AS l
    FROM user_rel r JOIN pg_attribute a ON a.attrelid = r.oid
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
    SELECT format('constraint %I.%I %I %s', r.nspname, r.relname, co.conname, pg_get_constraintdef(co.oid))
    FROM user_rel r JOIN pg_constraint co ON co.conrelid = r.oid
  UNION ALL
    SELECT format('index %s', pg_get_indexdef(r.oid)) FROM user_rel r WHERE r.relkind IN ('i', 'I')
  UNION ALL
    SELECT format('view %I.%I %s', r.nspname, r.relname, pg_get_viewdef(r.oid)) FROM user_rel r WHERE r.relkind IN ('v', 'm')
  UNION ALL
    SELECT format('trigger %s', pg_get_triggerdef(tg.oid)) FROM user_rel r JOIN pg_trigger tg ON tg.tgrelid = r.oid
    WHERE NOT tg.tgisinternal
  UNION ALL
    SELECT format('sequence %I.%I %s', s.schemaname, s.sequencename, coalesce(s.last_value::text, 'unused'))
    FROM pg_sequences s JOIN user_rel r ON r.nspname = s.schemaname AND r.relname = s.sequencename
)
SELECT md5(coalesce(string_agg(l, E'\n' ORDER BY l COLLATE "C"), '')) FROM line`

// schemaChecksum must run last in a transaction: it changes search_path
// for the rest of it.
func schemaChecksum(ctx context.Context, q querier) (string, error) {
	var sum string
	if err := q.QueryRow(ctx, `SELECT set_config('search_path', 'pg_catalog', true)`).Scan(new(string)); err != nil {
		return "", fmt.Errorf("schema checksum: %w", err)
	}
	if err := q.QueryRow(ctx, schemaChecksumSQL).Scan(&sum); err != nil {
		return "", fmt.Errorf("schema checksum: %w", err)
	}
	return sum, nil
}
