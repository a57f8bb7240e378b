package main

import (
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/internal/duckdbtest"
)

// TestDDLDuckDBReadsTheWarehouse runs the DuckDB DDL binlake ddl prints
// against files real ingest and merge runs wrote, and reads the rows back
// through the views it declares.
func TestDDLDuckDBReadsTheWarehouse(t *testing.T) {
	duckdbtest.Require(t)
	l := newLake(t)
	day := func(d time.Time) string { return d.Format(time.DateOnly) }
	l.must("ingest")
	l.must("merge", "--date", day(l.d1))
	l.must("merge", "--date", day(l.d2))
	sql := l.must("ddl", "--table", "users", "--dialect", "duckdb")

	r := duckdbtest.Query(t, sql+`
SELECT dt, count(*) AS n, count(DISTINCT id) AS ids, min(id) AS lo, max(id) AS hi, max(name) FILTER (WHERE id = 7) AS name7
FROM users GROUP BY dt ORDER BY dt`)
	if r.Len() != 2 {
		t.Fatalf("snapshot days through the view:\n%s", r)
	}
	for i, w := range []struct{ dt, n, hi string }{{day(l.d1), "48", "47"}, {day(l.d2), "96", "95"}} {
		if r.Text(i, "dt") != w.dt || r.Text(i, "n") != w.n || r.Text(i, "ids") != w.n || r.Text(i, "lo") != "0" || r.Text(i, "hi") != w.hi || r.Text(i, "name7") != "user7" {
			t.Errorf("row %d: want dt %s with %s rows, ids 0..%s:\n%s", i, w.dt, w.n, w.hi, r)
		}
	}
	if types := r.Types(); types["dt"] != "VARCHAR" {
		t.Errorf("dt is %s, want VARCHAR", types["dt"])
	}

	b := duckdbtest.Query(t, sql+`
SELECT count(*) AS n, count(DISTINCT dt || hr) AS hours, min(_op) AS op, bool_or(_late) AS late, typeof(max(_pos)) AS pos, typeof(max(id)) AS idt
FROM users_binlog`)
	if b.Text(0, "n") != "96" || b.Text(0, "hours") != "48" || b.Text(0, "op") != "insert" || b.Text(0, "late") != "false" ||
		b.Text(0, "pos") != "DECIMAL(38,0)" || b.Text(0, "idt") != "INTEGER" {
		t.Errorf("binlog through the view:\n%s", b)
	}
}

// TestDDLWithoutCatalogWarns: a table nothing was ingested for gets the
// bookkeeping columns and a warning.
func TestDDLWithoutCatalogWarns(t *testing.T) {
	cfg := minimalConfig(t)
	code, out, stderr := invoke(t, nil, "ddl", "--config", cfg, "--table", "orders", "--dialect", "trino", "--schema", "ods")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "no catalog yet") || !strings.Contains(out, `"_pos" DECIMAL(38,0)`) || !strings.Contains(out, "sync_partition_metadata('ods', 'orders', 'ADD')") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, stderr)
	}
	for _, args := range [][]string{
		{"ddl", "--config", cfg, "--table", "orders", "--dialect", "oracle"},
		{"ddl", "--config", cfg, "--table", "nope", "--dialect", "hive"},
		{"ddl", "--config", cfg, "--dialect", "hive"},
	} {
		if code, _, _ := invoke(t, nil, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
