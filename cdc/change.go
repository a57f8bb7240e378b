package cdc

import (
	"fmt"
	"time"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/warehouse"
)

// Record is one Kafka record as ingest hands it to a decoder.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	// Value is nil for a tombstone.
	Value     []byte
	Timestamp time.Time
	Headers   []Header
}

// Header is a Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Op is what a change does.
type Op uint8

// Operations. Insert and Update both make the row image the key's new
// state; Delete removes the key its row image identifies; Truncate empties
// the physical table as of its position; DDL records a schema statement.
const (
	Insert Op = iota + 1
	Update
	Delete
	Truncate
	DDL
)

func (o Op) String() string {
	switch o {
	case Insert:
		return "insert"
	case Update:
		return "update"
	case Delete:
		return "delete"
	case Truncate:
		return "truncate"
	case DDL:
		return "ddl"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Pos is a change's ordering key (DESIGN.md §4): for Debezium and Maxwell
// the binlog file's sequence number, the event's position and the row's
// index; for Canal and rowjson 0, the Kafka offset and the row's index in
// the message. See warehouse.Pos.
type Pos = warehouse.Pos

// Column is one column of a row image.
type Column struct {
	Name string
	// Type is the declared MySQL type where the format carries one
	// (Canal mysqlType, Debezium's schema); Kind Unknown otherwise.
	Type  schema.Type
	Value schema.Value
	// ZeroDate is set when the source value was a zero or partly zero
	// date ("0000-00-00") that became NULL; ingest counts these.
	ZeroDate bool
}

// Change is one decoded row change, or a table-level event.
type Change struct {
	Op       Op
	Database string
	Table    string
	// EventTime is when the change happened in MySQL (DESIGN.md §4: Canal
	// es, Debezium source.ts_ms, Maxwell ts); it decides dt and hr.
	EventTime time.Time
	Pos       Pos
	// Columns is the row image: the after image of an insert or update,
	// the before image of a delete; nil for Truncate and DDL.
	Columns []Column
	// Before is the full before image of an update where the format gives
	// enough to rebuild it (Canal and Maxwell give the changed columns,
	// merged here over the after image; Debezium gives it whole), so ingest
	// can tell an update that changes the primary key; nil otherwise.
	Before []Column
	// Key names the primary-key columns where the format says (Canal
	// pkNames, Maxwell primary_key_columns, the Debezium record key).
	Key []string
	// SQL is the statement of a DDL change.
	SQL string
}

// Skip says why a record decoded to no change although it is not broken.
// Ingest counts skipped records in its commit record.
type Skip string

// Reasons for skipping a record.
const (
	NotSkipped  Skip = ""
	Tombstone   Skip = "tombstone"          // Debezium's null-value record after a delete
	TxMarker    Skip = "transaction-marker" // Debezium BEGIN/END, Canal XACOMMIT/XAROLLBACK
	Heartbeat   Skip = "heartbeat"          // Canal MHEARTBEAT, Debezium heartbeats
	NoRowEvent  Skip = "no-row-event"       // GTID events, Maxwell bootstrap-start/complete and the like
	SchemaTopic Skip = "schema-change"      // Debezium schema-change topic records without a table change to record
)

// Decoder turns Kafka records of one format into changes. A Decoder is
// used by one goroutine at a time.
type Decoder interface {
	// Decode appends rec's changes to dst and returns the extended slice.
	// The changes' row images (Columns, Before) may live in memory the
	// decoder reuses: they are valid until the next call of Decode. The
	// text in the changes (names, string values) may alias rec.Value: it
	// stays valid while rec.Value is not modified. A caller that keeps
	// either longer copies it.
	// A record with nothing to ingest returns dst and a Skip reason. A
	// record that cannot be decoded returns an error that says what is
	// wrong with it (field, value); the caller adds the coordinates.
	Decode(dst []Change, rec *Record) ([]Change, Skip, error)
	// CarveColumnsFrom has the row images of the following Decodes
	// appended to *arena, which the decoder replaces with a new one when
	// it is full (the images carved from the old one stay valid), instead
	// of kept in memory the decoder reuses: they then stay valid after
	// the next Decode, as long as the caller keeps them (a decoder may
	// also allocate an image for its change alone). The caller saves
	// copying images it keeps. nil returns to the decoder's own memory.
	CarveColumnsFrom(arena *[]Column)
}
