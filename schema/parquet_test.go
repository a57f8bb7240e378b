package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"

	"github.com/binlake/binlake/internal/duckdbtest"
)

type testColumn struct {
	name   string
	typ    string // MySQL type
	duckdb string // the type DuckDB reads
}

// typeColumns has one column per DESIGN §7 type.
var typeColumns = []testColumn{
	{"c_tinyint", "tinyint(4)", "INTEGER"},
	{"c_tinyint_u", "tinyint(3) unsigned", "INTEGER"},
	{"c_smallint", "smallint", "INTEGER"},
	{"c_mediumint_u", "mediumint unsigned", "INTEGER"},
	{"c_int", "int(11)", "INTEGER"},
	{"c_int_u", "int unsigned", "BIGINT"},
	{"c_bigint", "bigint(20)", "BIGINT"},
	{"c_bigint_u", "bigint(20) unsigned", "DECIMAL(20,0)"},
	{"c_dec10_2", "decimal(10,2)", "DECIMAL(10,2)"},
	{"c_dec18_4", "decimal(18,4)", "DECIMAL(18,4)"},
	{"c_dec19_0", "decimal(19,0)", "DECIMAL(19,0)"},
	{"c_dec38_10", "decimal(38,10)", "DECIMAL(38,10)"},
	{"c_dec65_30", "decimal(65,30)", "VARCHAR"},
	{"c_float", "float", "FLOAT"},
	{"c_double", "double", "DOUBLE"},
	{"c_date", "date", "DATE"},
	{"c_datetime0", "datetime", "TIMESTAMP"},
	{"c_datetime6", "datetime(6)", "TIMESTAMP"},
	{"c_timestamp6", "timestamp(6)", "TIMESTAMP WITH TIME ZONE"},
	{"c_time6", "time(6)", "VARCHAR"},
	{"c_year", "year(4)", "INTEGER"},
	{"c_char", "char(10)", "VARCHAR"},
	{"c_varchar", "varchar(255)", "VARCHAR"},
	{"c_text", "longtext", "VARCHAR"},
	{"c_enum", "enum('small','medium','large')", "VARCHAR"},
	{"c_set", "set('a','b','c')", "VARCHAR"},
	{"c_json", "json", "VARCHAR"},
	{"c_binary", "binary(4)", "BLOB"},
	{"c_varbinary", "varbinary(16)", "BLOB"},
	{"c_blob", "blob", "BLOB"},
	{"c_bit1", "bit(1)", "BOOLEAN"},
	{"c_bit8", "bit(8)", "BIGINT"},
	{"c_bit64", "bit(64)", "BIGINT"},
	{"c_bool", "boolean", "BOOLEAN"},
}

func nines(n int) string { return strings.Repeat("9", n) }

