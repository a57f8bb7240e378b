// Package snapshot takes a table's first snapshot from its MySQL or
// MariaDB sources (binlake snapshot, DESIGN.md §1) and compares a
// snapshot with the live source (Verify).
//
// # Taking a snapshot
//
// Run finds the physical tables the rule matches on every source
// (information_schema), reads their columns and key, maps the types
// (DESIGN.md §7) and records them as a schema version in the catalog. It
// then reads each source's binary log position (and GTID set) — before
// the first chunk of any shard — and copies every shard in key order, a
// chunk of ChunkRows rows per query (keyset pagination over the primary
// key, or the unique key the rule declares), at most Parallel shards at a
// time and at most Rate rows per second in all. Every row is stamped with
// a _pos just below its source's position (see stampFor), or for the
// offset-ordered formats with the declared Kafka position (OffsetStamp).
//
// Rows are staged under snapshot/<table>/_bootstrap/ (engines skip "_"
// names): one Parquet file per chunk, then a JSON record that the chunk is
// done. A run that is killed resumes from the last finished chunk of each
// shard, with the position, schema version and run id of the first run
// (state.json). When every shard is done the rows are published through
// merge.Bootstrap as snapshot dt=D0: key-sorted files, _manifest.json of
// kind "bootstrap", then _SUCCESS; only then is the staging area removed.
// Nothing is visible at dt=D0 before the manifest.
//
// # Why a position read first is enough
//
// No lock is taken. A row read after the position was read already
// contains every change committed before it, and perhaps some after. Rows
// carry full images (binlog_row_image=FULL), so the next merge applies
// every change newer than the stamp: each key ends at its latest change,
// whether or not the row read had seen it, and a key with no newer change
// keeps the row read, which is then current.
//
// # Concurrency
//
// Run may be called for different tables at once. Two runs for one table
// must not overlap: the second fails when it finds the first's state
// (PutIfAbsent), or, when resuming, at the publication lease.
package snapshot
