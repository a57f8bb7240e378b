package merge_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// typeCol is a column of every type family of DESIGN.md §7 and the type
// DuckDB reads it as.
type typeCol struct {
	name, typ, duckdb string
}

var mergeTypeCols = []typeCol{
	{"id", "int", "INTEGER"},
	{"c_tinyint", "tinyint", "INTEGER"},
	{"c_smallint_u", "smallint unsigned", "INTEGER"},
	{"c_int_u", "int unsigned", "BIGINT"},
	{"c_bigint", "bigint", "BIGINT"},
	{"c_bigint_u", "bigint unsigned", "DECIMAL(20,0)"},
	{"c_dec10_2", "decimal(10,2)", "DECIMAL(10,2)"},
	{"c_dec38_10", "decimal(38,10)", "DECIMAL(38,10)"},
	{"c_dec65_30", "decimal(65,30)", "VARCHAR"},
	{"c_float", "float", "FLOAT"},
	{"c_double", "double", "DOUBLE"},
	{"c_date", "date", "DATE"},
	{"c_datetime6", "datetime(6)", "TIMESTAMP"},
	{"c_timestamp6", "timestamp(6)", "TIMESTAMP WITH TIME ZONE"},
	{"c_time", "time(6)", "VARCHAR"},
	{"c_year", "year", "INTEGER"},
	{"c_char", "char(10)", "VARCHAR"},
	{"c_text", "longtext", "VARCHAR"},
	{"c_enum", "enum('small','medium','large')", "VARCHAR"},
	{"c_set", "set('a','b','c')", "VARCHAR"},
	{"c_json", "json", "VARCHAR"},
	{"c_binary", "binary(4)", "BLOB"},
	{"c_blob", "blob", "BLOB"},
	{"c_bit1", "bit(1)", "BOOLEAN"},
	{"c_bit64", "bit(64)", "BIGINT"},
	{"c_bool", "boolean", "BOOLEAN"},
}

func n9(n int) string { return strings.Repeat("9", n) }

// typeRows: values as a producer gives them, and what DuckDB reads (nil:
// NULL). The first value is the id.
var mergeTypeRows = []struct {
	in   []schema.Value
	want []any
}{
	{
		in: []schema.Value{
			schema.IntValue(1), schema.IntValue(127), schema.StringValue("65535"), schema.UintValue(4294967295), schema.IntValue(math.MaxInt64),
			schema.UintValue(math.MaxUint64), schema.DecimalValue("99999999.99"), schema.DecimalValue(n9(28) + "." + n9(10)),
			schema.DecimalValue(n9(35) + "." + n9(30)), schema.FloatValue(math.MaxFloat32), schema.FloatValue(math.MaxFloat64),
			schema.StringValue("9999-12-31"), schema.StringValue("9999-12-31 23:59:59.999999"), schema.StringValue("9999-12-31T23:59:59.999999Z"),
			schema.StringValue("838:59:59"), schema.IntValue(2155), schema.StringValue("héllo"), schema.StringValue("utf8mb4: 😀 世界"),
			schema.StringValue("large"), schema.StringValue("c,a"), schema.StringValue(`{"a": [1, 2.50]}`),
			schema.BytesValue([]byte{0xff}), schema.BytesValue([]byte{0x00, 0xff, 0x10}),
			schema.BoolValue(true), schema.UintValue(math.MaxUint64), schema.BoolValue(true),
		},
		want: []any{
			"1", "127", "65535", "4294967295", "9223372036854775807", "18446744073709551615", "99999999.99",
			n9(28) + "." + n9(10), n9(35) + "." + n9(30), duckdbtest.FormatFloat(math.MaxFloat32), duckdbtest.FormatDouble(math.MaxFloat64),
			"9999-12-31", "9999-12-31T23:59:59.999999", "9999-12-31T23:59:59.999999+00:00", "838:59:59.000000", "2155",
			"héllo", "utf8mb4: 😀 世界", "large", "a,c", `{"a": [1, 2.50]}`, "ff000000", "00ff10", "true", "-1", "true",
		},
	},
	{
		in: []schema.Value{
			schema.IntValue(2), schema.IntValue(-128), schema.IntValue(0), schema.IntValue(0), schema.IntValue(math.MinInt64),
			schema.IntValue(0), schema.DecimalValue("-99999999.99"), schema.DecimalValue("-0.0000000001"),
			schema.DecimalValue("-" + n9(35) + "." + n9(30)), schema.FloatValue(math.SmallestNonzeroFloat32), schema.FloatValue(math.Copysign(0, -1)),
			schema.StringValue("1000-01-01"), schema.StringValue("1000-01-01 00:00:00"), schema.StringValue("1970-01-01 00:00:01"),
			schema.StringValue("-838:59:59"), schema.StringValue("1901"), schema.StringValue(""), schema.StringValue(""),
			schema.StringValue(""), schema.StringValue(""), schema.StringValue("[]"),
			schema.BytesValue([]byte{0x00}), schema.BytesValue([]byte{}),
			schema.BoolValue(false), schema.IntValue(0), schema.BoolValue(false),
		},
		want: []any{
			"2", "-128", "0", "0", "-9223372036854775808", "0", "-99999999.99", "-0.0000000001",
			"-" + n9(35) + "." + n9(30), duckdbtest.FormatFloat(math.SmallestNonzeroFloat32), "-0",
			"1000-01-01", "1000-01-01T00:00:00.000000", "1970-01-01T00:00:01.000000+00:00", "-838:59:59.000000", "1901",
			"", "", "", "", "[]", "00000000", "", "false", "0", "false",
		},
	},
	{
		in:   []schema.Value{schema.IntValue(3)},
		want: []any{"3"},
	},
}

