// Package workload generates a seeded, deterministic history of MySQL row
// changes, encodes it as the Kafka messages Canal, Debezium, Maxwell and
// home-grown binlog readers (rowjson) write, and says what each table's
// snapshot must hold at the end of each day. binlake demo and the
// ground-truth pipeline test run the whole pipeline on it and compare the
// snapshots with the model, row for row and cell for cell.
//
// # The history
//
// Generate returns the same Workload for the same Config. Its tables are a
// sharded orders (shop_NN.orders_NN: ids restart at 1 in every physical
// table, so they collide across shards) and an unsharded app.users, with
// decimal, enum, text with utf8mb4 (CJK, emoji, quotes, newlines),
// datetime(n), timestamp(n), date, integer and NULL values. The history
// runs over Config.Days days from Config.Start (days of Config.Zone, the
// warehouse's timezone), hour by hour ("slots"), plus one tail slot, hour
// 00 of the day after the last, so that the last day can become ready. Each slot holds inserts, updates, deletes, primary-key
// changes and multi-row events (one binlog rows event, several rows) in
// binlog order: Event.Seq orders all events, and Event.File/Event.Offset
// are binlog coordinates that grow with Seq. A share of events are late:
// their event time (a long transaction carries its start time) lies in an
// earlier hour, up to a day and a half back, although their binlog position
// is where they are delivered. A pipeline that ingests slot by slot has
// already ingested, marked ready and perhaps merged that hour.
//
// # The model
//
// Expected(day, slots) is the state merge must publish as snapshot dt=day
// when the first slots slots of the history have been ingested: for every
// key (_source_db, _source_table, id), the last change in binlog order
// among the delivered events whose event time falls before the end of
// day; an update that changes the id deletes the old key; a delete
// removes the key. It is DESIGN.md §3.5/§3.6 written as a fold, independent of merge's
// code.
//
// # Encoding
//
// An Encoder turns an Event into Kafka messages shaped like the real
// producers' (../shared/fixtures/cdc, FORMATS.md): Canal flatMessage (one
// message per rows event, all values strings, enum as its index, old with
// the changed columns), Debezium envelopes with schemas (one record per
// row sharing source.file/pos, differing by row; precise decimals; deletes
// followed by a tombstone; a key change as delete, tombstone, create),
// Maxwell (one message per row, position and xoffset, ts in seconds) and
// rowjson (flat rows with __op, table_name and database; the Kafka
// timestamp is the event time). Canal and rowjson carry no binlog
// position, so their messages are partitioned by physical table: every
// change of a key lands in one partition, in binlog order. Debezium is
// partitioned by its record key and Maxwell by database, as they do by
// default.
//
// # Comparing
//
// Maxwell and rowjson carry no declared types, so binlake infers them
// (decimals become doubles, datetimes text). Canonical renders a cell of
// any of these physical types as one text per logical column type, and
// Column.CanonicalSQL is the DuckDB expression that renders a column the
// same way, so the model's rows compare with what a reader sees whatever
// the input format.
//
// A Workload is immutable after Generate and safe for concurrent use; an
// Encoder is not (it numbers Canal batches).
package workload
