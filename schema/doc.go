// Package schema holds what every stage agrees on about table columns: the
// MySQL column types (Type), the values a change carries (Value), and how
// both map onto Parquet (DESIGN.md §7), whatever the input format.
//
// Decoders produce Values in a small neutral set of kinds, typed as far as
// their format allows (Canal carries the declared MySQL type of each column,
// Debezium a Kafka Connect schema, Maxwell and rowjson nothing). Coerce then
// converts a Value to the column's Type as recorded in the table's catalog,
// so the same row written by any producer lands as the same Parquet value.
//
// # The path of a value
//
//	decoder ─Value─▶ Coerce(v, t, opts) ─Value─▶ ParquetValue(v, t, col) ─▶ parquet.Row
//	                                                       ▲
//	                   merge ◀─Value─ FromParquet(pv, t) ◀─┘ (binlog and snapshot files)
//
// Coerce gives exactly one representation per column type (its doc has the
// table) and is idempotent: coercing a coerced value changes nothing, so a
// value may be coerced again after its column's type widened.
// ParquetValue takes only that representation and never converts silently;
// FromParquet gives it back, so FromParquet(ParquetValue(v)) equals v for
// every coerced v (a fuzz test holds them to it). Columns without a declared
// type get one from Infer, and a column whose type changes gets Widen(old,
// new) or a *TypeChangeError naming both types.
//
// # Errors
//
// Coerce returns a *CoerceError that names the value and the type ("value
// 300 out of range for tinyint"); ParquetValue a *ValueError; Widen a
// *TypeChangeError ("incompatible type change: int → varchar(10)"). The
// caller adds the table and column.
//
// # Decisions the design left open
//
//   - Decimals are rescaled exactly to the column's scale; input with more
//     fractional digits is rounded half away from zero (as MySQL rounds on
//     insert): float noise such as 0.30000000000000004 becomes 0.30. More
//     integer digits than the precision allows is an error, never a
//     clamp.
//   - decimal(p,s) with p > 38 is stored as its exact text (Parquet
//     STRING): DuckDB reads wider DECIMALs as lossy DOUBLEs and Spark,
//     Trino and Hive refuse them.
//   - Decimals are FIXED_LEN_BYTE_ARRAY at every precision and their
//     statistics are ordered as signed numbers (parquet-go would order them
//     as unsigned bytes; see ParquetNode).
//   - TIME is text with at least two hour digits and fsp fractional
//     digits, as MySQL writes it: "08:30:00", "-838:59:59", "12:00:00.500"
//     for time(3).
//   - Zero, partly zero and invalid calendar dates (month or day 0, year 0,
//     February 30) become NULL with zeroDate set; so does YEAR 0.
//   - Digits of fractional seconds past the sixth are dropped.
//   - Integer text is exact: a float above 2^53 is refused for an integer
//     column rather than stored inexactly.
//   - BINARY(n) values are right-padded with 0x00 to n bytes, as MySQL
//     stores them (the binlog drops the padding).
//   - Text for string columns must be valid UTF-8 (Parquet STRING).
//
// # Concurrency
//
// Every function is safe for concurrent use; Values and Types are
// immutable once built (S, B and Labels are shared, never modified).
package schema
