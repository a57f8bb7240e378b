package schema

import (
	"math"
	"testing"
	"time"
)

// unixDays is the DATE of y-m-d computed with package time, independent of
// daysFromCivil.
func unixDays(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// wall is the DATETIME of a wall clock, computed with package time.
func wall(y int, m time.Month, d, hh, mm, ss, us int) Value {
	return DateTimeMicros(time.Date(y, m, d, hh, mm, ss, us*1000, time.UTC).UnixMicro())
}

// instant is the TIMESTAMP of an instant, computed with package time.
func instant(y int, m time.Month, d, hh, mm, ss, us int, loc *time.Location) Value {
	return TimestampMicros(time.Date(y, m, d, hh, mm, ss, us*1000, loc).UnixMicro())
}

func TestValueConstructors(t *testing.T) {
	cases := []struct {
		got, want Value
	}{
		{NullValue(), Value{}},
		{IntValue(-5), Value{Kind: IntV, I: -5}},
		{UintValue(5), Value{Kind: IntV, I: 5}},
		{UintValue(math.MaxInt64), Value{Kind: IntV, I: math.MaxInt64}},
		{UintValue(math.MaxInt64 + 1), Value{Kind: UintV, U: math.MaxInt64 + 1}},
		{FloatValue(1.5), Value{Kind: FloatV, F: 1.5}},
		{DecimalValue("-1.20"), Value{Kind: DecimalV, S: "-1.20"}},
		{StringValue("x"), Value{Kind: StringV, S: "x"}},
		{BytesValue([]byte{1}), Value{Kind: BytesV, B: []byte{1}}},
		{BoolValue(true), Value{Kind: BoolV, I: 1}},
		{BoolValue(false), Value{Kind: BoolV, I: 0}},
		{DateDays(3), Value{Kind: DateV, I: 3}},
		{DateTimeMicros(3), Value{Kind: DateTimeV, I: 3}},
		{TimestampMicros(3), Value{Kind: TimestampV, I: 3}},
		{TimeMicros(-3), Value{Kind: TimeV, I: -3}},
		{DateOf(2024, 2, 29), DateDays(unixDays(2024, 2, 29))},
		{DateOf(1000, 1, 1), DateDays(unixDays(1000, 1, 1))},
		{DateOf(1, 1, 1), DateDays(unixDays(1, 1, 1))},
		{DateTimeOf(time.Date(2024, 3, 10, 2, 30, 0, 123456789, time.FixedZone("X", 8*3600))), wall(2024, 3, 10, 2, 30, 0, 123456)},
		{TimestampOf(time.Date(2024, 3, 10, 2, 30, 0, 123456789, time.FixedZone("X", 8*3600))), instant(2024, 3, 9, 18, 30, 0, 123456, time.UTC)},
		{DateTimeOf(time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)), DateTimeMicros(-1)},
	}
	for i, c := range cases {
		if !c.got.Equal(c.want) || c.got.Kind != c.want.Kind {
			t.Errorf("%d: got %#v, want %#v", i, c.got, c.want)
		}
	}
}

func TestValueString(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{NullValue(), "NULL"},
		{IntValue(-5), "-5"},
		{UintValue(math.MaxUint64), "18446744073709551615"},
		{FloatValue(0.1), "0.1"},
		{FloatValue(1e21), "1e+21"},
		{FloatValue(math.NaN()), "NaN"},
		{DecimalValue("-12.30"), "-12.30"},
		{StringValue(`a"b`), `"a\"b"`},
		{StringValue("😀"), `"😀"`},
		{BytesValue([]byte{0x00, 0xff}), "0x00ff"},
		{BytesValue(nil), "0x"},
		{BoolValue(true), "true"},
		{BoolValue(false), "false"},
		{DateDays(unixDays(2024, 3, 1)), "2024-03-01"},
		{DateDays(unixDays(1000, 1, 1)), "1000-01-01"},
		{DateDays(unixDays(9999, 12, 31)), "9999-12-31"},
		{wall(2024, 3, 1, 10, 0, 0, 123456), "2024-03-01 10:00:00.123456"},
		{wall(2024, 3, 1, 10, 0, 0, 0), "2024-03-01 10:00:00"},
		{wall(2024, 3, 1, 10, 0, 0, 500000), "2024-03-01 10:00:00.500000"},
		{DateTimeMicros(-1), "1969-12-31 23:59:59.999999"},
		{instant(2024, 3, 1, 10, 0, 0, 0, time.UTC), "2024-03-01 10:00:00Z"},
		{instant(2024, 3, 1, 10, 0, 0, 1, time.UTC), "2024-03-01 10:00:00.000001Z"},
		{TimeMicros(0), "00:00:00"},
		{TimeMicros(MaxTimeMicros), "838:59:59"},
		{TimeMicros(-MaxTimeMicros), "-838:59:59"},
		{TimeMicros(-1_500_000), "-00:00:01.500000"},
		{TimeMicros(3723_000_001), "01:02:03.000001"},
	}
	for _, c := range cases {
		if got := c.v.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestValueEqual(t *testing.T) {
	equal := [][2]Value{
		{NullValue(), NullValue()},
		{IntValue(1), IntValue(1)},
		{DecimalValue("1.50"), DecimalValue("1.5")},
		{DecimalValue("-0.0"), DecimalValue("0")},
		{DecimalValue("100"), DecimalValue("1e2")},
		{FloatValue(math.NaN()), FloatValue(math.NaN())},
		{BytesValue(nil), BytesValue([]byte{})},
		{StringValue("a"), StringValue("a")},
		{UintValue(math.MaxUint64), UintValue(math.MaxUint64)},
	}
	for _, p := range equal {
		if !p[0].Equal(p[1]) || !p[1].Equal(p[0]) {
			t.Errorf("%v and %v are not equal", p[0], p[1])
		}
	}
	differ := [][2]Value{
		{NullValue(), IntValue(0)},
		{IntValue(1), BoolValue(true)},
		{IntValue(1), DecimalValue("1")},
		{DecimalValue("1.5"), DecimalValue("1.51")},
		{DecimalValue("-1"), DecimalValue("1")},
		{DecimalValue("x"), DecimalValue("y")},
		{FloatValue(0), FloatValue(math.Copysign(0, -1))},
		{DateDays(1), DateTimeMicros(1)},
		{StringValue("a"), BytesValue([]byte("a"))},
		{BytesValue([]byte{0}), BytesValue(nil)},
		{UintValue(math.MaxUint64), UintValue(math.MaxUint64 - 1)},
	}
	for _, p := range differ {
		if p[0].Equal(p[1]) || p[1].Equal(p[0]) {
			t.Errorf("%v and %v are equal", p[0], p[1])
		}
	}
}

func TestCivilDays(t *testing.T) {
	for _, d := range []int64{minDays, -719162, -1, 0, 1, 19723, 2932896, maxDays} {
		y, m, day := civilFromDays(d)
		want := time.Unix(d*86400, 0).UTC()
		if y != want.Year() || time.Month(m) != want.Month() || day != want.Day() {
			t.Errorf("civilFromDays(%d) = %d-%d-%d, want %s", d, y, m, day, want.Format("2006-01-02"))
		}
		if back := daysFromCivil(y, m, day); back != d {
			t.Errorf("daysFromCivil(%d-%d-%d) = %d, want %d", y, m, day, back, d)
		}
	}
}
