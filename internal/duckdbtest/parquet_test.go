package duckdbtest_test

// This file doubles as the reference for writing each DESIGN.md §7 type with
// github.com/parquet-go/parquet-go so that DuckDB reads it back exactly. The
// schema is built with parquet-go's low-level node API and rows are written
// as parquet.Row values; each column below says which parquet-go construct
// gives which DuckDB type.

import (
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/schema"
)

// column is one named column of the test file, in order
// (schema.FileSchema keeps the order; parquet.Group would sort by name).
type column = schema.Field

// decimalBytes returns v as a big-endian two's complement integer of n bytes,
// the FIXED_LEN_BYTE_ARRAY form of a DECIMAL. DECIMAL(20,0) needs 9 bytes
// (the fewest that hold ±10^20-1 in two's complement).
func decimalBytes(v *big.Int, n int) []byte {
	b := make([]byte, n)
	if v.Sign() >= 0 {
		return v.FillBytes(b)
	}
	// Two's complement: 2^(8n) + v.
	m := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	return m.Add(m, v).FillBytes(b)
}

// wallMicros is what a TIMESTAMP not adjusted to UTC stores: the wall clock
// of t, whatever its location, counted in microseconds as if it were UTC.
func wallMicros(t time.Time) int64 {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC).UnixMicro()
}

// days is what a DATE stores: days since 1970-01-01.
func days(y int, m time.Month, d int) int32 {
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// typedColumns is one column per §7 target type; every column is optional
// (parquet.Optional), so each value is written with definition level 1 and a
// NULL with definition level 0.
var typedColumns = []column{
	// tinyint, smallint, mediumint, int, *int unsigned up to mediumint, year → INT32.
	// Plain physical INT32, no logical type → DuckDB INTEGER.
	{Name: "c_int32", Node: parquet.Optional(parquet.Leaf(parquet.Int32Type))},
	// int unsigned, bigint, bit(n>1) → INT64: physical INT64 → DuckDB BIGINT.
	{Name: "c_int64", Node: parquet.Optional(parquet.Leaf(parquet.Int64Type))},
	// The same with an INT(32,true)/INT(64,true) logical type: also INTEGER/BIGINT.
	{Name: "c_int32_logical", Node: parquet.Optional(parquet.Int(32))},
	{Name: "c_int64_logical", Node: parquet.Optional(parquet.Int(64))},
	// bigint unsigned → DECIMAL(20,0) on FIXED_LEN_BYTE_ARRAY(9):
	// parquet.Decimal(scale 0, precision 20, parquet.FixedLenByteArrayType(9)).
	{Name: "c_dec20", Node: parquet.Optional(parquet.Decimal(0, 20, parquet.FixedLenByteArrayType(9)))},
	// decimal(10,2) → DECIMAL(10,2) on INT64 (precision 10..18; 1..9 fits INT32,
	// 19..38 needs FIXED_LEN_BYTE_ARRAY). Note parquet.Decimal takes scale first.
	{Name: "c_dec10_2", Node: parquet.Optional(parquet.Decimal(2, 10, parquet.Int64Type))},
	// decimal(38,10) on FIXED_LEN_BYTE_ARRAY(16).
	{Name: "c_dec38_10", Node: parquet.Optional(parquet.Decimal(10, 38, parquet.FixedLenByteArrayType(16)))},
	// double → DOUBLE, float → FLOAT.
	{Name: "c_double", Node: parquet.Optional(parquet.Leaf(parquet.DoubleType))},
	{Name: "c_float", Node: parquet.Optional(parquet.Leaf(parquet.FloatType))},
	// bit(1) (or a column rule) → BOOLEAN.
	{Name: "c_bool", Node: parquet.Optional(parquet.Leaf(parquet.BooleanType))},
	// date → DATE: parquet.Date() is INT32 days since the epoch.
	{Name: "c_date", Node: parquet.Optional(parquet.Date())},
	// datetime(n) → TIMESTAMP(MICROS, isAdjustedToUTC=false): DuckDB TIMESTAMP.
	{Name: "c_datetime", Node: parquet.Optional(parquet.TimestampAdjusted(parquet.Microsecond, false))},
	// timestamp(n) → TIMESTAMP(MICROS, isAdjustedToUTC=true): DuckDB
	// TIMESTAMP WITH TIME ZONE. parquet.Timestamp(unit) is the same (adjusted
	// is its default).
	{Name: "c_timestamp", Node: parquet.Optional(parquet.TimestampAdjusted(parquet.Microsecond, true))},
	// char/varchar/text/enum/set/json/time → STRING: BYTE_ARRAY with the
	// STRING logical type, parquet.String() → DuckDB VARCHAR.
	{Name: "c_string", Node: parquet.Optional(parquet.String())},
	// binary/varbinary/blob → BYTE_ARRAY without logical type → DuckDB BLOB.
	{Name: "c_binary", Node: parquet.Optional(parquet.Leaf(parquet.ByteArrayType))},
}

// value builds the parquet.Value of column i for a row: v as the column's
// physical type, or NULL for nil. Leaf i of a flat schema is column index i;
// a present optional value has definition level 1, a NULL level 0.
func value(i int, v any) parquet.Value {
	var pv parquet.Value
	switch x := v.(type) {
	case nil:
		return parquet.NullValue().Level(0, 0, i)
	case bool:
		pv = parquet.BooleanValue(x)
	case int32:
		pv = parquet.Int32Value(x)
	case int64:
		pv = parquet.Int64Value(x)
	case float32:
		pv = parquet.FloatValue(x)
	case float64:
		pv = parquet.DoubleValue(x)
	case string: // STRING is a BYTE_ARRAY holding UTF-8
		pv = parquet.ByteArrayValue([]byte(x))
	case []byte:
		pv = parquet.ByteArrayValue(x)
	case fixed: // FIXED_LEN_BYTE_ARRAY
		pv = parquet.FixedLenByteArrayValue(x)
	default:
		panic(fmt.Sprintf("value: unsupported %T", v))
	}
	return pv.Level(0, 1, i)
}

type fixed []byte

func bigInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return v
}

