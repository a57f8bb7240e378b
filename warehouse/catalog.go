package warehouse

import (
	"fmt"
	"time"

	"github.com/binlake/binlake/schema"
)

// Catalog is what the warehouse knows about a logical table: its key and
// its schema versions, oldest first. A new version only ever adds columns
// or widens types, so every older binlog or snapshot file reads under the
// newest version (added columns are NULL there).
//
// Each version is first created as _catalog/<table>/v<NNNNNN>.json with
// create-if-absent, so two writers cannot both create version N; then
// _catalog/<table>.json is rewritten with all versions for people and
// tools to read. Readers that must not miss a version list the versioned
// objects.
type Catalog struct {
	FormatVersion int      `json:"format_version"`
	Table         string   `json:"table"`
	Key           []string `json:"key"`
	// KeyIncludesSource: _source_db and _source_table are part of the key.
	KeyIncludesSource bool            `json:"key_includes_source"`
	Versions          []SchemaVersion `json:"versions"`
}

// SchemaVersion is one version of a table's columns.
type SchemaVersion struct {
	FormatVersion int             `json:"format_version"`
	Version       int             `json:"version"`
	Created       time.Time       `json:"created"`
	Reason        string          `json:"reason"` // what caused it: "learned from the stream", "snapshot from rds1", "column added: x"
	Columns       []CatalogColumn `json:"columns"`
}

// CatalogColumn is a data column: its output name and MySQL type, and,
// when a snapshot read them from information_schema, its comment and
// whether the source declares it NOT NULL (informational: data files hold
// every column as optional).
type CatalogColumn struct {
	Name    string `json:"name"`
	Type    string `json:"type"` // schema.Type.String()
	Comment string `json:"comment,omitempty"`
	NotNull bool   `json:"not_null,omitempty"`
}

// Types parses the column types of a version.
func (v *SchemaVersion) Types() ([]schema.Type, error) {
	types := make([]schema.Type, len(v.Columns))
	for i, c := range v.Columns {
		t, err := schema.ParseType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("catalog version %d column %s: %w", v.Version, c.Name, err)
		}
		types[i] = t
	}
	return types, nil
}

// CatalogVersionDir is the directory of a table's versioned schema
// objects.
func CatalogVersionDir(table string) string {
	return CatalogPrefix + table + "/"
}

// CatalogVersionKey is the key of one schema version.
func CatalogVersionKey(table string, version int) string {
	return fmt.Sprintf("%sv%06d.json", CatalogVersionDir(table), version)
}

// Names of the bookkeeping columns of binlog files (DESIGN.md §2, §4).
// Snapshot files carry the same columns but _op, _event_time, the Kafka
// coordinates and _late.
const (
	ColOp             = "_op"  // insert, update, delete, truncate
	ColPos            = "_pos" // DECIMAL(38,0), see Pos
	ColEventTime      = "_event_time"
	ColSourceDB       = "_source_db"
	ColSourceTable    = "_source_table"
	ColKafkaTopic     = "_kafka_topic"
	ColKafkaPartition = "_kafka_partition"
	ColKafkaOffset    = "_kafka_offset"
	ColLate           = "_late"
)
