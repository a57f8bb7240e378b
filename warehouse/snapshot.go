package warehouse

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Snapshot days (DESIGN.md §2, §3.5, §3.6). Everything below lives in
// snapshot/<table>/dt=D/, next to the manifest that lists it:
//
//	part-GGGGGG-NNNNNN.parquet                 data files: live rows only, key-sorted
//	_tombstones-YYYY-MM-DD-GGGGGG-NNNNNN.parquet deleted keys of the merge of day YYYY-MM-DD
//	_truncates-YYYY-MM-DD-GGGGGG.json          TRUNCATEs applied by the merge of that day
//	_lock-GGGGGG.json                          the lease of the merge run that wrote generation G
//	_manifest.json, _SUCCESS
//
// G is the generation: each merge run of a day takes the next one, so the
// files a re-run writes never collide with those of the version it
// replaces. N numbers a generation's files in key order.
//
// Data files hold SnapshotMetaFields and then the data columns of the
// manifest's schema version in catalog order, all optional; rows are
// sorted by the manifest's Key (see KeyOrder). Their key-value metadata
// holds MetaTable, MetaSchemaVersion and MetaRowGroupKeys.
//
// Tombstone files (sidecars: engines skip "_" names, so a query of dt=D
// sees exactly the live rows) hold the key columns of Manifest.Key (typed
// as in the data files of their schema version), then _pos, then
// _deleted_on; they are sorted by key. A tombstone is written by the merge
// of the day the delete became visible and carried (copied) into the next
// days' snapshots until it is TombstoneDays old, so every snapshot day is
// self-contained.

// KeyOrder is the order of rows in data and tombstone files: by the key
// columns in turn; NULL first; integers, decimals, floats, dates and times
// by value; strings, enum and set labels, JSON and binary values by their
// bytes (no collation), as DuckDB and Spark order VARCHAR and BLOB.
const KeyOrder = "key columns in order; NULL first; numbers and temporal values by value; strings and bytes by byte order"

// Snapshot file name parts.
const (
	SnapshotDataPrefix = "part-"
	TombstonePrefix    = "_tombstones-"
	TruncatesPrefix    = "_truncates-"
	LockPrefix         = "_lock-"
)

// ColDeletedOn is the tombstone column holding the day whose merge
// applied the delete.
const ColDeletedOn = "_deleted_on"

// Key-value metadata of snapshot data and tombstone files.
const (
	// MetaTable is the logical table.
	MetaTable = "binlake.table"
	// MetaSchemaVersion is the catalog schema version of the file's data
	// columns (binlog files carry it too).
	MetaSchemaVersion = "binlake.schema_version"
	// MetaRowGroupKeys is a JSON array with one [min, max] pair of keys
	// per row group, each key rendered as for ManifestFile.MinKey, so a
	// merge can tell which row groups a change falls into without
	// decoding them.
	MetaRowGroupKeys = "binlake.row_group_keys"
	// MetaDeletedOn is the day a tombstone file's deletes were applied.
	MetaDeletedOn = "binlake.deleted_on"
)

// SnapshotMetaFields are the bookkeeping columns that start every snapshot
// data file, in order. They are never NULL.
func SnapshotMetaFields() []Field {
	return []Field{
		{Name: ColPos, Node: PosNode()},
		{Name: ColSourceDB, Node: dictString()},
		{Name: ColSourceTable, Node: dictString()},
	}
}

// SourceKeyField returns the field of _source_db or _source_table when
// they are key columns (tombstone files).
func SourceKeyField(name string) Field {
	return Field{Name: name, Node: dictString()}
}

// TombstoneTailFields are the columns after the key columns of a tombstone
// file.
func TombstoneTailFields() []Field {
	return []Field{
		{Name: ColPos, Node: PosNode()},
		{Name: ColDeletedOn, Node: parquet.Date()},
	}
}

