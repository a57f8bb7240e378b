// Package status reports the state of a binlake warehouse per logical
// table and day, for people (Report.WriteText) and for monitoring (the
// JSON encoding of Report, documented in docs/operations.md under
// Monitoring).
//
// # What it reads
//
// Build reads only bookkeeping: the commit records of binlog/_commits/,
// the ready markers of the days asked about, the snapshot manifests and
// the listing of _dlq/. It never opens a Parquet file. Each prefix is
// listed once. Of the commit records it reads, per partition, the latest
// and then walks back while a commit was made no more than a day before
// the first day asked about (the same assumption merge makes: no event is
// committed more than 24 hours before it happened), and further back only
// as far as the latest snapshot of a table has not merged yet. A warehouse
// with years of commits therefore costs a listing and the reads of recent
// commits.
//
// # Figures
//
//   - Watermark and lag per partition: the latest commit's watermark (the
//     later of its greatest event time and the time the run caught up with
//     Kafka's end), and Now minus it: a partition that nothing has been
//     produced to since the last run looks as far behind as the time since
//     that run. Build does not talk to Kafka; given Options.EndOffsets it
//     also reports how many offsets each committed stream is behind, and
//     the partitions that have no commit at all.
//   - Ready hours per day: the ready markers of the day against the hours
//     the day has in the warehouse time zone (23 or 25 on DST days).
//   - Binlog rows per table and day: rows of the committed files of the
//     day's hours, files a replay replaced left out; late rows among them.
//   - Snapshot per table and day: the manifest's rows, files, kind and
//     creation time, and its merge statistics.
//   - Late rows waiting per table: committed rows of hours up to the
//     latest snapshot day that the latest snapshot did not merge (by its
//     manifest's Merged bounds); the next merge applies them. Only a day
//     made by merge has such bounds; after a bootstrap or an import it is
//     not computed.
//   - DLQ: records sent to the dead-letter queue by the commits of each
//     day (by commit time in the warehouse zone), and the files and bytes
//     under _dlq/ per partition.
//
// Build is safe to run while ingest and merge run: it reads committed
// records only, which never change once written.
package status
