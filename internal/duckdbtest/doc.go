// Package duckdbtest lets tests read what binlake writes with DuckDB, an
// independent Parquet reader (DESIGN.md §7, §11).
//
// # Contract
//
// DuckDB runs in node (@duckdb/node-api, pinned in tools/duckdb/package.json)
// through tools/duckdb/query.mjs. The repository root is found by walking up
// from this package's directory (or, failing that, the working directory) to
// the go.mod of module github.com/binlake/binlake.
//
// Dependencies: `node` on PATH (Node.js 20+) and tools/duckdb/node_modules,
// installed with
//
//	npm ci --prefix tools/duckdb
//
// When either is missing every call fails the test with t.Fatalf if the
// environment variable CI is non-empty, and otherwise skips it with t.Skipf,
// giving the reason and the install command.
//
// One node process is started per test binary, on first use, and answers the
// queries of all tests one at a time (about 20 ms each instead of about
// 0.4 s for starting node and loading DuckDB); it exits when the test binary
// exits (its stdin closes). Every query runs in a fresh in-memory DuckDB, so
// queries never see each other's tables. A query may hold several statements
// separated by ';'; the last one's result is returned. DuckDB never downloads
// extensions here; ICU is not built in, so TIMESTAMP WITH TIME ZONE is always
// handled in UTC.
//
// # Results
//
// Result.Columns holds each column's name and DuckDB type name as DuckDB
// spells it: INTEGER, BIGINT, DECIMAL(20,0), DOUBLE, FLOAT, BOOLEAN, DATE,
// TIMESTAMP, TIMESTAMP WITH TIME ZONE, VARCHAR, BLOB, ... Result.Rows holds
// one []*string per row; nil is NULL, and every other value is a string in
// one canonical, lossless form:
//
//	BOOLEAN                    true | false
//	integers of any width      decimal: -5, 18446744073709551615
//	DECIMAL(p,s)               exact, exactly s fractional digits: -0.05, 1.50, 18446744073709551615
//	DOUBLE                     shortest round-trip text laid out like JavaScript's
//	                           Number#toString: 0.1, 100, 1e+21, 1.5e-7, -0, NaN, Infinity
//	                           (FormatDouble produces it from a float64)
//	FLOAT                      same, shortest for float32 (FormatFloat)
//	VARCHAR, ENUM              the text itself (JSON columns come back as VARCHAR)
//	BLOB                       lowercase hex without prefix, "" when empty (FormatBlob)
//	DATE                       YYYY-MM-DD, or infinity / -infinity (FormatDate)
//	TIME                       HH:MM:SS.ffffff
//	TIMESTAMP (also _S, _MS)   YYYY-MM-DDTHH:MM:SS.ffffff, always 6 fractional digits (FormatTimestamp)
//	TIMESTAMP_NS               YYYY-MM-DDTHH:MM:SS.fffffffff
//	TIMESTAMP WITH TIME ZONE   YYYY-MM-DDTHH:MM:SS.ffffff+00:00, always UTC (FormatTimestampTZ)
//	INTERVAL                   "<months> months <days> days <micros> micros"
//	UUID                       8-4-4-4-12 lowercase hex
//	LIST, ARRAY, STRUCT, MAP   JSON text whose leaves are canonical strings or null
//	                           (MAP as [[key, value], ...], STRUCT as an object in field order)
//
// A query that DuckDB rejects fails the test (Query) or is returned as an
// error (TryQuery). Each query has a time limit of two minutes.
package duckdbtest