// SnapshotDataName is the name of data file n of generation gen.
func SnapshotDataName(gen int64, n int) string {
	return fmt.Sprintf("%s%06d-%06d.parquet", SnapshotDataPrefix, gen, n)
}

// TombstoneName is the name of tombstone file n of the deletes applied on
// day deleted, as written (or carried) by generation gen.
func TombstoneName(deleted Date, gen int64, n int) string {
	return fmt.Sprintf("%s%s-%06d-%06d.parquet", TombstonePrefix, deleted, gen, n)
}

// TruncatesName is the name of the truncate record of day deleted in
// generation gen.
func TruncatesName(deleted Date, gen int64) string {
	return fmt.Sprintf("%s%s-%06d.json", TruncatesPrefix, deleted, gen)
}

// LockName is the name of the lease record of generation gen.
func LockName(gen int64) string {
	return fmt.Sprintf("%s%06d.json", LockPrefix, gen)
}

// SnapshotName is a parsed file name of a snapshot day.
type SnapshotName struct {
	// Prefix is one of SnapshotDataPrefix, TombstonePrefix,
	// TruncatesPrefix and LockPrefix.
	Prefix     string
	Generation int64
	// Deleted is the day of a tombstone or truncate file.
	Deleted Date
	// N numbers data and tombstone files.
	N int
}

// ParseSnapshotName parses the base name of a file SnapshotDataName,
// TombstoneName, TruncatesName or LockName made. Other names (the
// manifest, _SUCCESS, files of other writers) return false.
func ParseSnapshotName(name string) (SnapshotName, bool) {
	var n SnapshotName
	var rest, ext string
	switch {
	case strings.HasPrefix(name, SnapshotDataPrefix):
		n.Prefix, rest, ext = SnapshotDataPrefix, name[len(SnapshotDataPrefix):], ".parquet"
	case strings.HasPrefix(name, TombstonePrefix):
		n.Prefix, rest, ext = TombstonePrefix, name[len(TombstonePrefix):], ".parquet"
	case strings.HasPrefix(name, TruncatesPrefix):
		n.Prefix, rest, ext = TruncatesPrefix, name[len(TruncatesPrefix):], ".json"
	case strings.HasPrefix(name, LockPrefix):
		n.Prefix, rest, ext = LockPrefix, name[len(LockPrefix):], ".json"
	default:
		return n, false
	}
	rest, ok := strings.CutSuffix(rest, ext)
	if !ok {
		return n, false
	}
	if n.Prefix == TombstonePrefix || n.Prefix == TruncatesPrefix {
		if len(rest) < 11 || rest[10] != '-' {
			return n, false
		}
		d, err := ParseDate(rest[:10])
		if err != nil {
			return n, false
		}
		n.Deleted, rest = d, rest[11:]
	}
	parts := strings.Split(rest, "-")
	want := 2
	if n.Prefix == TruncatesPrefix || n.Prefix == LockPrefix {
		want = 1
	}
	if len(parts) != want || len(parts[0]) != 6 {
		return n, false
	}
	g, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || g < 1 {
		return n, false
	}
	n.Generation = g
	if want == 2 {
		if len(parts[1]) != 6 {
			return n, false
		}
		if n.N, err = strconv.Atoi(parts[1]); err != nil {
			return n, false
		}
	}
	return n, true
}

// Truncates is a truncate sidecar: the TRUNCATE TABLE statements whose
// position a merge applied on day Deleted. Every row of that physical
// table with a lower _pos was removed, and a change of it with a lower
// _pos that arrives later is ignored while the record is kept (as long as
// tombstones).
type Truncates struct {
	FormatVersion int        `json:"format_version"`
	Table         string     `json:"table"`
	Deleted       string     `json:"deleted_on"` // YYYY-MM-DD
	Truncates     []Truncate `json:"truncates"`
}

// Truncate is one TRUNCATE of a physical table.
type Truncate struct {
	SourceDB    string `json:"source_db"`
	SourceTable string `json:"source_table"`
	Pos         Pos    `json:"pos"`
}
