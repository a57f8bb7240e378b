package warehouse

import "time"

// Manifest is a snapshot day's commit point: snapshot/<table>/dt=D/
// _manifest.json. A snapshot day exists when, and only when, its manifest
// does; readers go through it and ignore any file it does not list. It is
// written after every file it lists, and _SUCCESS after it.
type Manifest struct {
	FormatVersion int       `json:"format_version"`
	Table         string    `json:"table"`
	Date          string    `json:"date"` // YYYY-MM-DD
	CreatedAt     time.Time `json:"created_at"`
	RunID         string    `json:"run_id"`
	// Kind is how the day was made: "merge", "bootstrap" (binlake
	// snapshot from MySQL) or "import" (existing files).
	Kind string `json:"kind"`
	// Base is the snapshot day this one was merged from ("" for a
	// bootstrap, or the first merge of a bootstrap: empty table).
	Base string `json:"base,omitempty"`
	// Key lists the key columns in order, _source_db and _source_table
	// first when the rule includes them.
	Key []string `json:"key"`
	// Columns is the schema of the data files: the table's catalog version
	// SchemaVersion and its columns.
	SchemaVersion int             `json:"schema_version"`
	Columns       []CatalogColumn `json:"columns"`
	// Files are the data files, in key order; their key ranges do not
	// overlap.
	Files []ManifestFile `json:"files"`
	Rows  int64          `json:"rows"`
	// Tombstones are the _-prefixed sidecar files of deleted keys and
	// their delete positions, kept TombstoneDays so an older late change
	// cannot bring a row back (DESIGN.md §3.6).
	Tombstones    []ManifestFile `json:"tombstones,omitempty"`
	TombstoneDays int            `json:"tombstone_days,omitempty"`
	// Merged records which committed changes this day contains: for each
	// partition ("topic/partition"), every binlog file of an hour up to
	// the end of Date committed in that partition's commits up to this
	// number. The next day's merge applies exactly the committed files it
	// does not cover.
	Merged map[string]int64 `json:"merged,omitempty"`
	// Position is the source position a bootstrap read its rows at
	// (DESIGN.md §4 notation); its rows carry it as _pos.
	Position string `json:"position,omitempty"`
	// GTIDs are the GTID sets of a bootstrap's sources at Position, by
	// source name, when the sources have GTIDs enabled.
	GTIDs map[string]string `json:"gtids,omitempty"`
	// Stats summarise how the day was made (rows inserted, updated,
	// deleted, carried files …), for people and monitoring.
	Stats map[string]int64 `json:"stats,omitempty"`
}

// ManifestFile is one file of a snapshot day.
type ManifestFile struct {
	Key   string `json:"key"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
	// MinKey and MaxKey are the first and last key of the file, each key
	// column rendered as text (schema.Value.String), so a merge can tell
	// without opening it whether a change falls in its range.
	MinKey []string `json:"min_key,omitempty"`
	MaxKey []string `json:"max_key,omitempty"`
	// CarriedFrom names the file of the base day this one is a
	// server-side copy of, when the merge did not need to rewrite it.
	CarriedFrom string `json:"carried_from,omitempty"`
}
