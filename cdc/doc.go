// Package cdc decodes the change messages MySQL change-data-capture tools
// write to Kafka — Canal flatMessage, Debezium, Maxwell and the plain
// rowjson of home-grown binlog readers, each optionally inside binlake's
// AES-GCM envelope — into Changes: one per row, with the row's database and
// table, its operation, its event time, its ordering key (Pos) and its
// column values as schema.Values.
//
// Decoders do not route, rename or retype columns and know nothing of the
// warehouse; ingest does that with the table rules. They never panic on
// any input: a record they cannot decode yields an error naming what is
// wrong, and ingest sends the record to the dead-letter queue with it.
//
// # Using a Decoder
//
// New returns a Decoder for one format. A Decoder is used by one goroutine
// at a time (it reuses its parse buffers and caches). Decode appends to
// dst; when it fails it returns dst as it came, so a failed record adds
// nothing. Errors name the format, the field and the offending value,
// cut to about 80 bytes ("canal: data[2].status: enum index 7 out of
// range for enum('new','paid')"); they never contain key material. A
// message that does not look like the configured format says what it
// looks like ("not a canal flatMessage: no "isDdl" field (looks like
// debezium)").
//
// Changes share memory with one another and with the decoder's copy of the
// message: strings in Values and names are substrings of it, the Key
// slice is shared by the records of one table, and row images are carved
// from a block the decoder reuses for the next message (with exact
// capacity, so appending to one is safe). Treat a Change as read-only, and
// as valid until the next Decode: copy what you keep longer — or have the
// row images carved from an arena of your own (Decoder.CarveColumnsFrom),
// where they stay valid as long as you keep the arena and the message.
//
// # Messages are read exactly
//
// Messages are parsed by a small JSON reader of this package (json.go):
// strict RFC 8259 (as encoding/json, which a fuzz test compares it with),
// object members in their order (a row's column order), numbers as their
// text (never through float64), invalid UTF-8 refused. Decimal text with
// an exponent is written out in plain notation ("1.5E-3" → "0.0015").
// Canal messages are first read by a scan that checks them as strictly
// but builds only what the decoder reads; a message it does not take, or
// one that fails, is parsed whole, and that names the problem.
//
// # Canal
//
// One Change per row of data. Values are typed by mysqlType (parsed with
// schema.ParseType and cached by the text of the whole mysqlType object):
//   - integers to IntV, bigint unsigned above MaxInt64 to UintV; bit(n) as
//     its unsigned value; year as IntV; decimal as exact text; float and
//     double to FloatV.
//   - enum: Canal sends the 1-based index, mapped to its label. Index 0 is
//     the value MySQL stores for an invalid enum value, whose label is the
//     empty string, and becomes ""; an index past the labels is an error.
//     A value that is not a number but is one of the labels is kept.
//   - set: the bitmask becomes the members' labels joined by ","; a bit
//     past the members is an error; text made of labels is kept.
//   - date, datetime(n) and time become DateV, DateTimeV and TimeV (TIME
//     within ±838:59:59; fractions past six digits are dropped). timestamp
//     text is read in Options.SourceLocation (the Canal JVM's zone); in a
//     DST gap or overlap the instant is the one time.Date picks.
//   - dates that are not calendar dates — zero ("0000-00-00[ 00:00:00]"),
//     partly zero ("2024-00-10", year 0000) and invalid ("2024-02-30",
//     ALLOW_INVALID_DATES) — become NULL with Column.ZeroDate set.
//   - binary, varbinary and blob text is ISO-8859-1: each character is one
//     byte (a character above U+00FF is an error). Spatial types and
//     vector, which schema.ParseType does not know, are read the same way
//     and keep Type Kind Unknown. Any other type it cannot parse is an
//     error naming the column; columns mysqlType does not list stay text.
//
// UPDATE's old holds the changed columns: merged over the row it gives
// Change.Before (an old column the row lacks is appended). pkNames gives
// Key, es the event time (the Kafka timestamp if es is absent), and Pos is
// {0, Kafka offset, row index}. isDdl events become DDL changes with their
// SQL (TRUNCATE becomes Truncate); QUERY without isDdl, GTID and an empty
// data array are skipped as NoRowEvent, XACOMMIT and XAROLLBACK as
// TxMarker, MHEARTBEAT as Heartbeat.
//
// # Debezium
//
// Envelopes with or without {"schema","payload"}: c and r are Insert, u is
// Update (Before is the before image), d is Delete (Columns is the before
// image), t is Truncate; m (a PostgreSQL message) is skipped. A null or
// empty value, or a null payload, is a Tombstone; transaction-topic
// records (status BEGIN/END) are TxMarker; heartbeat records ({"ts_ms"}
// only, or a schema named …Heartbeat) are Heartbeat. A record key sent as
// a value (schema …Key or …SchemaChangeKey) is an error.
//
// The event time is source.ts_ms, never the payload's ts_ms; when it is
// absent or 0 (snapshot records of old versions) the Kafka timestamp is
// used. Pos is {sequence number of source.file, source.pos, source.row};
// without source.file it is {0, Kafka offset, source.row}. Database and
// table come from source.db and source.table, else from the topic name
// <prefix>.<db>.<table>. Key lists the fields of the record key ({"id":1}
// or {"schema":…,"payload":{…}}); a key that is not JSON gives no Key.
//
// With a schema, values are decoded by Connect type and logical name
// (Decimal from its base64 unscaled value and the schema's scale; Date,
// Time, MicroTime, NanoTime, Timestamp, MicroTimestamp, NanoTimestamp —
// wall clocks taken as UTC — and ZonedTimestamp with 0–9 fraction digits,
// truncated to microseconds; Year; Json, Enum, EnumSet as text; Bits from
// little-endian bytes; bytes from base64; geometry as its WKB bytes;
// VariableScaleDecimal; structs, arrays and maps as compact JSON text).
// Column.Type is set where the schema says: decimal(p,s) from its
// parameters, enum and set labels from "allowed", date/datetime/timestamp/
// time kinds (Scale is the most digits the encoding carries: 3 for
// millisecond encodings, 6 otherwise), boolean, float and double, and the
// integer kinds by Connect width — int8 tinyint, int16 smallint, int32
// int, int64 bigint. Those widths are Debezium's, not the declared type
// (a TINYINT arrives as int16); with column.propagate.source.type the
// declared type in __debezium.source.column.type is used instead. Strings
// and bytes leave Type unknown.
//
// Without a schema, numbers become IntV (UintV above MaxInt64) or exact
// DecimalV, strings StringV, booleans BoolV and objects compact JSON text.
// Precise decimals then arrive as base64 text that cannot be read without
// the scale: use schemas.enable or decimal.handling.mode=string.
//
// The unwrapped ExtractNewRecordState row: "__op" (c, r, u, d, t) and
// "__deleted" ("true" is a delete) set the operation; without either the
// row is an upsert (Update). Every member whose name starts with "__" is
// metadata, not a column: __db/__source_db and __table/__source_table name
// the table (else the topic does), __source_file/__source_pos/__source_row
// give Pos (else {0, Kafka offset, 0}) and __source_ts_ms the event time
// (else the Kafka timestamp). Because such a row needs no marker at all,
// the Debezium decoder accepts any flat object that does not look like
// another format.
//
// Schema-change topic records become one DDL change per table in
// tableChanges (else per table in source.table, "a,b" for DROP TABLE a, b)
// with the ddl text; without a table they are skipped as SchemaTopic.
//
// # Maxwell
//
// One Change per message: insert and bootstrap-insert are Insert, update
// (Before is data with old merged over it; Maxwell leaves old out when no
// column changed) and delete; bootstrap-start and bootstrap-complete are
// skipped as NoRowEvent; database-/table- create, alter and drop are DDL
// with their sql. ts is seconds for row events and milliseconds for DDL;
// one rule reads both: an epoch of magnitude 1e11 or more is milliseconds.
// Pos is {file sequence, offset} of position ("master.000003:4579") and
// xoffset as the row; without position it is {0, Kafka offset, xoffset}.
// primary_key_columns gives Key.
//
// Values carry no declared type: JSON numbers become IntV, UintV (up to
// 18446744073709551615) or exact DecimalV; strings stay text (dates and
// base64 BLOBs too: ingest coerces them with the catalog type); an array
// of strings none of which holds a comma is a SET and becomes its members
// joined by "," ([] is the empty set); any other array or object is an
// embedded JSON column and becomes its compact JSON text. A JSON column
// holding an array of comma-free strings cannot be told from a SET and is
// joined too.
//
// Maxwell's own encryption (AES/CBC/PKCS5Padding, {"iv","bytes"} under
// "encrypted", encrypt=data or encrypt=all) is opened with Options.AESKeys,
// Maxwell's secret_key.
//
// # rowjson
//
// A flat row plus integer "__op": 0 is an upsert (Update), 1 a delete.
// "table_name" names the physical table (else Table is ""), "database" the
// database (else the Kafka topic stands in, DESIGN.md §8); these three are
// not columns. Pos is {0, Kafka offset, 0}. Values are read as Maxwell's.
// Options.EventTimeField names the field holding the event time: a
// "YYYY-MM-DD HH:MM:SS[.f]" string read in Options.SourceLocation (or an
// RFC 3339 string with its own offset), or an epoch number — milliseconds
// when its magnitude is 1e11 or more, else seconds. When the field is
// absent, null or a zero date, the Kafka timestamp is used; the field
// stays a column.
//
// # The AES-GCM envelope
//
// Any format may arrive as {"nonce": hex, "ciphertext": hex}, an object
// with exactly these two string members: a 16-byte nonce and the
// ciphertext followed by its 16-byte tag, AES-GCM with one of
// Options.AESKeys.
// Seal writes it. An envelope without a configured key, a wrong key or a
// corrupted message is an error; an envelope inside an envelope is too.
package cdc