// TestSnapshotFilesReadByDuckDB: every column type, in rows that pass
// through both write paths (base rows copied into a rewritten row group,
// and change rows), reads back in DuckDB with the right type and value;
// so do the tombstone file's columns; under either integer encoding.
func TestSnapshotFilesReadByDuckDB(t *testing.T) {
	duckdbtest.Require(t)
	for _, enc := range []config.IntegerEncoding{config.IntegerPlain, config.IntegerDelta} {
		t.Run(string(enc), func(t *testing.T) { testSnapshotFilesReadByDuckDB(t, enc) })
	}
}

func testSnapshotFilesReadByDuckDB(t *testing.T, enc config.IntegerEncoding) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := fakeingest.New(st, "types", "binlog")
	var nt []string
	for _, c := range mergeTypeCols {
		nt = append(nt, c.name, c.typ)
	}
	if err := w.Schema(ctx, 1, nt...); err != nil {
		t.Fatal(err)
	}
	d1, d2 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02")
	mk := func(op string, pos int64, id int64, in []schema.Value) fakeingest.Row {
		vals := append([]schema.Value{schema.IntValue(id)}, in[1:]...)
		return fakeingest.Row{Op: op, Pos: warehouse.Pos{File: 3, Offset: pos}, Event: time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC),
			DB: "db", Table: "types", Values: vals}
	}
	var day1, day2 []fakeingest.Row
	for i, r := range mergeTypeRows {
		day1 = append(day1, mk("insert", int64(10+i), int64(i+1), r.in))
		// Day 2: the same values again under ids 11, 12, 13 (change rows
		// next to the base rows in one rewritten row group).
		day2 = append(day2, mk("insert", int64(100+i), int64(i+11), r.in))
	}
	day2 = append(day2, mk("delete", 200, 99, []schema.Value{schema.IntValue(99)}))
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d1, Hour: 1}, Version: 1, Rows: day1}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d2, Hour: 1}, Version: 1, Rows: day2}); err != nil {
		t.Fatal(err)
	}
	o := merge.DefaultOptions()
	o.Store, o.Table, o.IntegerEncoding = st, tableRule("types", "id"), enc
	for _, d := range []warehouse.Date{d1, d2} {
		o.Date = d
		runMerge(t, o)
	}
	m := readManifest(t, st, "types", d2)
	if len(m.Files) != 1 || m.Rows != 6 {
		t.Fatalf("want one file of 6 rows: %+v", m.Files)
	}
	res := duckdbtest.Query(t, "SELECT * FROM read_parquet("+duckdbtest.QuoteString(filepath.Join(dir, m.Files[0].Key))+", hive_partitioning=false)")
	wantCols := []typeCol{{"_pos", "", "DECIMAL(38,0)"}, {"_source_db", "", "VARCHAR"}, {"_source_table", "", "VARCHAR"}}
	wantCols = append(wantCols, mergeTypeCols...)
	if len(res.Columns) != len(wantCols) {
		t.Fatalf("DuckDB reads columns %v", res.Names())
	}
	for i, c := range wantCols {
		if got := res.Columns[i]; got.Name != c.name || got.Type != c.duckdb {
			t.Errorf("column %d: DuckDB reads %s %s, want %s %s", i, got.Name, got.Type, c.name, c.duckdb)
		}
	}
	// Rows 0-2 are the base (ids 1-3), rows 3-5 the changes (ids 11-13).
	for r := range 6 {
		src := mergeTypeRows[r%3]
		for i, c := range mergeTypeCols {
			var want any
			if i < len(src.want) {
				want = src.want[i]
			}
			if i == 0 {
				want = fmt.Sprint(r%3 + 1 + 10*(r/3))
			}
			got := res.Cell(r, c.name)
			switch want := want.(type) {
			case nil:
				if got != nil {
					t.Errorf("row %d %s: DuckDB reads %q, want NULL", r, c.name, *got)
				}
			case string:
				if got == nil || *got != want {
					t.Errorf("row %d %s: DuckDB reads %v, want %q", r, c.name, deref(got), want)
				}
			}
		}
		if got := res.Text(r, "_source_db"); got != "db" {
			t.Errorf("row %d: _source_db %q", r, got)
		}
	}
	pos := warehouse.Pos{File: 3, Offset: 100}.Decimal()
	p, _ := warehouse.PosFromDecimal(pos[:])
	if got, want := res.Text(3, "_pos"), "3"+"0000000000000000100"+"000000000"; got != want || p.Offset != 100 {
		t.Errorf("_pos of row 3: DuckDB reads %s, want %s", got, want)
	}
	// The tombstone file.
	var tk string
	for _, f := range m.Tombstones {
		if strings.Contains(f.Key, warehouse.TombstonePrefix) {
			tk = f.Key
		}
	}
	if tk == "" {
		t.Fatal("no tombstone file")
	}
	tr := duckdbtest.Query(t, "SELECT * FROM read_parquet("+duckdbtest.QuoteString(filepath.Join(dir, tk))+", hive_partitioning=false)")
	want := "_source_db VARCHAR | _source_table VARCHAR | id INTEGER | _pos DECIMAL(38,0) | _deleted_on DATE"
	if got := strings.SplitN(tr.String(), "\n", 2)[0]; got != want {
		t.Errorf("tombstone columns: %s, want %s", got, want)
	}
	if tr.Len() != 1 || tr.Text(0, "id") != "99" || tr.Text(0, "_deleted_on") != "2024-03-02" {
		t.Errorf("tombstones: %s", tr)
	}
	// The encodings asked for, and zstd.
	for _, key := range []string{m.Files[0].Key, tk} {
		meta := duckdbtest.Query(t, "SELECT path_in_schema AS col, encodings AS enc, compression AS c, type FROM parquet_metadata("+duckdbtest.QuoteString(filepath.Join(dir, key))+")")
		for i := range meta.Rows {
			if c := meta.Text(i, "c"); c != "ZSTD" {
				t.Errorf("%s %s: compression %s", key, meta.Text(i, "col"), c)
			}
			col, encs := meta.Text(i, "col"), meta.Text(i, "enc")
			delta := strings.Contains(encs, "DELTA")
			switch typ := meta.Text(i, "type"); {
			case (typ == "INT32" || typ == "INT64") && enc == config.IntegerDelta && !strings.HasPrefix(col, "_"):
				// A data column (binlake's own columns keep PLAIN).
				if !strings.Contains(encs, "DELTA_BINARY_PACKED") {
					t.Errorf("%s %s: encodings %s, want DELTA_BINARY_PACKED", key, col, encs)
				}
			case delta:
				t.Errorf("%s %s (%s): encodings %s", key, col, typ, encs)
			case col == "c_tinyint" || col == "c_smallint_u" || col == "c_year":
				// Integers of at most 16 bits: a dictionary.
				if !strings.Contains(encs, "RLE_DICTIONARY") {
					t.Errorf("%s %s: encodings %s, want RLE_DICTIONARY", key, col, encs)
				}
			case (typ == "INT32" || typ == "INT64") && strings.Contains(encs, "DICTIONARY"):
				t.Errorf("%s %s: encodings %s, want PLAIN", key, col, encs)
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *s)
}
