// Package merge builds a table's daily snapshot (DESIGN.md §3.5, §3.6):
//
//	snapshot(D) = merge(snapshot(D-1), committed changes of hours ≤ end of D not merged yet)
//
// Run does it for one table and day and publishes the result under
// snapshot/<table>/dt=D/ (see package warehouse for the layout of the
// files).
//
// # Inputs
//
// The base is snapshot D-1, read through its manifest. A table with
// bootstrap: empty and no snapshot before D starts from nothing; any other
// missing base is an error that names the table and the day and says to
// run binlake snapshot or to merge D-1 first.
//
// Changes are the binlog files that commit records list — a file no commit
// lists is not committed, and binlog/ is never listed. A file of partition
// P, commit s and hour h is applied iff h ≤ D, not (h ≤ D-1 and s ≤
// base.Merged[P]), and s ≤ Merged[P] of the new manifest. Merged[P] is the
// latest commit of P when the run starts — except that a re-run of a
// published day reuses that day's bounds, so it applies exactly the same
// files and gives the same day, unless the inputs changed since: a re-run
// takes the base's bound where it is newer (the base was re-run), and the
// bound of the last replay (ingest --replay-date) of a day up to D
// committed after the published bound, since that replay replaced files
// the day applied. Commits up to base.Merged[P] are read
// walking back only as far as they can hold files of day D (see
// planChanges), so a merge reads the commits of about a day, however long
// the history. Late rows of earlier days are thus applied by the next
// merge after they are committed.
//
// # Per key
//
// The key is (_source_db, _source_table, key…) when the rule's
// key_includes_source holds, else the rule's key. For each key the change
// with the greatest _pos among the base row and the applicable changes
// wins:
//
//   - changes at the same _pos keep their order in the binlog files (Kafka
//     offset, then row; across partitions, partition order): the last one
//     wins. Ingest writes an UPDATE that changes the key as a delete of the
//     old key followed by an upsert of the new one at the same position.
//   - the base row (or a kept tombstone) wins a tie with a change: a
//     replayed duplicate changes nothing. A change that is not newer than
//     the key's row or tombstone is stale and ignored. Rows of a bootstrap
//     or import base are the exception: their _pos is a stamp meaning
//     "before this position", so a change at exactly it wins (a Kafka
//     partition's first record, offset 0, ties with the stamp of
//     --position start).
//   - a winning delete removes the row and records a tombstone (key, _pos,
//     day) in a _tombstones-* sidecar, kept TombstoneDays days, so that an
//     older change that arrives late cannot bring the row back. A delete
//     of an absent key removes nothing (and counts no delete) but records
//     its tombstone all the same.
//   - a TRUNCATE (an _op=truncate row naming a physical table) removes the
//     rows of that table with a lower _pos; it is kept as long as
//     tombstones (a _truncates-* sidecar), and changes of the table with a
//     lower _pos are stale.
//   - columns added by a newer schema version are NULL in older rows;
//     widened types are applied to older values with schema.Coerce. The
//     day's schema is the newest version among the base and the applied
//     files.
//
// For Canal and rowjson the positions are Kafka offsets and only compare
// within a partition; that all changes of a key go to one partition is the
// user's contract (DESIGN.md §4).
//
// # Output and publication
//
// Data files part-G-N.parquet hold the live rows sorted by the key
// (warehouse.KeyOrder), zstd-compressed (char, varchar, text, enum and set
// columns dictionary-encoded; integer, date and timestamp columns PLAIN,
// tinyint, smallint and year dictionary-encoded, or, with IntegerEncoding
// delta, all of them DELTA_BINARY_PACKED; the others PLAIN), cut
// into files near FileSize at a row group boundary. G is the run's
// generation, so a re-run's files never collide with those of the version
// it replaces. The manifest
// (warehouse.Manifest, with each file's key range) is written last, with
// Put; then the previous version's files are removed; then _SUCCESS is
// written. A re-run removes _SUCCESS before it writes, so _SUCCESS always
// means the directory holds exactly the manifest's files. Files a crashed
// or failed run left are removed by the next run of the day before it
// writes; a run that fails removes what it wrote.
//
// Two runs of one table and day never both publish: each takes the next
// generation by creating its lease record _lock-G.json with
// create-if-absent, and no run starts while another run's lease is valid
// (see lease). The loser fails with ErrLocked, naming the holder.
//
// # Cost
//
// Memory is bounded whatever the table size: the base is streamed file by
// file, and the changes are sorted in runs of MemoryBudget/24 (an eighth
// of the budget in three arenas, two of which can be spilling at once)
// spilled in the background to a directory of the run's own in SpillDir,
// then merged. The key space is
// tiled by the base files' key ranges: a base file no change falls in is
// carried — copied server-side, a hard link on local disk — without being
// read; in a file that must be opened, a row group no change falls in is
// copied without being decoded (once re-encoded instead, where the file's
// encodings are not the output's: after an upgrade or a change of
// IntegerEncoding). So the work grows with the changes, not with the
// table. Rewritten row groups are built column by column, one
// goroutine per column (up to Parallelism).
//
// # Concurrency
//
// Run may be called concurrently for different tables or days. A
// CommitCache may be shared by merges that start together, after the
// gate: it keeps the partitions' latest commits as the first of them
// found them, so a merge that starts later with it applies nothing
// committed since (binlake merge makes one per run, after checkdone).
package merge
