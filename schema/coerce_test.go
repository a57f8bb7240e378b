package schema

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func mustType(tb testing.TB, s string) Type {
	tb.Helper()
	t, err := ParseType(s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

type coerceCase struct {
	in   Value
	typ  string
	o    CoerceOptions
	want Value  // when err == ""
	zero bool   // zeroDate
	err  string // substring of the error; "" = success
}

// ok, zero and fail build cases.
func ok(in Value, typ string, want Value) coerceCase {
	return coerceCase{in: in, typ: typ, want: want}
}

func zero(in Value, typ string) coerceCase { return coerceCase{in: in, typ: typ, zero: true} }

func fail(in Value, typ string, err string) coerceCase {
	return coerceCase{in: in, typ: typ, err: err}
}

func with(c coerceCase, o CoerceOptions) coerceCase { c.o = o; return c }

var (
	shanghaiOpts = CoerceOptions{Zone: shanghai}
	base64Opts   = CoerceOptions{Binary: Base64}
	latin1Opts   = CoerceOptions{Binary: Latin1}
)

func runCoerce(t *testing.T, cases []coerceCase) {
	t.Helper()
	for _, c := range cases {
		typ := mustType(t, c.typ)
		got, zeroDate, err := Coerce(c.in, typ, c.o)
		name := c.in.Kind.String() + " " + c.in.String() + " → " + c.typ
		switch {
		case c.err != "":
			if err == nil {
				t.Errorf("%s = %v, want error %q", name, got, c.err)
				continue
			}
			if !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %q, want it to contain %q", name, err, c.err)
			}
			var ce *CoerceError
			if !errors.As(err, &ce) {
				t.Errorf("%s: error %T is not a *CoerceError", name, err)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case zeroDate != c.zero:
			t.Errorf("%s: zeroDate %v, want %v", name, zeroDate, c.zero)
		case !got.Equal(c.want) || (got.Kind == DecimalV && got.S != c.want.S):
			t.Errorf("%s = %s %v, want %s %v", name, got.Kind, got, c.want.Kind, c.want)
		}
	}
}

func TestCoerceNullAndUnknown(t *testing.T) {
	for _, typ := range []string{"int", "decimal(10,2)", "datetime", "varchar(3)", "enum('a')", "blob", "bit(1)"} {
		got, z, err := Coerce(NullValue(), mustType(t, typ), CoerceOptions{})
		if err != nil || z || got.Kind != Null {
			t.Errorf("NULL → %s = %v, %v, %v", typ, got, z, err)
		}
	}
	for _, v := range []Value{IntValue(5), StringValue("x"), FloatValue(1.5)} {
		got, z, err := Coerce(v, Type{}, CoerceOptions{})
		if err != nil || z || !got.Equal(v) {
			t.Errorf("%v → unknown = %v, %v, %v", v, got, z, err)
		}
	}
}

func TestCoerceInt(t *testing.T) {
	runCoerce(t, []coerceCase{
		ok(IntValue(127), "tinyint", IntValue(127)),
		ok(IntValue(-128), "tinyint(1)", IntValue(-128)),
		fail(IntValue(128), "tinyint", "value 128 out of range for tinyint"),
		fail(IntValue(300), "tinyint", "value 300 out of range for tinyint"),
		fail(IntValue(-129), "tinyint", "value -129 out of range for tinyint"),
		ok(IntValue(255), "tinyint unsigned", IntValue(255)),
		ok(IntValue(0), "tinyint unsigned", IntValue(0)),
		fail(IntValue(256), "tinyint unsigned", "value 256 out of range for tinyint unsigned"),
		fail(IntValue(-1), "tinyint unsigned", "value -1 out of range for tinyint unsigned"),
		ok(IntValue(-32768), "smallint", IntValue(-32768)),
		ok(IntValue(32767), "smallint", IntValue(32767)),
		fail(IntValue(32768), "smallint", "out of range for smallint"),
		ok(IntValue(65535), "smallint unsigned", IntValue(65535)),
		fail(IntValue(65536), "smallint unsigned", "out of range for smallint unsigned"),
		ok(IntValue(-8388608), "mediumint", IntValue(-8388608)),
		ok(IntValue(8388607), "mediumint", IntValue(8388607)),
		fail(IntValue(8388608), "mediumint", "out of range for mediumint"),
		fail(IntValue(-8388609), "mediumint", "out of range for mediumint"),
		ok(IntValue(16777215), "mediumint unsigned", IntValue(16777215)),
		fail(IntValue(16777216), "mediumint unsigned", "out of range for mediumint unsigned"),
		ok(IntValue(math.MinInt32), "int", IntValue(math.MinInt32)),
		ok(IntValue(math.MaxInt32), "int(11)", IntValue(math.MaxInt32)),
		fail(IntValue(math.MaxInt32+1), "int", "value 2147483648 out of range for int"),
		fail(IntValue(math.MinInt32-1), "int", "out of range for int"),
		ok(IntValue(math.MaxUint32), "int unsigned", IntValue(math.MaxUint32)),
		fail(IntValue(math.MaxUint32+1), "int unsigned", "value 4294967296 out of range for int unsigned"),
		fail(IntValue(-1), "int unsigned", "out of range for int unsigned"),
		ok(IntValue(math.MinInt64), "bigint", IntValue(math.MinInt64)),
		ok(IntValue(math.MaxInt64), "bigint", IntValue(math.MaxInt64)),
		fail(UintValue(math.MaxInt64+1), "bigint", "value 9223372036854775808 out of range for bigint"),
		// bigint unsigned: Debezium writes values above MaxInt64 as negative longs.
		ok(IntValue(-1), "bigint unsigned", UintValue(math.MaxUint64)),
		ok(IntValue(math.MinInt64), "bigint unsigned", UintValue(1<<63)),
		ok(IntValue(5), "bigint unsigned", IntValue(5)),
		ok(UintValue(math.MaxUint64), "bigint(20) unsigned", UintValue(math.MaxUint64)),
		// Text (Canal), decimals, floats and booleans.
		ok(StringValue("12"), "int", IntValue(12)),
		ok(StringValue("-12"), "int", IntValue(-12)),
		ok(StringValue("+12"), "int", IntValue(12)),
		ok(StringValue("-0"), "int unsigned", IntValue(0)),
		ok(StringValue("255"), "tinyint unsigned", IntValue(255)),
		fail(StringValue("300"), "tinyint", `value "300" out of range for tinyint`),
		fail(StringValue("-1"), "bigint unsigned", `value "-1" out of range for bigint unsigned`),
		ok(StringValue("18446744073709551615"), "bigint unsigned", UintValue(math.MaxUint64)),
		fail(StringValue("18446744073709551616"), "bigint unsigned", "out of range for bigint unsigned"),
		ok(StringValue("-9223372036854775808"), "bigint", IntValue(math.MinInt64)),
		fail(StringValue("-9223372036854775809"), "bigint", "out of range for bigint"),
		fail(StringValue("9223372036854775808"), "bigint", "out of range for bigint"),
		fail(StringValue("99999999999999999999999"), "bigint", "out of range for bigint"),
		ok(DecimalValue("12.000"), "int", IntValue(12)),
		ok(DecimalValue("1e3"), "smallint", IntValue(1000)),
		ok(DecimalValue("-0.0"), "int", IntValue(0)),
		ok(DecimalValue("18446744073709551615"), "bigint unsigned", UintValue(math.MaxUint64)),
		fail(DecimalValue("1.5"), "int", "cannot convert decimal value 1.5 to int: not an integer"),
		fail(StringValue("abc"), "int", `cannot convert string value "abc" to int: not a number`),
		fail(StringValue(" 12"), "int", "not a number"),
		fail(StringValue(""), "int", "not a number"),
		fail(StringValue("1.5"), "bigint", "not an integer"),
		ok(FloatValue(3), "int", IntValue(3)),
		ok(FloatValue(-3), "int", IntValue(-3)),
		fail(FloatValue(3.5), "int", "cannot convert float value 3.5 to int: not an integer"),
		fail(FloatValue(1e300), "bigint", "not exact"),
		fail(FloatValue(math.NaN()), "int", "not an integer"),
		fail(FloatValue(300), "tinyint", "value 300 out of range for tinyint"),
		ok(BoolValue(true), "tinyint(1)", IntValue(1)),
		ok(BoolValue(false), "int", IntValue(0)),
		fail(DateDays(0), "int", "cannot convert date value 1970-01-01 to int"),
		fail(BytesValue([]byte("1")), "int", "cannot convert bytes value 0x31 to int"),
		fail(TimeMicros(1), "bigint", "cannot convert time value"),
	})
}

func TestCoerceYear(t *testing.T) {
	runCoerce(t, []coerceCase{
		ok(IntValue(2024), "year", IntValue(2024)),
		ok(IntValue(1901), "year(4)", IntValue(1901)),
		ok(IntValue(2155), "year", IntValue(2155)),
		ok(StringValue("2024"), "year", IntValue(2024)),
		ok(DecimalValue("2024"), "year", IntValue(2024)),
		zero(IntValue(0), "year"),
		zero(StringValue("0000"), "year"),
		fail(IntValue(1900), "year", "value 1900 out of range for year"),
		fail(IntValue(2156), "year", "value 2156 out of range for year"),
		fail(IntValue(-2024), "year", "out of range for year"),
		fail(StringValue("20x4"), "year", "not a number"),
		fail(BoolValue(true), "year", "cannot convert bool value true to year"),
		fail(DateDays(0), "year", "cannot convert date"),
	})
}

func TestCoerceDecimal(t *testing.T) {
	runCoerce(t, []coerceCase{
		ok(DecimalValue("12.30"), "decimal(10,2)", DecimalValue("12.30")),
		ok(DecimalValue("12.3"), "decimal(10,2)", DecimalValue("12.30")),
		ok(StringValue("12"), "decimal(10,2)", DecimalValue("12.00")),
		ok(StringValue("-0.00"), "decimal(10,2)", DecimalValue("0.00")),
		ok(StringValue("-0"), "decimal(10,0)", DecimalValue("0")),
		ok(StringValue(".5"), "decimal(10,2)", DecimalValue("0.50")),
		ok(StringValue("5."), "decimal(10,2)", DecimalValue("5.00")),
		ok(StringValue("+5"), "decimal(10,2)", DecimalValue("5.00")),
		ok(StringValue("00012.3"), "decimal(10,2)", DecimalValue("12.30")),
		ok(StringValue("1.5e3"), "decimal(10,2)", DecimalValue("1500.00")),
		ok(StringValue("1.5E-3"), "decimal(10,4)", DecimalValue("0.0015")),
		ok(DecimalValue("99999999.99"), "decimal(10,2)", DecimalValue("99999999.99")),
		ok(DecimalValue("-99999999.99"), "decimal(10,2)", DecimalValue("-99999999.99")),
		// Rounding half away from zero when the input has more digits.
		ok(DecimalValue("0.005"), "decimal(10,2)", DecimalValue("0.01")),
		ok(DecimalValue("-0.005"), "decimal(10,2)", DecimalValue("-0.01")),
		ok(DecimalValue("0.004999"), "decimal(10,2)", DecimalValue("0.00")),
		ok(DecimalValue("-0.004"), "decimal(10,2)", DecimalValue("0.00")),
		ok(DecimalValue("99999999.994"), "decimal(10,2)", DecimalValue("99999999.99")),
		ok(DecimalValue("1.5"), "decimal(10,0)", DecimalValue("2")),
		ok(DecimalValue("-2.5"), "decimal(10,0)", DecimalValue("-3")),
		ok(DecimalValue("0.4"), "decimal(10,0)", DecimalValue("0")),
		ok(DecimalValue("9.96"), "decimal(3,1)", DecimalValue("10.0")),
		ok(DecimalValue("1e-100"), "decimal(10,2)", DecimalValue("0.00")),
		ok(FloatValue(0.1+0.2), "decimal(10,2)", DecimalValue("0.30")),
		ok(FloatValue(12.3), "decimal(10,2)", DecimalValue("12.30")),
		ok(FloatValue(-1e-20), "decimal(10,2)", DecimalValue("0.00")),
		ok(FloatValue(1e20), "decimal(21,0)", DecimalValue("100000000000000000000")),
		ok(IntValue(5), "decimal(10,2)", DecimalValue("5.00")),
		ok(IntValue(-5), "decimal(10,2)", DecimalValue("-5.00")),
		ok(IntValue(math.MinInt64), "decimal(19,0)", DecimalValue("-9223372036854775808")),
		ok(UintValue(math.MaxUint64), "decimal(20,0)", DecimalValue("18446744073709551615")),
		ok(BoolValue(true), "decimal(10,2)", DecimalValue("1.00")),
		ok(StringValue("0.12345"), "decimal(5,5)", DecimalValue("0.12345")),
		ok(StringValue("0"), "decimal(5,5)", DecimalValue("0.00000")),
		ok(StringValue(strings.Repeat("9", 35)+"."+strings.Repeat("9", 30)), "decimal(65,30)", DecimalValue(strings.Repeat("9", 35)+"."+strings.Repeat("9", 30))),
		ok(StringValue("-1e-30"), "decimal(65,30)", DecimalValue("-0."+strings.Repeat("0", 29)+"1")),
		fail(DecimalValue("99999999.995"), "decimal(10,2)", "value 99999999.995 out of range for decimal(10,2)"),
		fail(DecimalValue("123456789"), "decimal(10,2)", "value 123456789 out of range for decimal(10,2)"),
		fail(StringValue("-123456789.5"), "decimal(10,2)", `value "-123456789.5" out of range for decimal(10,2)`),
		fail(IntValue(123456789), "decimal(10,2)", "value 123456789 out of range for decimal(10,2)"),
		fail(UintValue(math.MaxUint64), "decimal(10,2)", "out of range for decimal(10,2)"),
		fail(FloatValue(1e10), "decimal(10,2)", "out of range"),
		fail(StringValue("1"), "decimal(5,5)", "out of range for decimal(5,5)"),
		fail(StringValue("1e100"), "decimal(65,0)", "out of range"),
		fail(FloatValue(math.NaN()), "decimal(10,2)", "not a finite number"),
		fail(FloatValue(math.Inf(1)), "decimal(10,2)", "not a finite number"),
		fail(StringValue("abc"), "decimal(10,2)", `cannot convert string value "abc" to decimal(10,2): not a decimal number`),
		fail(StringValue("1.2.3"), "decimal(10,2)", "not a decimal number"),
		fail(StringValue("--1"), "decimal(10,2)", "not a decimal number"),
		fail(StringValue("1e"), "decimal(10,2)", "not a decimal number"),
		fail(StringValue(""), "decimal(10,2)", "not a decimal number"),
		fail(StringValue("1e99999"), "decimal(10,2)", "exponent out of range"),
		fail(StringValue("0."+strings.Repeat("1", 100)), "decimal(10,2)", "too many digits"),
		fail(DateDays(0), "decimal(10,2)", "cannot convert date"),
		fail(BytesValue([]byte("1")), "decimal(10,2)", "cannot convert bytes"),
	})
}

func TestCoerceFloat(t *testing.T) {
	f32 := func(f float32) Value { return FloatValue(float64(f)) }
	runCoerce(t, []coerceCase{
		ok(FloatValue(0.1), "double", FloatValue(0.1)),
		ok(FloatValue(0.1), "float", f32(0.1)),
		ok(StringValue("0.1"), "float", f32(0.1)),
		ok(StringValue("0.1"), "double", FloatValue(0.1)),
		ok(StringValue("1.0E10"), "double", FloatValue(1e10)),
		ok(StringValue("-3.4028235E38"), "float", f32(-math.MaxFloat32)),
		ok(DecimalValue("12.30"), "double", FloatValue(12.3)),
		ok(IntValue(3), "double", FloatValue(3)),
		ok(UintValue(math.MaxUint64), "double", FloatValue(18446744073709551615)),
		ok(BoolValue(true), "float", FloatValue(1)),
		ok(FloatValue(math.MaxFloat64), "double", FloatValue(math.MaxFloat64)),
		ok(FloatValue(math.Inf(1)), "double", FloatValue(math.Inf(1))),
		fail(StringValue("3.5e38"), "float", `value "3.5e38" out of range for float`),
		fail(FloatValue(1e39), "float", "value 1e+39 out of range for float"),
		fail(StringValue("1e309"), "double", "out of range for double"),
		fail(StringValue("NaN"), "double", "not a number"),
		fail(StringValue("Infinity"), "double", "not a number"),
		fail(StringValue("inf"), "float", "not a number"),
		fail(StringValue("0x1p-2"), "double", "not a number"),
		fail(StringValue("1_000"), "double", "not a number"),
		fail(StringValue("abc"), "double", "not a number"),
		fail(StringValue(""), "double", "not a number"),
		fail(DateDays(0), "double", "cannot convert date"),
	})
}

func TestCoerceBool(t *testing.T) {
	runCoerce(t, []coerceCase{
		ok(BoolValue(true), "bit(1)", BoolValue(true)),
		ok(BoolValue(false), "boolean", BoolValue(false)),
		ok(IntValue(1), "bit(1)", BoolValue(true)),
		ok(IntValue(0), "bool", BoolValue(false)),
		ok(StringValue("1"), "bit(1)", BoolValue(true)),
		ok(StringValue("0"), "bit(1)", BoolValue(false)),
		ok(StringValue("true"), "boolean", BoolValue(true)),
		ok(StringValue("FALSE"), "bit(1)", BoolValue(false)),
		ok(DecimalValue("1"), "bit(1)", BoolValue(true)),
		ok(StringValue("1.0"), "bit(1)", BoolValue(true)),
		ok(BytesValue([]byte{1}), "bit(1)", BoolValue(true)),
		ok(BytesValue([]byte{0}), "bit", BoolValue(false)),
		fail(IntValue(2), "bit(1)", "value 2 out of range for bit(1)"),
		fail(IntValue(-1), "boolean", "value -1 out of range for boolean"),
		fail(UintValue(math.MaxUint64), "boolean", "out of range for boolean"),
		fail(StringValue("2"), "bit(1)", `value "2" out of range for bit(1)`),
		fail(StringValue("yes"), "boolean", `cannot convert string value "yes" to boolean: not a boolean`),
		fail(BytesValue([]byte{2}), "bit(1)", "value 0x02 out of range for bit(1)"),
		fail(BytesValue([]byte{0, 0}), "bit(1)", "out of range for bit(1)"),
		fail(FloatValue(1), "boolean", "cannot convert float value 1 to boolean"),
	})
}

func TestCoerceBits(t *testing.T) {
	runCoerce(t, []coerceCase{
		ok(IntValue(255), "bit(8)", IntValue(255)),
		ok(IntValue(0), "bit(8)", IntValue(0)),
		ok(BoolValue(true), "bit(8)", IntValue(1)),
		ok(StringValue("170"), "bit(8)", IntValue(170)),
		ok(DecimalValue("170"), "bit(8)", IntValue(170)),
		ok(UintValue(math.MaxUint64), "bit(64)", UintValue(math.MaxUint64)),
		ok(StringValue("18446744073709551615"), "bit(64)", UintValue(math.MaxUint64)),
		ok(IntValue(math.MaxInt64), "bit(63)", IntValue(math.MaxInt64)),
		// Debezium: little-endian bytes, base64 in text.
		ok(BytesValue([]byte{0x01, 0x02}), "bit(16)", IntValue(0x0201)),
		ok(BytesValue([]byte{0xff, 0, 0, 0, 0, 0, 0, 0, 0}), "bit(64)", IntValue(0xff)),
		with(ok(StringValue("AQI="), "bit(16)", IntValue(0x0201)), base64Opts),
		with(ok(StringValue("AQI"), "bit(16)", IntValue(0x0201)), base64Opts),
		with(fail(StringValue("!!"), "bit(16)", "not base64"), base64Opts),
		with(fail(StringValue("AQI="), "bit(8)", `value "AQI=" out of range for bit(8)`), base64Opts),
		ok(StringValue("10"), "bit(8)", IntValue(10)),
		fail(IntValue(256), "bit(8)", "value 256 out of range for bit(8)"),
		fail(IntValue(-1), "bit(8)", "value -1 out of range for bit(8)"),
		fail(StringValue("-1"), "bit(8)", "out of range for bit(8)"),
		fail(UintValue(math.MaxUint64), "bit(63)", "out of range for bit(63)"),
		fail(BytesValue([]byte{0x01, 0x02}), "bit(8)", "value 0x0102 out of range for bit(8)"),
		fail(BytesValue([]byte{0, 0, 0, 0, 0, 0, 0, 0, 1}), "bit(64)", "out of range for bit(64)"),
		fail(StringValue("abc"), "bit(8)", "not a number"),
		fail(FloatValue(1), "bit(8)", "cannot convert float"),
	})
}

func TestCoerceDate(t *testing.T) {
	d := func(y int, m time.Month, day int) Value { return DateDays(unixDays(y, m, day)) }
	runCoerce(t, []coerceCase{
		ok(StringValue("2024-02-29"), "date", d(2024, 2, 29)),
		ok(StringValue("1000-01-01"), "date", d(1000, 1, 1)),
		ok(StringValue("9999-12-31"), "date", d(9999, 12, 31)),
		ok(StringValue("0001-01-01"), "date", d(1, 1, 1)),
		ok(StringValue("1969-12-31"), "date", DateDays(-1)),
		ok(StringValue("2024-01-01 00:00:00"), "date", d(2024, 1, 1)),
		ok(DateDays(19723), "date", DateDays(19723)),
		ok(IntValue(19723), "date", DateDays(19723)), // Debezium: days since the epoch
		ok(wall(2024, 1, 1, 0, 0, 0, 0), "date", d(2024, 1, 1)),
		zero(StringValue("0000-00-00"), "date"),
		zero(StringValue("2024-00-01"), "date"),
		zero(StringValue("2024-01-00"), "date"),
		zero(StringValue("0000-01-01"), "date"),
		zero(StringValue("2023-02-29"), "date"),
		zero(StringValue("2024-04-31"), "date"),
		fail(StringValue("2024-13-01"), "date", `cannot convert string value "2024-13-01" to date: not a date`),
		fail(StringValue("2024-01-32"), "date", "not a date"),
		fail(StringValue("2024-1-1"), "date", "not a date"),
		fail(StringValue("20240101"), "date", "not a date"),
		fail(StringValue("2024-01-01T00:00:00Z"), "date", "not a date"),
		fail(StringValue("2024-01-01 10:00:00"), "date", "has a time of day"),
		fail(wall(2024, 1, 1, 10, 0, 0, 0), "date", "has a time of day"),
		fail(IntValue(1e9), "date", "value 1000000000 out of range for date"),
		fail(DateDays(unixDays(10000, 1, 1)), "date", "out of range for date"),
		fail(TimestampMicros(0), "date", "cannot convert timestamp"),
		fail(FloatValue(1), "date", "cannot convert float"),
	})
}

func TestCoerceDateTime(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = nil
	}
	cases := []coerceCase{
		ok(StringValue("2024-03-01 10:00:00"), "datetime", wall(2024, 3, 1, 10, 0, 0, 0)),
		ok(StringValue("2024-03-01T10:00:00.123456"), "datetime(6)", wall(2024, 3, 1, 10, 0, 0, 123456)),
		ok(StringValue("2024-03-01 10:00:00.5"), "datetime(1)", wall(2024, 3, 1, 10, 0, 0, 500000)),
		ok(StringValue("2024-03-01 10:00:00.123456789"), "datetime(6)", wall(2024, 3, 1, 10, 0, 0, 123456)),
		ok(StringValue("2024-03-01 10:00"), "datetime", wall(2024, 3, 1, 10, 0, 0, 0)),
		ok(StringValue("2024-03-01"), "datetime", wall(2024, 3, 1, 0, 0, 0, 0)),
		ok(StringValue("9999-12-31 23:59:59.999999"), "datetime(6)", wall(9999, 12, 31, 23, 59, 59, 999999)),
		ok(StringValue("1000-01-01 00:00:00"), "datetime", wall(1000, 1, 1, 0, 0, 0, 0)),
		ok(StringValue("1969-12-31 23:59:59.999999"), "datetime(6)", DateTimeMicros(-1)),
		// Text with an offset is an instant, shown in Zone.
		ok(StringValue("2024-03-01T10:00:00+08:00"), "datetime", wall(2024, 3, 1, 2, 0, 0, 0)),
		with(ok(StringValue("2024-03-01T10:00:00Z"), "datetime", wall(2024, 3, 1, 18, 0, 0, 0)), shanghaiOpts),
		// Debezium: epoch milliseconds for fsp 0-3, microseconds for 4-6.
		ok(IntValue(1709287200123), "datetime(3)", wall(2024, 3, 1, 10, 0, 0, 123000)),
		ok(IntValue(1709287200000), "datetime", wall(2024, 3, 1, 10, 0, 0, 0)),
		ok(IntValue(1709287200123456), "datetime(6)", wall(2024, 3, 1, 10, 0, 0, 123456)),
		fail(IntValue(1709287200123456), "datetime(3)", "out of range for datetime(3)"),
		fail(IntValue(math.MaxInt64), "datetime", "out of range for datetime"),
		ok(wall(2024, 3, 1, 10, 0, 0, 0), "datetime", wall(2024, 3, 1, 10, 0, 0, 0)),
		ok(DateDays(unixDays(2024, 3, 1)), "datetime", wall(2024, 3, 1, 0, 0, 0, 0)),
		ok(instant(2024, 3, 1, 10, 0, 0, 0, time.UTC), "datetime", wall(2024, 3, 1, 10, 0, 0, 0)),
		with(ok(instant(2024, 3, 1, 10, 0, 0, 0, time.UTC), "datetime", wall(2024, 3, 1, 18, 0, 0, 0)), shanghaiOpts),
		zero(StringValue("0000-00-00 00:00:00"), "datetime"),
		zero(StringValue("2024-00-01 00:00:00"), "datetime"),
		zero(StringValue("2024-02-30 10:00:00"), "datetime(6)"),
		fail(StringValue("2024-03-01 24:00:00"), "datetime", `cannot convert string value "2024-03-01 24:00:00" to datetime: not a date and time`),
		fail(StringValue("2024-03-01 10:60:00"), "datetime", "not a date and time"),
		fail(StringValue("2024-03-01 10:00:60"), "datetime", "not a date and time"),
		fail(StringValue("2024-03-01 10:00:00."), "datetime", "not a date and time"),
		fail(StringValue("2024-03-01 10:00:00.1234567890"), "datetime", "not a date and time"),
		fail(StringValue("2024-03-01 10:00:00+25:00"), "datetime", "not a date and time"),
		fail(StringValue("2024-03-01 10:00:00 UTC"), "datetime", "not a date and time"),
		fail(StringValue("2024-03-01x10:00:00"), "datetime", "not a date and time"),
		fail(StringValue(""), "datetime", "not a date and time"),
		fail(FloatValue(1), "datetime", "cannot convert float"),
		fail(TimeMicros(1), "datetime", "cannot convert time"),
		fail(DateTimeMicros(maxMicros+1), "datetime", "out of range for datetime"),

		ok(StringValue("2024-03-01 10:00:00"), "timestamp", instant(2024, 3, 1, 10, 0, 0, 0, time.UTC)),
		with(ok(StringValue("2024-03-01 10:00:00"), "timestamp", instant(2024, 3, 1, 2, 0, 0, 0, time.UTC)), shanghaiOpts),
		with(ok(StringValue("2024-03-01T10:00:00Z"), "timestamp(3)", instant(2024, 3, 1, 10, 0, 0, 0, time.UTC)), shanghaiOpts),
		ok(StringValue("2024-03-01T10:00:00.5-05:00"), "timestamp(1)", instant(2024, 3, 1, 15, 0, 0, 500000, time.UTC)),
		ok(StringValue("2024-03-01T10:00:00.123456789Z"), "timestamp(6)", instant(2024, 3, 1, 10, 0, 0, 123456, time.UTC)),
		ok(StringValue("2024-03-01T10:00:00+0530"), "timestamp", instant(2024, 3, 1, 4, 30, 0, 0, time.UTC)),
		ok(StringValue("2024-03-01T10:00:00-03"), "timestamp", instant(2024, 3, 1, 13, 0, 0, 0, time.UTC)),
		ok(StringValue("1970-01-01 00:00:01"), "timestamp", TimestampMicros(1_000_000)),
		ok(instant(2024, 3, 1, 10, 0, 0, 0, time.UTC), "timestamp", instant(2024, 3, 1, 10, 0, 0, 0, time.UTC)),
		ok(wall(2024, 3, 1, 10, 0, 0, 0), "timestamp", instant(2024, 3, 1, 10, 0, 0, 0, time.UTC)),
		with(ok(wall(2024, 3, 1, 10, 0, 0, 7), "timestamp(6)", instant(2024, 3, 1, 10, 0, 0, 7, shanghai)), shanghaiOpts),
		with(ok(DateDays(unixDays(2024, 3, 1)), "timestamp", instant(2024, 3, 1, 0, 0, 0, 0, shanghai)), shanghaiOpts),
		zero(StringValue("0000-00-00 00:00:00"), "timestamp"),
		fail(IntValue(1709287200000), "timestamp", "an integer is not a timestamp"),
		fail(StringValue("2024-03-01T10:00:00Q"), "timestamp", "not a date and time"),
	}
	if ny != nil {
		nyOpts := CoerceOptions{Zone: ny}
		cases = append(cases,
			with(ok(StringValue("2024-07-01 10:00:00"), "timestamp", instant(2024, 7, 1, 14, 0, 0, 0, time.UTC)), nyOpts),
			with(ok(StringValue("2024-01-01 10:00:00"), "timestamp", instant(2024, 1, 1, 15, 0, 0, 0, time.UTC)), nyOpts),
			with(ok(instant(2024, 7, 1, 14, 0, 0, 0, time.UTC), "datetime", wall(2024, 7, 1, 10, 0, 0, 0)), nyOpts),
			// 02:30 does not exist on 2024-03-10: the instant time.Date picks.
			with(ok(StringValue("2024-03-10 02:30:00"), "timestamp", TimestampOf(time.Date(2024, 3, 10, 2, 30, 0, 0, ny))), nyOpts),
		)
	}
	runCoerce(t, cases)
}

func TestCoerceTime(t *testing.T) {
	runCoerce(t, []coerceCase{
		ok(StringValue("838:59:59"), "time", TimeMicros(MaxTimeMicros)),
		ok(StringValue("-838:59:59"), "time", TimeMicros(-MaxTimeMicros)),
		ok(StringValue("838:59:59.000000"), "time(6)", TimeMicros(MaxTimeMicros)),
		ok(StringValue("12:34:56.789"), "time(3)", TimeMicros(45296789000)),
		ok(StringValue("1:02:03"), "time", TimeMicros(3723000000)),
		ok(StringValue("-00:00:01.5"), "time(1)", TimeMicros(-1500000)),
		ok(StringValue("00:00:00"), "time", TimeMicros(0)),
		ok(StringValue("100:00:00"), "time", TimeMicros(100*3600*1000000)),
		ok(TimeMicros(-5), "time(6)", TimeMicros(-5)),
		ok(IntValue(1500000), "time(6)", TimeMicros(1500000)), // Debezium MicroTime
		fail(StringValue("839:00:00"), "time", `value "839:00:00" out of range for time`),
		fail(StringValue("-838:59:59.000001"), "time(6)", "out of range for time(6)"),
		fail(TimeMicros(MaxTimeMicros+1), "time", "out of range for time"),
		fail(IntValue(-MaxTimeMicros-1), "time", "out of range for time"),
		fail(StringValue("12:60:00"), "time", `cannot convert string value "12:60:00" to time: not a time`),
		fail(StringValue("12:00:60"), "time", "not a time"),
		fail(StringValue("1234:00:00"), "time", "not a time"),
		fail(StringValue("12:00"), "time", "not a time"),
		fail(StringValue("12:00:00.1234567890"), "time", "not a time"),
		fail(StringValue("12:00:00x"), "time", "not a time"),
		fail(StringValue("--1:00:00"), "time", "not a time"),
		fail(StringValue(""), "time", "not a time"),
		fail(wall(2024, 1, 1, 0, 0, 0, 0), "time", "cannot convert datetime"),
	})
}

func TestCoerceString(t *testing.T) {
	runCoerce(t, []coerceCase{
		ok(StringValue("héllo 😀"), "varchar(10)", StringValue("héllo 😀")),
		ok(StringValue(""), "char(3)", StringValue("")),
		ok(StringValue(`{"a": [1, 2.50]}`), "json", StringValue(`{"a": [1, 2.50]}`)),
		ok(BytesValue([]byte("héllo")), "text", StringValue("héllo")),
		ok(IntValue(5), "varchar(3)", StringValue("5")),
		ok(UintValue(math.MaxUint64), "text", StringValue("18446744073709551615")),
		ok(FloatValue(1.5), "json", StringValue("1.5")),
		ok(DecimalValue("12.30"), "json", StringValue("12.30")),
		ok(BoolValue(true), "json", StringValue("true")),
		fail(StringValue("\xff"), "varchar(3)", "invalid UTF-8"),
		fail(BytesValue([]byte{0xff}), "text", "cannot convert bytes value 0xff to text: invalid UTF-8"),
		fail(DecimalValue("x"), "text", "not a decimal number"),
		fail(DateDays(0), "varchar(10)", "cannot convert date value 1970-01-01 to varchar(10)"),
	})
}

func TestCoerceEnumSet(t *testing.T) {
	const enum = "enum('small','medium','large')"
	const set = "set('a','b','c')"
	runCoerce(t, []coerceCase{
		ok(StringValue("small"), enum, StringValue("small")),
		ok(StringValue(""), enum, StringValue("")),
		ok(IntValue(2), enum, StringValue("medium")),
		ok(IntValue(0), enum, StringValue("")),
		ok(DecimalValue("3"), enum, StringValue("large")),
		ok(StringValue("anything"), "enum", StringValue("anything")),
		fail(StringValue("Small"), enum, `cannot convert string value "Small" to `+enum+": not one of the labels"),
		fail(StringValue("2"), enum, "not one of the labels"),
		fail(IntValue(4), enum, "value 4 out of range for "+enum),
		fail(IntValue(-1), enum, "out of range"),
		fail(FloatValue(1), enum, "cannot convert float"),
		fail(DecimalValue("1.5"), enum, "not an integer"),

		ok(StringValue("a,c"), set, StringValue("a,c")),
		ok(StringValue("c,a"), set, StringValue("a,c")),
		ok(StringValue("b,a,b"), set, StringValue("a,b")),
		ok(StringValue(""), set, StringValue("")),
		ok(IntValue(5), set, StringValue("a,c")),
		ok(IntValue(0), set, StringValue("")),
		ok(UintValue(7), set, StringValue("a,b,c")),
		ok(StringValue("x,y"), "set", StringValue("x,y")),
		fail(StringValue("d"), set, "not a set of the labels"),
		fail(StringValue("a,"), set, "not a set of the labels"),
		fail(StringValue("a, b"), set, "not a set of the labels"),
		fail(IntValue(8), set, "value 8 out of range for "+set),
		fail(IntValue(-1), set, "out of range"),
		fail(UintValue(math.MaxUint64), set, "out of range"),
		ok(DecimalValue("3"), set, StringValue("a,b")),
		fail(DecimalValue("99999999999999999999999"), set, "out of range"),
		fail(BytesValue([]byte("a")), set, "cannot convert bytes"),
	})
}

func TestCoerceBinary(t *testing.T) {
	runCoerce(t, []coerceCase{
		ok(BytesValue([]byte{1, 2}), "varbinary(4)", BytesValue([]byte{1, 2})),
		ok(BytesValue([]byte{1}), "binary(4)", BytesValue([]byte{1, 0, 0, 0})),
		ok(BytesValue([]byte{1, 2, 3, 4}), "binary(4)", BytesValue([]byte{1, 2, 3, 4})),
		ok(BytesValue(nil), "blob", BytesValue(nil)),
		ok(StringValue("é"), "blob", BytesValue([]byte{0xc3, 0xa9})),
		with(ok(StringValue("AP8="), "blob", BytesValue([]byte{0, 0xff})), base64Opts),
		with(ok(StringValue("AP8"), "varbinary(2)", BytesValue([]byte{0, 0xff})), base64Opts),
		with(ok(StringValue(""), "blob", BytesValue(nil)), base64Opts),
		with(ok(StringValue("\u00ff\u0000é"), "blob", BytesValue([]byte{0xff, 0, 0xe9})), latin1Opts),
		with(ok(StringValue("ab"), "binary(4)", BytesValue([]byte("ab\x00\x00"))), latin1Opts),
		with(fail(StringValue("!!"), "blob", `cannot convert string value "!!" to blob: not base64`), base64Opts),
		with(fail(StringValue("€"), "blob", "not ISO-8859-1 text"), latin1Opts),
		fail(IntValue(1), "blob", "cannot convert int value 1 to blob"),
	})
}

// TestCoerceIdempotent checks that coerced values coerce to themselves.
func TestCoerceIdempotent(t *testing.T) {
	for r, row := range typeRows {
		types := typeColumnTypes(t)
		for i, v := range row.in {
			cv, _, err := Coerce(v, types[i], shanghaiOpts)
			if err != nil {
				t.Fatal(err)
			}
			again, zero, err := Coerce(cv, types[i], shanghaiOpts)
			if err != nil || zero || !again.Equal(cv) {
				t.Errorf("row %d %s: Coerce(%v) = %v, %v, %v", r, typeColumns[i].name, cv, again, zero, err)
			}
		}
	}
}

func BenchmarkCoerce(b *testing.B) {
	cases := []struct {
		name string
		v    Value
		typ  string
	}{
		{"int", IntValue(12345), "int"},
		{"text-int", StringValue("12345"), "int"},
		{"text-decimal", StringValue("12345.67"), "decimal(10,2)"},
		{"text-decimal-rescale", StringValue("12345.6"), "decimal(10,2)"},
		{"text-datetime", StringValue("2024-03-01 10:00:00.123456"), "datetime(6)"},
		{"text-timestamp-zone", StringValue("2024-03-01 10:00:00"), "timestamp"},
		{"string", StringValue("a string of some length"), "varchar(255)"},
	}
	for _, c := range cases {
		typ := mustType(b, c.typ)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Coerce(c.v, typ, shanghaiOpts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestTyped(t *testing.T) {
	tiny := Type{Kind: TinyInt}
	ubig := Type{Kind: BigInt, Unsigned: true}
	dec := Type{Kind: Decimal, Precision: 10, Scale: 2}
	for _, c := range []struct {
		v  Value
		t  Type
		ok bool
	}{
		{Value{}, tiny, true},
		{IntValue(127), tiny, true},
		{IntValue(128), tiny, false},
		{IntValue(-1), ubig, false}, // Debezium's wrapped long: Coerce's
		{StringValue("1"), tiny, false},
		{DecimalValue("12.30"), dec, true},
		{DecimalValue("12.3"), dec, false},
		{DecimalValue("-0.00"), dec, false},
		{TimestampMicros(0), Type{Kind: Timestamp}, true},
		{TimestampMicros(0), Type{Kind: DateTime}, false},
		{DateTimeMicros(1 << 62), Type{Kind: DateTime}, false},
		{DateDays(19000), Type{Kind: Date}, true},
		{StringValue("x"), Type{Kind: VarChar}, false},
	} {
		got := Value{Kind: StringV, S: "left alone"}
		ok := Typed(&got, &c.v, &c.t)
		if !ok && (got.Kind != StringV || got.S != "left alone") {
			t.Errorf("Typed(%s %v, %s) reported false but set dst to %v", c.v.Kind, c.v, c.t, got)
		}
		if ok != c.ok {
			t.Errorf("Typed(%s %v, %s): ok %v, want %v", c.v.Kind, c.v, c.t, ok, c.ok)
			continue
		}
		if ok {
			want, zero, err := Coerce(c.v, c.t, CoerceOptions{})
			if err != nil || zero || !want.Equal(got) || want.S != got.S {
				t.Errorf("Typed(%s %v, %s) = %v, Coerce gives %v, %v, %v", c.v.Kind, c.v, c.t, got, want, zero, err)
			}
		}
	}
}
