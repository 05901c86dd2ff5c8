// Package backup makes verified backups of a Chatwoot deployment: a
// pg_dump of its database, its storage/ directory and its .env, each with
// a sha256, plus row counts and per-table checksums taken in the same
// snapshot as the dump. Verify proves a backup restores to exactly that
// data; Restore puts it back without ever leaving the server with no
// database under the original name.
//
// A backup repository is a directory; each backup is a subdirectory named
// by its ID holding manifest.json and the files it lists.
package backup

import (
	"fmt"
	"io"
	"time"
)

// Options says what to back up or restore and where the repository is.
type Options struct {
	DatabaseURL string // postgres://... of the Chatwoot database
	Dir         string // backup repository directory
	StorageDir  string // Chatwoot storage/ directory ("" = skip)
	EnvFile     string // Chatwoot .env ("" = skip)
	// ToolPrefix runs pg_dump/pg_restore inside a container, e.g.
	// ["docker","compose","exec","-T","postgres"]; empty = run locally.
	// Archives always travel over stdin/stdout, so the container needs no
	// access to Dir.
	ToolPrefix []string
	Label      string           // free text, e.g. "pre-update v4.15.1 -> v4.18.0"
	Now        func() time.Time // nil = time.Now
	// Log receives one line per step (never secrets); nil = discard.
	Log io.Writer
}

// Manifest describes one backup. It is stored as manifest.json.
type Manifest struct {
	ID       string    `json:"id"`
	Created  time.Time `json:"created"`
	Label    string    `json:"label,omitempty"`
	Database string    `json:"database"` // database name
	// DatabaseOwner, Encoding, Collate and Ctype let Restore and Verify
	// recreate the database as it was.
	DatabaseOwner string `json:"database_owner,omitempty"`
	Encoding      string `json:"encoding,omitempty"`
	Collate       string `json:"collate,omitempty"`
	Ctype         string `json:"ctype,omitempty"`

	DumpFile      string `json:"dump_file"`
	DumpSize      int64  `json:"dump_size"`
	DumpSHA256    string `json:"dump_sha256"`
	PgDumpVersion string `json:"pg_dump_version"`
	ServerVersion string `json:"server_version"`

	RowCounts          map[string]int64  `json:"row_counts"`      // every user table
	TableChecksums     map[string]string `json:"table_checksums"` // every user table
	MaxSchemaMigration string            `json:"max_schema_migration"`
	// SchemaChecksum covers columns, constraints, indexes, views,
	// triggers and sequence positions ("" in manifests that predate it).
	SchemaChecksum string `json:"schema_checksum,omitempty"`

	StorageFile   string `json:"storage_file,omitempty"` // "" = no storage in this backup
	StorageSize   int64  `json:"storage_size,omitempty"`
	StorageSHA256 string `json:"storage_sha256,omitempty"`
	// EnvFile is set when the backup holds a copy of .env (mode 0600). Its
	// content is never printed or logged.
	EnvFile   string `json:"env_file,omitempty"`
	EnvSHA256 string `json:"env_sha256,omitempty"`

	Verified *Verification `json:"verified,omitempty"` // nil until verified

	// Source is the database the backup was taken from (host, port,
	// database, user; never the password). verify and restore use it when
	// no database is given. nil in manifests that predate it.
	Source *Source `json:"source,omitempty"`
}

// Verification is the result of restoring a backup into a scratch
// database and comparing it with the manifest.
type Verification struct {
	At        time.Time `json:"at"`
	ScratchDB string    `json:"scratch_db"`
	OK        bool      `json:"ok"`
	Problems  []string  `json:"problems,omitempty"`
}

// Names of the files inside a backup directory.
const (
	manifestName = "manifest.json"
	dumpName     = "database.pgdump"
	storageName  = "storage.tar.gz"
	envName      = "env"
)

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}
