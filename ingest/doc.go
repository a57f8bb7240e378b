// Package ingest is binlake's hourly job: it reads every owned Kafka
// partition from the offset committed in the warehouse up to the end
// offsets taken when the run starts, decodes the change messages (package
// cdc), routes them to logical tables by the table rules, types their
// values by the table's catalog (package schema), writes one Parquet file
// per table, hour and partition under binlog/<table>/dt=D/hr=H/, commits,
// marks the hours that are complete as ready, and returns.
//
// Exactly once (DESIGN.md §3.1). Progress lives in the warehouse, one
// chain of commit records per partition (warehouse.Commit). A run:
//
//  1. reads each partition's last commit N and removes the files of runs
//     that wrote for a commit ≤ N but lost or died (their pending records
//     list them);
//  2. before writing any file, rewrites its pending record for commit N+1
//     listing the file, so a crash leaves a list of what to remove;
//  3. after the partition's files and dead letters are written, creates
//     commit N+1 with create-if-absent. Exactly one run can create it; a
//     run that loses stops with an error and its files are removed by the
//     next run. The run's first partition commits alone, then the others
//     concurrently (each chain is its own): of two runs of the same
//     partitions, the one that loses the first commits nothing.
//
// File names are the partition and the Kafka offsets of the file's first
// and last rows, so a rerun over the same records writes the same names
// with the same rows, and two runs never give one name different rows.
//
// Within a file rows are in Kafka offset order, which for one key is
// binlog order when the producer partitions by key or table.
//
// Work is spread over goroutines (read.go, writer.go): one Kafka client
// per GOMAXPROCS (at most one per partition), each over its own share of
// the partitions, has a reader goroutine that polls it and cuts each poll
// into jobs; one decode worker per GOMAXPROCS decodes them; the run's
// goroutine takes the jobs in the order the readers queued them, so each
// partition's records in offset order, and routes, types and buffers
// rows; every large file has an encoder goroutine that compresses its
// rows while they arrive; and a new schema version of a table is written
// on a goroutine of its own, which the files of that version wait for
// before they are written. Only the run's goroutine touches the run's
// state, with two exceptions: an encoder writes its partition's pending
// record (under the record's lock) just before its file, and after the
// last record the partitions commit on goroutines of their own, each
// touching only its partition. Memory stays within Options.MemoryBudget
// however many table-hours are open. A partition's files are finished,
// and written while the run reads on, once the partition is read to its
// end or its stream has passed their hour by the grace period; the rest
// after the last record.
//
// Ready markers (DESIGN.md §3.3) are written after the commits, from the
// committed state of every partition of the topics, including those other
// processes own.
package ingest
