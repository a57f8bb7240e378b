// Package warehouse knows where everything lives in a binlake warehouse
// (DESIGN.md §2) and how event times map to the Hive-style dt=/hr=
// partitions. Every stage builds its keys here and nowhere else:
//
//	binlog/<table>/dt=YYYY-MM-DD/hr=HH/<file>.parquet   change rows of one table-hour
//	binlog/_commits/<topic>/<partition>/<seq>.json       ingest commit records
//	binlog/_pending/<topic>/<partition>/<seq>-<run>.json files a running ingest may write
//	binlog/_ready/dt=YYYY-MM-DD/hr=HH.json               hour ready markers
//	snapshot/<table>/dt=YYYY-MM-DD/<file>.parquet       the table as of the end of day D
//	snapshot/<table>/dt=YYYY-MM-DD/_manifest.json       written last; the commit point
//	snapshot/<table>/dt=YYYY-MM-DD/_SUCCESS
//	_catalog/<table>.json                               key, schema versions, source rules
//	_dlq/…                                              undecodable messages, verbatim
//
// Names that start with "_" or "." are skipped by Hive, Trino, Spark and
// DuckDB; all bookkeeping lives under such names.
//
// dt and hr are the local date and hour of an event in the warehouse's
// time zone. In zones with daylight saving time a day can have 23 or 25
// hours: the hour that is skipped has no partition, and the hour that
// repeats is one partition spanning two real hours. Hours and Span say
// which real instants each partition covers, so "the stream has passed the
// end of hour H" is well defined everywhere.
package warehouse