// typeRows are decoded values as producers give them (before Coerce), and
// what DuckDB must read back after Coerce and ParquetValue (nil = NULL).
var typeRows = []struct {
	in   []Value
	want []any // string or nil
}{
	{ // maximum values
		in: []Value{
			IntValue(127), StringValue("255"), IntValue(32767), IntValue(16777215), IntValue(2147483647),
			UintValue(4294967295), IntValue(math.MaxInt64),
			IntValue(-1), // Debezium's wrapped 18446744073709551615
			DecimalValue("99999999.99"), DecimalValue("99999999999999.9999"), StringValue(nines(19)),
			DecimalValue(nines(28) + "." + nines(10)), DecimalValue(nines(35) + "." + nines(30)),
			FloatValue(math.MaxFloat32), FloatValue(math.MaxFloat64),
			StringValue("9999-12-31"), StringValue("9999-12-31 23:59:59"), StringValue("9999-12-31 23:59:59.999999"),
			StringValue("9999-12-31T23:59:59.999999Z"), StringValue("838:59:59"), IntValue(2155),
			StringValue("héllo"), StringValue("😀 emoji 🎉"), StringValue("utf8mb4: 😀 世界 ünïcödé"),
			StringValue("large"), StringValue("c,a"), StringValue(`{"a": [1, 2.50, "x"], "b": null}`),
			BytesValue([]byte{0xff}), BytesValue([]byte{0xff, 0xfe}), BytesValue([]byte{0x00, 0xff, 0x10}),
			BoolValue(true), IntValue(255), UintValue(math.MaxUint64), BoolValue(true),
		},
		want: []any{
			"127", "255", "32767", "16777215", "2147483647", "4294967295", "9223372036854775807",
			"18446744073709551615",
			"99999999.99", "99999999999999.9999", nines(19), nines(28) + "." + nines(10), nines(35) + "." + nines(30),
			duckdbtest.FormatFloat(math.MaxFloat32), duckdbtest.FormatDouble(math.MaxFloat64),
			"9999-12-31", "9999-12-31T23:59:59.000000", "9999-12-31T23:59:59.999999",
			"9999-12-31T23:59:59.999999+00:00", "838:59:59.000000", "2155",
			"héllo", "😀 emoji 🎉", "utf8mb4: 😀 世界 ünïcödé",
			"large", "a,c", `{"a": [1, 2.50, "x"], "b": null}`,
			"ff000000", "fffe", "00ff10",
			"true", "255", "-1", "true",
		},
	},
	{ // minimum values, empty strings and bytes
		in: []Value{
			IntValue(-128), IntValue(0), StringValue("-32768"), IntValue(0), IntValue(math.MinInt32),
			IntValue(0), IntValue(math.MinInt64), IntValue(0),
			DecimalValue("-99999999.99"), DecimalValue("-99999999999999.9999"), DecimalValue("-" + nines(19)),
			DecimalValue("-" + nines(28) + "." + nines(10)), DecimalValue("-" + nines(35) + "." + nines(30)),
			FloatValue(math.SmallestNonzeroFloat32), FloatValue(math.SmallestNonzeroFloat64),
			StringValue("1000-01-01"), StringValue("1000-01-01 00:00:00"), DateTimeMicros(-30610224000000000),
			StringValue("1970-01-01 08:00:01"), StringValue("-838:59:59"), StringValue("1901"),
			StringValue(""), StringValue(""), StringValue(""),
			StringValue(""), StringValue(""), StringValue("[]"),
			BytesValue([]byte{0x00}), BytesValue([]byte{0x00}), BytesValue([]byte{}),
			BoolValue(false), IntValue(0), IntValue(0), BoolValue(false),
		},
		want: []any{
			"-128", "0", "-32768", "0", "-2147483648", "0", "-9223372036854775808", "0",
			"-99999999.99", "-99999999999999.9999", "-" + nines(19), "-" + nines(28) + "." + nines(10), "-" + nines(35) + "." + nines(30),
			duckdbtest.FormatFloat(math.SmallestNonzeroFloat32), duckdbtest.FormatDouble(math.SmallestNonzeroFloat64),
			"1000-01-01", "1000-01-01T00:00:00.000000", "1000-01-01T00:00:00.000000",
			"1970-01-01T00:00:01.000000+00:00", "-838:59:59.000000", "1901",
			"", "", "", "", "", "[]",
			"00000000", "00", "",
			"false", "0", "0", "false",
		},
	},
	{ // all NULL
		in:   make([]Value, len(typeColumns)),
		want: make([]any, len(typeColumns)),
	},
	{ // text as Canal writes it, and other producers' forms
		in: []Value{
			StringValue("-5"), StringValue("7"), DecimalValue("12.000"), FloatValue(3), BoolValue(true),
			StringValue("123"), DecimalValue("1e3"), StringValue("9223372036854775808"),
			FloatValue(0.1 + 0.2), StringValue("-0.00005"), IntValue(-1),
			StringValue("1e-10"), StringValue("-0.000000000000000000000000000001"),
			StringValue("0.1"), FloatValue(0.1),
			StringValue("2024-02-29"), StringValue("2024-03-10 02:30:00"), TimestampMicros(1710009000123456),
			StringValue("2024-03-10 02:30:00.123456"), StringValue("-00:00:01.5"), StringValue("2024"),
			StringValue(`a'b"c`), StringValue("line\nbreak\ttab"), StringValue("NULL"),
			StringValue("small"), StringValue("b"), StringValue(`"str"`),
			StringValue("ab"), StringValue("é"), BytesValue([]byte{0x00, 0xff}),
			StringValue("true"), StringValue("170"), IntValue(5), IntValue(1),
		},
		want: []any{
			"-5", "7", "12", "3", "1", "123", "1000", "9223372036854775808",
			"0.30", "-0.0001", "-1", "0.0000000001", "-0.000000000000000000000000000001",
			duckdbtest.FormatFloat(0.1), duckdbtest.FormatDouble(0.1),
			"2024-02-29", "2024-03-10T02:30:00.000000", "2024-03-10T02:30:00.123456",
			"2024-03-09T18:30:00.123456+00:00", "-00:00:01.500000", "2024",
			`a'b"c`, "line\nbreak\ttab", "NULL",
			"small", "b", `"str"`,
			"61620000", "c3a9", "00ff",
			"true", "170", "5", "true",
		},
	},
	{ // zero dates become NULL; small negative decimals
		in: []Value{
			{}, {}, {}, {}, {}, {}, {}, {},
			DecimalValue("-0.01"), DecimalValue("-1"), {}, DecimalValue("-0.0000000001"), {},
			{}, FloatValue(math.Copysign(0, -1)),
			StringValue("0000-00-00"), StringValue("2024-00-01 00:00:00"), StringValue("2024-02-30 10:00:00"),
			StringValue("0000-00-00 00:00:00"), {}, StringValue("0000"),
			{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {},
		},
		want: []any{
			nil, nil, nil, nil, nil, nil, nil, nil,
			"-0.01", "-1.0000", nil, "-0.0000000001", nil,
			nil, "-0",
			nil, nil, nil, nil, nil, nil,
			nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
		},
	},
}

const zeroDatesInRows = 5

var shanghai = time.FixedZone("CST", 8*3600)

func typeColumnTypes(t testing.TB) []Type {
	types := make([]Type, len(typeColumns))
	for i, c := range typeColumns {
		typ, err := ParseType(c.typ)
		if err != nil {
			t.Fatal(err)
		}
		types[i] = typ
	}
	return types
}

// writeTypesFile coerces typeRows and writes them; it returns the coerced
// values.
func writeTypesFile(t *testing.T, path string) ([]Type, [][]Value) {
	t.Helper()
	types := typeColumnTypes(t)
	group := make(orderedGroup, len(typeColumns))
	for i, c := range typeColumns {
		node, err := ParquetNode(types[i])
		if err != nil {
			t.Fatal(err)
		}
		group[i] = &orderedField{Node: node, name: c.name}
	}
	o := CoerceOptions{Zone: shanghai}
	var coerced [][]Value
	var rows []parquet.Row
	zeros := 0
	var buf []byte
	for r, row := range typeRows {
		if len(row.in) != len(typeColumns) || len(row.want) != len(typeColumns) {
			t.Fatalf("row %d: %d values, %d expectations for %d columns", r, len(row.in), len(row.want), len(typeColumns))
		}
		vals := make([]Value, len(row.in))
		prow := make(parquet.Row, len(row.in))
		for i, v := range row.in {
			cv, zero, err := Coerce(v, types[i], o)
			if err != nil {
				t.Fatalf("row %d %s: Coerce: %v", r, typeColumns[i].name, err)
			}
			if zero {
				zeros++
			}
			vals[i] = cv
			prow[i], buf, err = AppendParquetValue(buf, cv, types[i], i)
			if err != nil {
				t.Fatalf("row %d %s: ParquetValue: %v", r, typeColumns[i].name, err)
			}
		}
		coerced = append(coerced, vals)
		rows = append(rows, prow)
	}
	if zeros != zeroDatesInRows {
		t.Errorf("%d zero dates, want %d", zeros, zeroDatesInRows)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewWriter(f, parquet.NewSchema("row", group), parquet.Compression(&parquet.Zstd))
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return types, coerced
}

func TestParquetDuckDB(t *testing.T) {
	duckdbtest.Require(t)
	path := filepath.Join(t.TempDir(), "types.parquet")
	writeTypesFile(t, path)

	res := duckdbtest.ReadParquet(t, path)
	if len(res.Columns) != len(typeColumns) {
		t.Fatalf("DuckDB reads %d columns, want %d", len(res.Columns), len(typeColumns))
	}
	for i, c := range typeColumns {
		if got := res.Columns[i]; got.Name != c.name || got.Type != c.duckdb {
			t.Errorf("column %d: DuckDB reads %s %s, want %s %s", i, got.Name, got.Type, c.name, c.duckdb)
		}
	}
	if res.Len() != len(typeRows) {
		t.Fatalf("DuckDB reads %d rows, want %d", res.Len(), len(typeRows))
	}
	for r, row := range typeRows {
		for i, c := range typeColumns {
			got := res.Cell(r, c.name)
			switch want := row.want[i].(type) {
			case nil:
				if got != nil {
					t.Errorf("row %d %s: DuckDB reads %q, want NULL", r, c.name, *got)
				}
			case string:
				if got == nil {
					t.Errorf("row %d %s: DuckDB reads NULL, want %q", r, c.name, want)
				} else if *got != want {
					t.Errorf("row %d %s: DuckDB reads %q, want %q", r, c.name, *got, want)
				}
			}
		}
	}

	// Statistics order decimals as signed numbers, so engines that skip
	// row groups by min/max keep the negative rows.
	table := duckdbtest.ParquetTable(path)
	for col, want := range map[string]string{"c_dec10_2": "2", "c_dec38_10": "2", "c_dec19_0": "2", "c_bigint_u": "2"} {
		cond := col + " < 0"
		if col == "c_bigint_u" {
			cond = col + " > 9223372036854775807"
		}
		if got := duckdbtest.Query(t, "SELECT count(*) AS n FROM "+table+" WHERE "+cond).Text(0, "n"); got != want {
			t.Errorf("count where %s = %s, want %s", cond, got, want)
		}
	}
	meta := duckdbtest.Query(t, "SELECT path_in_schema AS col, stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata("+duckdbtest.QuoteString(path)+")")
	wantStats := map[string][2]string{
		"c_bigint_u": {"0", "18446744073709551615"},
		"c_dec10_2":  {"-99999999.99", "99999999.99"},
		"c_dec18_4":  {"-99999999999999.9999", "99999999999999.9999"},
		"c_dec19_0":  {"-" + nines(19), nines(19)},
		"c_dec38_10": {"-" + nines(28) + "." + nines(10), nines(28) + "." + nines(10)},
	}
	for i := range meta.Rows {
		col := meta.Text(i, "col")
		if w, ok := wantStats[col]; ok {
			if lo, hi := meta.Text(i, "lo"), meta.Text(i, "hi"); lo != w[0] || hi != w[1] {
				t.Errorf("%s statistics: min %s max %s, want %s and %s", col, lo, hi, w[0], w[1])
			}
			delete(wantStats, col)
		}
	}
	if len(wantStats) > 0 {
		t.Errorf("no statistics for %v", wantStats)
	}

	// Encodings every engine reads: PLAIN values, RLE levels.
	enc := duckdbtest.Query(t, "SELECT path_in_schema AS col, encodings AS enc FROM parquet_metadata("+duckdbtest.QuoteString(path)+")")
	for i := range enc.Rows {
		if e := enc.Text(i, "enc"); e != "PLAIN, RLE" && e != "PLAIN" {
			t.Errorf("%s: encodings %s, want PLAIN and RLE", enc.Text(i, "col"), e)
		}
	}
	// DATETIME is a local timestamp, TIMESTAMP an instant, both in micros.
	sch := duckdbtest.ParquetSchema(t, path)
	for i := range sch.Rows {
		name, logical := sch.Text(i, "name"), sch.Text(i, "logical_type")
		var want string
		switch {
		case strings.HasPrefix(name, "c_datetime"):
			want = "isAdjustedToUTC=0"
		case strings.HasPrefix(name, "c_timestamp"):
			want = "isAdjustedToUTC=1"
		default:
			continue
		}
		if !strings.Contains(logical, want) || !strings.Contains(logical, "MICROS=MicroSeconds()") {
			t.Errorf("%s: logical type %s, want MICROS and %s", name, logical, want)
		}
	}
}

func TestParquetFromParquet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "types.parquet")
	types, coerced := writeTypesFile(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := parquet.NewReader(f)
	defer r.Close()
	rows := make([]parquet.Row, len(coerced)+1)
	n, err := r.ReadRows(rows)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if n != len(coerced) {
		t.Fatalf("read %d rows, want %d", n, len(coerced))
	}
	for i, row := range rows[:n] {
		if len(row) != len(types) {
			t.Fatalf("row %d: %d values", i, len(row))
		}
		for _, pv := range row {
			c := pv.Column()
			got, err := FromParquet(pv, types[c])
			if err != nil {
				t.Errorf("row %d %s: %v", i, typeColumns[c].name, err)
				continue
			}
			if want := coerced[i][c]; !got.Equal(want) {
				t.Errorf("row %d %s: FromParquet = %v (%s), want %v (%s)", i, typeColumns[c].name, got, got.Kind, want, want.Kind)
			}
		}
	}
}

// TestParquetDecimalStatistics checks page statistics and the column index
// of a decimal column over several pages, through parquet-go's reader.
func TestParquetDecimalStatistics(t *testing.T) {
	for _, typ := range []string{"decimal(10,2)", "decimal(38,0)", "bigint unsigned"} {
		t.Run(typ, func(t *testing.T) {
			ty, err := ParseType(typ)
			if err != nil {
				t.Fatal(err)
			}
			node, err := ParquetNode(ty)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w := parquet.NewWriter(&buf, parquet.NewSchema("row", parquet.Group{"d": node}), parquet.PageBufferSize(256))
			// Descending through zero: 1000 … -1000 (unsigned: … 0). In
			// unsigned byte order the pages would be unordered.
			var vals []int64
			for i := int64(1000); i >= -1000; i -= 3 {
				if i >= 0 || !ty.Unsigned {
					vals = append(vals, i)
				}
			}
			var rows []parquet.Row
			for _, i := range vals {
				pv, err := ParquetValue(IntValue(i), ty, 0)
				if err != nil {
					t.Fatal(err)
				}
				rows = append(rows, parquet.Row{pv})
			}
			rows = append(rows, parquet.Row{parquet.NullValue().Level(0, 0, 0)})
			if _, err := w.WriteRows(rows); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			file, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			chunk := file.Metadata().RowGroups[0].Columns[0].MetaData
			lo, err := FromParquet(parquet.FixedLenByteArrayValue(chunk.Statistics.MinValue), ty)
			if err != nil {
				t.Fatal(err)
			}
			hi, err := FromParquet(parquet.FixedLenByteArrayValue(chunk.Statistics.MaxValue), ty)
			if err != nil {
				t.Fatal(err)
			}
			wantLo, wantHi := "-998", "1000"
			if ty.Unsigned {
				wantLo = "1"
			}
			if ty.Scale == 2 {
				wantLo, wantHi = wantLo+".00", wantHi+".00"
			}
			if got := lo.String(); got != wantLo {
				t.Errorf("chunk min %v, want %s", lo, wantLo)
			}
			if got := hi.String(); got != wantHi {
				t.Errorf("chunk max %v, want %s", hi, wantHi)
			}
			idx := file.ColumnIndexes()
			if len(idx) != 1 || len(idx[0].MinValues) < 3 {
				t.Fatalf("column index: %+v, want several pages", idx)
			}
			ci := idx[0]
			if ci.BoundaryOrder != format.Descending {
				t.Errorf("boundary order %v, want descending", ci.BoundaryOrder)
			}
			size := decimalBytes[20]
			if ty.Kind == Decimal {
				size = decimalBytes[ty.Precision]
			}
			for p := range ci.MinValues {
				if ci.NullPages[p] {
					continue
				}
				if len(ci.MinValues[p]) != size || len(ci.MaxValues[p]) != size {
					t.Errorf("page %d: min/max of %d/%d bytes, want %d", p, len(ci.MinValues[p]), len(ci.MaxValues[p]), size)
				}
				if compareTwos(ci.MinValues[p], ci.MaxValues[p]) > 0 {
					t.Errorf("page %d: min %x above max %x", p, ci.MinValues[p], ci.MaxValues[p])
				}
			}
			// Every page's bounds hold its values: read the pages back.
			pages := file.RowGroups()[0].ColumnChunks()[0].Pages()
			defer pages.Close()
			for p := 0; ; p++ {
				page, err := pages.ReadPage()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				values := make([]parquet.Value, page.NumValues())
				n, _ := page.Values().ReadValues(values)
				for _, v := range values[:n] {
					if v.IsNull() {
						continue
					}
					if compareTwos(v.ByteArray(), ci.MinValues[p]) < 0 || compareTwos(v.ByteArray(), ci.MaxValues[p]) > 0 {
						t.Errorf("page %d: value %x outside [%x, %x]", p, v.ByteArray(), ci.MinValues[p], ci.MaxValues[p])
					}
				}
				parquet.Release(page)
			}
		})
	}
}

func TestParquetNodeUnknown(t *testing.T) {
	if _, err := ParquetNode(Type{}); err == nil {
		t.Error("ParquetNode(unknown) succeeded")
	}
	if _, err := ParquetValue(IntValue(1), Type{}, 0); err == nil {
		t.Error("ParquetValue(unknown) succeeded")
	}
}

func TestParquetValueRejectsUncoerced(t *testing.T) {
	cases := []struct {
		v   Value
		typ string
	}{
		{StringValue("1"), "int"},
		{IntValue(1 << 40), "int"},
		{IntValue(1 << 40), "smallint"},
		{IntValue(-1), "bigint unsigned"},
		{FloatValue(1), "bigint"},
		{DecimalValue("1.234"), "decimal(10,2)"},
		{DecimalValue("123456789.12"), "decimal(10,2)"},
		{IntValue(123456789), "decimal(10,2)"},
		{DecimalValue("x"), "decimal(10,2)"},
		{DecimalValue("1.234"), "decimal(50,2)"},
		{IntValue(1), "float"},
		{StringValue("2024-01-01"), "date"},
		{DateTimeMicros(0), "timestamp"},
		{TimestampMicros(0), "datetime"},
		{StringValue("01:00:00"), "time"},
		{BytesValue(nil), "varchar(3)"},
		{StringValue(""), "blob"},
		{IntValue(1), "bit(1)"},
		{IntValue(-1), "bit(8)"},
		{IntValue(1), "boolean"},
	}
	for _, c := range cases {
		typ, err := ParseType(c.typ)
		if err != nil {
			t.Fatal(err)
		}
		if pv, err := ParquetValue(c.v, typ, 0); err == nil {
			t.Errorf("ParquetValue(%v, %s) = %v, want an error", c.v, c.typ, pv)
		} else if !strings.Contains(err.Error(), c.typ) {
			t.Errorf("ParquetValue(%v, %s): error %q does not name the type", c.v, c.typ, err)
		}
	}
	if _, err := ParquetValue(IntValue(1), Type{Kind: Int}, parquet.MaxColumnIndex+1); err == nil {
		t.Error("column index out of range accepted")
	}
}

func TestParquetValueLevels(t *testing.T) {
	pv, err := ParquetValue(IntValue(7), Type{Kind: Int}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Column() != 3 || pv.DefinitionLevel() != 1 || pv.RepetitionLevel() != 0 || pv.Int32() != 7 {
		t.Errorf("got %#v", pv)
	}
	pv, err = ParquetValue(NullValue(), Type{Kind: Int}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !pv.IsNull() || pv.Column() != 5 || pv.DefinitionLevel() != 0 {
		t.Errorf("null: got %#v", pv)
	}
}

// TestFromParquetOtherLayouts reads decimals and integers as other
// writers store them.
func TestFromParquetOtherLayouts(t *testing.T) {
	dec := Type{Kind: Decimal, Precision: 10, Scale: 2}
	cases := []struct {
		pv   parquet.Value
		typ  Type
		want Value
	}{
		{parquet.Int32Value(-1234), dec, DecimalValue("-12.34")},
		{parquet.Int64Value(5), dec, DecimalValue("0.05")},
		{parquet.ByteArrayValue([]byte{0xff, 0x85}), dec, DecimalValue("-1.23")},
		{parquet.FixedLenByteArrayValue([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7b}), dec, DecimalValue("1.23")},
		{parquet.Int64Value(12), Type{Kind: SmallInt}, IntValue(12)},
		{parquet.Int32Value(12), Type{Kind: BigInt}, IntValue(12)},
		{parquet.ByteArrayValue([]byte("-1.5")), Type{Kind: Decimal, Precision: 50, Scale: 3}, DecimalValue("-1.500")},
	}
	for _, c := range cases {
		got, err := FromParquet(c.pv, c.typ)
		if err != nil {
			t.Errorf("FromParquet(%v, %s): %v", c.pv, c.typ, err)
			continue
		}
		if !got.Equal(c.want) || got.S != c.want.S {
			t.Errorf("FromParquet(%v, %s) = %v, want %v", c.pv, c.typ, got, c.want)
		}
	}
	bad := []struct {
		pv  parquet.Value
		typ Type
	}{
		{parquet.ByteArrayValue([]byte("x")), Type{Kind: Int}},
		{parquet.Int32Value(1), Type{Kind: VarChar}},
		{parquet.Int64Value(1), Type{Kind: Date}},
		{parquet.ByteArrayValue([]byte("25:00")), Type{Kind: Time}},
		{parquet.FixedLenByteArrayValue([]byte{0xff}), Type{Kind: BigInt, Unsigned: true}},
		{parquet.FixedLenByteArrayValue(make([]byte, 17)), dec},
		{parquet.BooleanValue(true), Type{Kind: Bit, Precision: 8}},
		{parquet.Int32Value(1), Type{}},
	}
	for _, c := range bad {
		if got, err := FromParquet(c.pv, c.typ); err == nil {
			t.Errorf("FromParquet(%v, %s) = %v, want an error", c.pv, c.typ, got)
		}
	}
}

func TestDecimalBytes(t *testing.T) {
	// The fewest bytes for ±(10^p-1), as parquet-format's table gives them.
	want := map[int]int{1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 9: 4, 10: 5, 11: 5, 12: 6, 16: 7, 18: 8, 19: 9, 20: 9, 21: 9, 22: 10, 28: 12, 38: 16}
	for p, n := range want {
		if decimalBytes[p] != n {
			t.Errorf("decimalBytes[%d] = %d, want %d", p, decimalBytes[p], n)
		}
	}
}

func BenchmarkParquetValue(b *testing.B) {
	cases := []struct {
		name string
		v    Value
		t    Type
	}{
		{"int64", IntValue(-1234567890123), Type{Kind: BigInt}},
		{"decimal(10,2)", DecimalValue("-12345678.90"), Type{Kind: Decimal, Precision: 10, Scale: 2}},
		{"decimal(38,10)", DecimalValue("-1234567890123456789012345678.9012345678"), Type{Kind: Decimal, Precision: 38, Scale: 10}},
		{"string", StringValue("a string of some length, 36 bytes!!"), Type{Kind: VarChar, Precision: 255}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParquetValue(c.v, c.t, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/append", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 1<<16)
			for b.Loop() {
				var err error
				if _, buf, err = AppendParquetValue(buf[:0], c.v, c.t, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// boundsNarrow and boundsWide agree with compareTwos on values of every
// width they take, extremes included.
func TestBoundsNarrow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for size := 1; size <= 16; size++ {
		bounds := boundsNarrow
		if size > 8 {
			bounds = boundsWide
		}
		for trial := range 200 {
			n := 1 + rng.IntN(40)
			data := make([]byte, n*size)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			if trial%4 == 0 { // the most negative and the greatest value
				data[0], data[size*(n-1)] = 0x80, 0x7f
				clear(data[1:size])
				for i := size*(n-1) + 1; i < len(data); i++ {
					data[i] = 0xff
				}
			}
			if trial%4 == 1 && n > 1 { // equal leading bytes: the last 8 decide
				copy(data[size:2*size], data[:size])
				data[2*size-1] ^= 0x80
			}
			wantLo, wantHi := 0, 0
			for off := size; off < len(data); off += size {
				v := data[off : off+size]
				if compareTwos(v, data[wantLo:wantLo+size]) < 0 {
					wantLo = off
				}
				if compareTwos(v, data[wantHi:wantHi+size]) > 0 {
					wantHi = off
				}
			}
			if lo, hi := bounds(data, size); lo != wantLo || hi != wantHi {
				t.Fatalf("size %d, %x: bounds at %d, %d, want %d, %d", size, data, lo, hi, wantLo, wantHi)
			}
		}
	}
}

// BenchmarkDecimalPageBounds: the page bounds of a page of 128Ki signed
// decimals, of the widths of decimal(9), decimal(20,0) (bigint unsigned)
// and decimal(38).
func BenchmarkDecimalPageBounds(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range []int{9, 20, 38} {
		t := decimalNode(p, 0).Type().(*signedDecimalType)
		size := t.Length()
		const n = 128 << 10
		data := make([]byte, n*size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		page := t.NewPage(0, n, encoding.FixedLenByteArrayValues(data, size))
		b.Run(fmt.Sprintf("bytes=%d", size), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, _, ok := page.Bounds(); !ok {
					b.Fatal("no bounds")
				}
			}
		})
	}
}
