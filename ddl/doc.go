// Package ddl writes the external-table DDL through which Hive, Trino,
// Spark and DuckDB query a table's snapshot and binlog partitions in place
// (binlake ddl).
//
// For a logical table T it declares two tables over the warehouse layout
// (DESIGN.md §2):
//
//	T          snapshot/T/dt=D/part-*.parquet        partitioned by dt
//	T_binlog   binlog/T/dt=D/hr=HH/*.parquet          partitioned by dt, hr
//
// Columns are the bookkeeping columns of the files (package warehouse:
// _pos as DECIMAL(38,0), _source_db, _source_table; the binlog table also
// _op, _event_time, _kafka_topic, _kafka_partition, _kafka_offset and
// _late), then the data columns of the table's latest catalog schema
// version, typed per DESIGN.md §7 in each engine's spelling. The partition
// columns dt and hr are strings ('2024-03-01', '05') in every dialect.
// Without a catalog only the bookkeeping columns are declared and
// Result.Warnings says so.
//
// Each dialect ends with its partition discovery statement: MSCK REPAIR
// TABLE (Hive, Spark), system.sync_partition_metadata (Trino's Hive
// connector). DuckDB has no metastore: its DDL is a view over read_parquet
// with hive_partitioning, and the snapshot view reads only part-*.parquet,
// so the _-prefixed tombstone sidecars stay out as they do in the other
// engines.
//
// Hive and Spark read S3 through the s3a:// scheme, so an s3:// location
// is written as s3a://; Trino and DuckDB take s3:// as it is, and a local
// warehouse (file:///abs) is a plain path for DuckDB.
package ddl