func writeParquet(t *testing.T, path string, group []column, rows [][]any) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewWriter(f, schema.FileSchema(group))
	prows := make([]parquet.Row, len(rows))
	for r, row := range rows {
		if len(row) != len(group) {
			t.Fatalf("row %d has %d values for %d columns", r, len(row), len(group))
		}
		prow := make(parquet.Row, len(row))
		for i, v := range row {
			prow[i] = value(i, v)
		}
		prows[r] = prow
	}
	if _, err := w.WriteRows(prows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadParquetTypes(t *testing.T) {
	duckdbtest.Require(t)
	shanghai := time.FixedZone("Asia/Shanghai", 8*3600)
	// The same time.Time written both ways: as a datetime its Shanghai wall
	// clock is kept; as a timestamp it is an instant, read back in UTC.
	datetime := time.Date(2024, 3, 10, 2, 30, 0, 123456000, shanghai)
	instant := datetime
	preEpoch := time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)

	rows := [][]any{
		{
			int32(math.MaxInt32), int64(math.MinInt64), int32(-7), int64(1) << 40,
			fixed(decimalBytes(bigInt("18446744073709551615"), 9)),
			int64(-1234567890), // -12345678.90
			fixed(decimalBytes(bigInt("-99999999999999999999999999999999999999"), 16)), // 38 nines, scale 10
			0.1, float32(0.1), true,
			days(2024, 2, 29),
			wallMicros(datetime),
			instant.UnixMicro(),
			"héllo 😀 世界",
			[]byte{0x00, 0xff, 0x10},
		},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{
			int32(math.MinInt32), int64(0), int32(0), int64(-1),
			fixed(decimalBytes(bigInt("9223372036854775808"), 9)),
			int64(5), // 0.05
			fixed(decimalBytes(bigInt("1"), 16)),
			math.Copysign(0, -1), float32(16777216), false,
			days(1000, 1, 1),
			wallMicros(preEpoch),
			preEpoch.UnixMicro(),
			"",
			[]byte{},
		},
	}
	path := filepath.Join(t.TempDir(), "types.parquet")
	writeParquet(t, path, typedColumns, rows)

	res := duckdbtest.ReadParquet(t, path)
	wantCols := []duckdbtest.Column{
		{Name: "c_int32", Type: "INTEGER"},
		{Name: "c_int64", Type: "BIGINT"},
		{Name: "c_int32_logical", Type: "INTEGER"},
		{Name: "c_int64_logical", Type: "BIGINT"},
		{Name: "c_dec20", Type: "DECIMAL(20,0)"},
		{Name: "c_dec10_2", Type: "DECIMAL(10,2)"},
		{Name: "c_dec38_10", Type: "DECIMAL(38,10)"},
		{Name: "c_double", Type: "DOUBLE"},
		{Name: "c_float", Type: "FLOAT"},
		{Name: "c_bool", Type: "BOOLEAN"},
		{Name: "c_date", Type: "DATE"},
		{Name: "c_datetime", Type: "TIMESTAMP"},
		{Name: "c_timestamp", Type: "TIMESTAMP WITH TIME ZONE"},
		{Name: "c_string", Type: "VARCHAR"},
		{Name: "c_binary", Type: "BLOB"},
	}
	if !reflect.DeepEqual(res.Columns, wantCols) {
		t.Errorf("columns (in file order):\n got %v\nwant %v", res.Columns, wantCols)
	}
	p := duckdbtest.Ptr
	want := [][]*string{
		{
			p("2147483647"), p("-9223372036854775808"), p("-7"), p("1099511627776"),
			p("18446744073709551615"),
			p("-12345678.90"),
			p("-9999999999999999999999999999.9999999999"),
			p(duckdbtest.FormatDouble(0.1)), p(duckdbtest.FormatFloat(0.1)), p("true"),
			p("2024-02-29"),
			p("2024-03-10T02:30:00.123456"), // the wall clock, unchanged
			p("2024-03-09T18:30:00.123456+00:00"),
			p("héllo 😀 世界"),
			p("00ff10"),
		},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{
			p("-2147483648"), p("0"), p("0"), p("-1"),
			p("9223372036854775808"),
			p("0.05"),
			p("0.0000000001"),
			p("-0"), p("16777216"), p("false"),
			p("1000-01-01"),
			p("1969-12-31T23:59:59.999999"),
			p("1969-12-31T23:59:59.999999+00:00"),
			p(""),
			p(""),
		},
	}
	if d := diffRows(res.Rows, want); d != "" {
		t.Errorf("rows differ:\n%s\ngot:\n%s", d, res)
	}
	// The Go formatting helpers give the same text.
	if got, want := res.Text(0, "c_datetime"), duckdbtest.FormatTimestamp(datetime); got != want {
		t.Errorf("FormatTimestamp: DuckDB %q, Go %q", got, want)
	}
	if got, want := res.Text(0, "c_timestamp"), duckdbtest.FormatTimestampTZ(instant); got != want {
		t.Errorf("FormatTimestampTZ: DuckDB %q, Go %q", got, want)
	}
	if got, want := res.Text(0, "c_dec10_2"), duckdbtest.FormatDecimal(big.NewInt(-1234567890), 2); got != want {
		t.Errorf("FormatDecimal: DuckDB %q, Go %q", got, want)
	}
	if got, want := res.Text(0, "c_binary"), duckdbtest.FormatBlob([]byte{0, 0xff, 0x10}); got != want {
		t.Errorf("FormatBlob: DuckDB %q, Go %q", got, want)
	}
	if got, want := res.Text(2, "c_date"), duckdbtest.FormatDate(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)); got != want {
		t.Errorf("FormatDate: DuckDB %q, Go %q", got, want)
	}

	types := duckdbtest.DescribeParquet(t, path)
	for _, c := range wantCols {
		if types[c.Name] != c.Type {
			t.Errorf("DescribeParquet[%s] = %q, want %q", c.Name, types[c.Name], c.Type)
		}
	}

	// What parquet-go wrote into the footer, as DuckDB reads it.
	schema := duckdbtest.ParquetSchema(t, path)
	byName := map[string]int{}
	for i := range schema.Rows {
		byName[schema.Text(i, "name")] = i
	}
	for _, c := range wantCols {
		i, ok := byName[c.Name]
		if !ok {
			t.Errorf("parquet_schema has no %s", c.Name)
			continue
		}
		t.Logf("%-16s physical=%-20s length=%-4s converted=%-16s logical=%s",
			c.Name, schema.Text(i, "type"), schema.Text(i, "type_length"),
			schema.Text(i, "converted_type"), schema.Text(i, "logical_type"))
	}
	for name, wantLogical := range map[string]string{
		"c_datetime":  "isAdjustedToUTC=0",
		"c_timestamp": "isAdjustedToUTC=1",
	} {
		if got := schema.Text(byName[name], "logical_type"); !strings.Contains(got, wantLogical) || !strings.Contains(got, "MICROS") {
			t.Errorf("%s logical_type = %q, want MICROS and %s", name, got, wantLogical)
		}
	}
}

func diffRows(got, want [][]*string) string {
	var b strings.Builder
	if len(got) != len(want) {
		fmt.Fprintf(&b, "%d rows, want %d\n", len(got), len(want))
	}
	for r := 0; r < len(got) && r < len(want); r++ {
		if len(got[r]) != len(want[r]) {
			fmt.Fprintf(&b, "row %d: %d values, want %d\n", r, len(got[r]), len(want[r]))
			continue
		}
		for c := range got[r] {
			g, w := show(got[r][c]), show(want[r][c])
			if g != w {
				fmt.Fprintf(&b, "row %d col %d: got %s, want %s\n", r, c, g, w)
			}
		}
	}
	return b.String()
}

func show(p *string) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *p)
}
