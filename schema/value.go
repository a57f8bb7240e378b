package schema

import (
	"bytes"
	"encoding/hex"
	"math"
	"strconv"
	"time"
)

// ValueKind is the representation a Value holds.
type ValueKind uint8

// Value representations. Temporal values are held as numbers so that no
// time zone can creep in after decoding.
const (
	Null       ValueKind = iota
	IntV                 // I: a signed integer
	UintV                // U: an unsigned integer above the int64 range (bigint unsigned)
	FloatV               // F: a float or double
	DecimalV             // S: an exact decimal in plain notation, "-12.30"; from CanonicalDecimal also I: its unscaled value, U: its scale + 1 (0: none carried)
	StringV              // S: text (char, varchar, text, enum label, set labels joined by ",", JSON text, time)
	BytesV               // B: binary data
	BoolV                // I: 0 or 1
	DateV                // I: days since 1970-01-01
	DateTimeV            // I: microseconds since 1970-01-01 00:00:00 of the wall clock (no zone)
	TimestampV           // I: microseconds since the Unix epoch, UTC
	TimeV                // I: microseconds, a MySQL TIME (may be negative, spans ±838:59:59)
)

// Value is one column value of a change.
//
// The zero Value is NULL. Build values with the constructors (Int, Uint,
// Decimal, DateTimeMicros, …) rather than by hand: they keep the
// representation rules above (UintValue gives IntV up to MaxInt64, BoolV
// holds 0 or 1). A Value is small and passed by value; S and B are shared, not
// copied, and must not be modified once a Value holds them.
type Value struct {
	Kind ValueKind
	I    int64
	U    uint64
	F    float64
	S    string
	B    []byte
}

// String names the value kind.
func (k ValueKind) String() string {
	switch k {
	case Null:
		return "null"
	case IntV:
		return "int"
	case UintV:
		return "uint"
	case FloatV:
		return "float"
	case DecimalV:
		return "decimal"
	case StringV:
		return "string"
	case BytesV:
		return "bytes"
	case BoolV:
		return "bool"
	case DateV:
		return "date"
	case DateTimeV:
		return "datetime"
	case TimestampV:
		return "timestamp"
	case TimeV:
		return "time"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// NullValue returns NULL (the zero Value).
func NullValue() Value { return Value{} }

// IntValue returns a signed integer.
func IntValue(i int64) Value { return Value{Kind: IntV, I: i} }

// UintValue returns an unsigned integer: IntV up to math.MaxInt64, UintV above.
func UintValue(u uint64) Value {
	if u <= math.MaxInt64 {
		return Value{Kind: IntV, I: int64(u)}
	}
	return Value{Kind: UintV, U: u}
}

// FloatValue returns a float or double.
func FloatValue(f float64) Value { return Value{Kind: FloatV, F: f} }

// DecimalValue returns an exact decimal written in plain notation ("-12.30").
// The text is not checked here; Coerce checks and rescales it.
func DecimalValue(s string) Value { return Value{Kind: DecimalV, S: s} }

// StringValue returns text.
func StringValue(s string) Value { return Value{Kind: StringV, S: s} }

// BytesValue returns binary data (not copied).
func BytesValue(b []byte) Value { return Value{Kind: BytesV, B: b} }

// BoolValue returns a boolean.
func BoolValue(b bool) Value {
	if b {
		return Value{Kind: BoolV, I: 1}
	}
	return Value{Kind: BoolV}
}

// DateDays returns a DATE: days since 1970-01-01.
func DateDays(days int64) Value { return Value{Kind: DateV, I: days} }

// DateTimeMicros returns a DATETIME: microseconds since 1970-01-01 00:00:00
// of the wall clock, in no time zone.
func DateTimeMicros(us int64) Value { return Value{Kind: DateTimeV, I: us} }

// TimestampMicros returns a TIMESTAMP: microseconds since the Unix epoch.
func TimestampMicros(us int64) Value { return Value{Kind: TimestampV, I: us} }

// TimeMicros returns a MySQL TIME of us microseconds (negative allowed).
func TimeMicros(us int64) Value { return Value{Kind: TimeV, I: us} }

// DateOf returns the DATE y-m-d of the proleptic Gregorian calendar.
func DateOf(y int, m time.Month, d int) Value {
	return DateDays(daysFromCivil(y, int(m), d))
}

// DateTimeOf returns the DATETIME showing t's wall clock in t's own
// location, truncated to microseconds.
func DateTimeOf(t time.Time) Value {
	_, off := t.Zone()
	return DateTimeMicros(t.Unix()*microsPerSecond + int64(off)*microsPerSecond + int64(t.Nanosecond()/1000))
}

// TimestampOf returns the TIMESTAMP of the instant t, truncated to
// microseconds.
func TimestampOf(t time.Time) Value {
	return TimestampMicros(t.Unix()*microsPerSecond + int64(t.Nanosecond()/1000))
}

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.Kind == Null }

// Equal reports whether v and w are the same value of the same kind.
// Decimals compare by number ("1.50" equals "1.5"; text that is not a
// decimal compares as text); floats compare by bits, except that every NaN
// equals every NaN (so 0 and -0 differ); nil and empty bytes are equal.
func (v Value) Equal(w Value) bool {
	if v.Kind != w.Kind {
		return false
	}
	switch v.Kind {
	case Null:
		return true
	case UintV:
		return v.U == w.U
	case FloatV:
		if math.IsNaN(v.F) && math.IsNaN(w.F) {
			return true
		}
		return math.Float64bits(v.F) == math.Float64bits(w.F)
	case DecimalV:
		if v.S == w.S {
			return true
		}
		var a, b decNum
		if a.parse(v.S) != nil || b.parse(w.S) != nil {
			return false
		}
		return a.equal(&b)
	case StringV:
		return v.S == w.S
	case BytesV:
		return bytes.Equal(v.B, w.B)
	}
	return v.I == w.I
}

// String renders v for error messages and golden files:
//
//	NULL                              NULL
//	IntV, UintV                       -5, 18446744073709551615
//	FloatV                            shortest text that round-trips: 0.1, 1e+21, NaN
//	DecimalV                          its text, unquoted: -12.30
//	StringV                           Go-quoted: "héllo"
//	BytesV                            0x00ff (0x when empty)
//	BoolV                             true, false
//	DateV                             2024-03-01
//	DateTimeV                         2024-03-01 10:00:00, 2024-03-01 10:00:00.123456
//	TimestampV                        2024-03-01 10:00:00Z, 2024-03-01 10:00:00.123456Z (UTC)
//	TimeV                             -838:59:59, 01:02:03.500000
//
// Fractional seconds are shown, as six digits, only when not zero.
func (v Value) String() string {
	switch v.Kind {
	case Null:
		return "NULL"
	case IntV:
		return strconv.FormatInt(v.I, 10)
	case UintV:
		return strconv.FormatUint(v.U, 10)
	case FloatV:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case DecimalV:
		return v.S
	case StringV:
		return strconv.Quote(v.S)
	case BytesV:
		return "0x" + hex.EncodeToString(v.B)
	case BoolV:
		if v.I != 0 {
			return "true"
		}
		return "false"
	case DateV:
		return string(appendDate(nil, v.I))
	case DateTimeV:
		return string(appendDateTime(nil, v.I, -1))
	case TimestampV:
		return string(append(appendDateTime(nil, v.I, -1), 'Z'))
	case TimeV:
		return string(appendTime(nil, v.I, -1))
	}
	return v.Kind.String() + "(?)"
}
