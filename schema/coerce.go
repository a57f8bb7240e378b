package schema

import (
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// BinaryText says how a producer writes binary column values as text.
type BinaryText uint8

// How binary values arrive as text.
const (
	// Raw: the text's UTF-8 bytes are the value (rowjson).
	Raw BinaryText = iota
	// Base64: standard base64, padded or not (Maxwell; Debezium without a
	// schema, binary.handling.mode=bytes). Also BIT(n) text, which
	// Debezium writes as base64 of little-endian bytes.
	Base64
	// Latin1: each character U+0000…U+00FF is one byte (Canal, which
	// decodes binary as ISO-8859-1).
	Latin1
)

// CoerceOptions says what Coerce cannot tell from a value alone: how the
// producer wrote things. The zero value suits a producer that writes
// TIMESTAMP in UTC and binary as raw text.
type CoerceOptions struct {
	// Zone is the time zone of TIMESTAMP text without an offset (Canal
	// writes TIMESTAMP in its JVM's zone), and the zone DATETIME and
	// TIMESTAMP values are converted through when a value of one lands in
	// a column of the other. nil means UTC.
	Zone *time.Location
	// Binary is how text destined for binary columns is encoded.
	Binary BinaryText
}

// CoerceError is a value that does not fit the column type. Its message
// names the value and the type, e.g. "value 300 out of range for tinyint";
// the caller adds the table and column.
type CoerceError struct {
	Value      Value
	Type       Type
	OutOfRange bool
	Reason     string // why, when not OutOfRange; may be empty
}

// Error names the value and the type.
func (e *CoerceError) Error() string {
	if e.OutOfRange {
		return "value " + e.Value.String() + " out of range for " + e.Type.String()
	}
	msg := "cannot convert " + e.Value.Kind.String() + " value " + e.Value.String() + " to " + e.Type.String()
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

func rangeErr(v Value, t Type) error { return &CoerceError{Value: v, Type: t, OutOfRange: true} }

func convErr(v Value, t Type, reason string) error {
	return &CoerceError{Value: v, Type: t, Reason: reason}
}

// Coerce converts a decoded value to column type t, so the Parquet value is
// the same whatever the producer. It returns the value in the one
// representation ParquetValue takes for t:
//
//	tinyint … bigint, year        IntV (bigint unsigned above MaxInt64: UintV)
//	decimal(p,s)                  DecimalV, plain, exactly s fractional digits, no "-0"
//	float, double                 FloatV (float rounded to float32 precision)
//	bit(1), boolean               BoolV
//	bit(n>1)                      IntV, or UintV above MaxInt64
//	date, datetime, timestamp     DateV, DateTimeV, TimestampV
//	time                          TimeV
//	char … json, enum, set        StringV (set members in declaration order)
//	binary, varbinary, blob       BytesV (binary(n) right-padded with 0x00 to n bytes)
//
// NULL stays NULL. zeroDate is true when v was a date that is not a
// calendar date — zero ("0000-00-00"), partly zero ("2024-00-01", year 0)
// or past the end of its month ("2024-02-30", ALLOW_INVALID_DATES) — or a
// zero YEAR; the value is then NULL and the caller counts it (DESIGN §7).
// A type of Unknown kind returns v unchanged (see Infer).
//
// What each target accepts (anything else is a *CoerceError):
//
//   - Integers: IntV, UintV, BoolV, integral DecimalV or StringV ("12",
//     "-3", "12.00", "1e3"), FloatV with no fractional part up to ±2^53.
//     Each MySQL kind and signedness has its own range (tinyint
//     -128…127, tinyint unsigned 0…255, …). A negative IntV in a bigint
//     unsigned column is Debezium's wrapped long and is read as uint64.
//   - Decimal: IntV, UintV, BoolV, FloatV (its shortest text), DecimalV and
//     StringV (plain or exponent notation). The value is rescaled to the
//     column's scale exactly; when it has more fractional digits than
//     the scale (float noise such as 0.30000000000000004, or a narrower
//     column) it is rounded half away from zero, as MySQL rounds on
//     insert. More integer digits than p-s is an error.
//   - Float, double: FloatV, IntV, UintV, BoolV, DecimalV, StringV
//     (finite numbers; a float out of float32 range is an error).
//   - Date: DateV; IntV as days since the epoch (Debezium); DateTimeV at
//     midnight; text "YYYY-MM-DD" (a time part must be midnight).
//   - Datetime: DateTimeV; DateV (midnight); TimestampV (its wall clock in
//     Zone); IntV as epoch milliseconds for datetime(0…3) and
//     microseconds for datetime(4…6) (Debezium's Timestamp and
//     MicroTimestamp); text "YYYY-MM-DD[( |T)HH:MM[:SS[.fffffffff]]]",
//     and text with "Z" or an offset, read as an instant and shown in Zone.
//   - Timestamp: TimestampV; DateTimeV and DateV (read in Zone); the same
//     text, read in Zone unless it carries "Z" or an offset.
//   - Time: TimeV; IntV as microseconds (Debezium's MicroTime); text
//     "[-]H:MM:SS[.ffffff]" with up to three hour digits. The range is
//     ±838:59:59.
//   - Year: IntV, integral DecimalV or StringV; 1901…2155, and 0 (the zero
//     year, which gives NULL with zeroDate).
//   - Char, varchar, text, json: StringV as is (JSON text is not
//     re-formatted); BytesV holding UTF-8; IntV, UintV, FloatV, DecimalV,
//     BoolV as their text. Invalid UTF-8 is an error (Parquet STRING).
//   - Enum: StringV that is one of the labels or "" (MySQL's error value);
//     IntV or integral DecimalV as the 1-based index, 0 for "". Without
//     labels in t any text is accepted. (Canal's index text is mapped by
//     its decoder, which has the column type; text is always a label here,
//     so coercing twice changes nothing.)
//   - Set: StringV of comma-separated labels (given in any order, written
//     in declaration order, duplicates dropped); IntV, UintV or integral
//     DecimalV as the bitmask.
//   - Binary, varbinary, blob: BytesV; StringV encoded per o.Binary.
//   - Bit(1), boolean: BoolV, IntV 0 or 1, text "0", "1", "true",
//     "false" (any case), one byte 0x00 or 0x01.
//   - Bit(n>1): IntV ≥ 0, UintV, integral text, BytesV as little-endian
//     bytes (Debezium), StringV as base64 little-endian bytes when
//     o.Binary is Base64; below 2^n.
//
// Digits past microseconds in fractional seconds are dropped (MySQL has at
// most six; producers that write nine pad with zeros). Values finer than
// the column's fsp are kept as they are.
func Coerce(v Value, t Type, o CoerceOptions) (Value, bool, error) {
	if v.Kind == Null {
		return v, false, nil
	}
	switch t.Kind {
	case Unknown:
		return v, false, nil
	case TinyInt, SmallInt, MediumInt, Int, BigInt:
		out, err := coerceInt(v, t)
		return out, false, err
	case Year:
		return coerceYear(v, t)
	case Decimal:
		out, err := coerceDecimal(v, t)
		return out, false, err
	case Float, Double:
		out, err := coerceFloat(v, t)
		return out, false, err
	case Bool:
		out, err := coerceBool(v, t)
		return out, false, err
	case Bit:
		if t.Precision <= 1 {
			out, err := coerceBool(v, t)
			return out, false, err
		}
		out, err := coerceBits(v, t, o)
		return out, false, err
	case Date:
		return coerceDate(v, t)
	case DateTime, Timestamp:
		return coerceDateTime(v, t, o)
	case Time:
		out, err := coerceTime(v, t)
		return out, false, err
	case Char, VarChar, Text, JSON:
		out, err := coerceString(v, t)
		return out, false, err
	case Enum:
		out, err := coerceEnum(v, t)
		return out, false, err
	case Set:
		out, err := coerceSet(v, t)
		return out, false, err
	case Binary, VarBinary, Blob:
		out, err := coerceBinary(v, t, o)
		return out, false, err
	}
	return Value{}, false, convErr(v, t, "unsupported column type")
}

// Typed sets *dst to what Coerce(*v, *t, o) returns, whatever o, for the
// commonest values, those already in t's representation that need only a
// range check: integers, canonical decimals, dates, datetimes and
// timestamps. It takes pointers and skips the dispatch, being called for
// every value of a row; it reports false, leaving *dst alone, for any
// other value, which Coerce then converts. zeroDate is false and the error
// nil whenever it reports true. dst may be v. A decimal that carries its
// unscaled value (CanonicalDecimal) keeps it where t has its scale.
func Typed(dst, v *Value, t *Type) bool {
	switch {
	case v.Kind == Null:
		*dst = Value{}
		return true
	case v.Kind == IntV && t.Kind >= TinyInt && t.Kind <= BigInt:
		lo, hi := intRange(t.Kind, t.Unsigned)
		if v.I >= lo && (v.I < 0 || uint64(v.I) <= hi) {
			*dst = *v
			return true
		}
	case v.Kind == DecimalV && t.Kind == Decimal:
		if u, ok := v.unscaledAt(t.Scale); ok && t.Scale <= t.Precision && (t.Precision > 18 || u < pow10[t.Precision] && u > -pow10[t.Precision]) {
			*dst = *v // canonical at t's scale and within its precision
			return true
		}
		if isCanonicalDecimal(v.S, t.Precision, t.Scale) {
			*dst = Value{Kind: DecimalV, S: v.S}
			return true
		}
	case v.Kind == TimestampV && t.Kind == Timestamp:
		if checkMicros(v.I) {
			*dst = TimestampMicros(v.I)
			return true
		}
	case v.Kind == DateTimeV && t.Kind == DateTime:
		if checkMicros(v.I) {
			*dst = DateTimeMicros(v.I)
			return true
		}
	case v.Kind == DateV && t.Kind == Date:
		if checkDays(v.I) {
			*dst = DateDays(v.I)
			return true
		}
	}
	return false
}

// intRange returns the range of an integer kind.
func intRange(k Kind, unsigned bool) (lo int64, hi uint64) {
	var bitsN uint
	switch k {
	case TinyInt:
		bitsN = 8
	case SmallInt:
		bitsN = 16
	case MediumInt:
		bitsN = 24
	case Int:
		bitsN = 32
	default:
		bitsN = 64
	}
	if unsigned {
		return 0, math.MaxUint64 >> (64 - bitsN)
	}
	return -1 << (bitsN - 1), 1<<(bitsN-1) - 1
}

// intStatus says whether a value is an integer.
type intStatus uint8

const (
	intOK intStatus = iota
	intWrongKind
	intNotNumber
	intFraction
	intInexact
	intOverflow // an integer beyond ±(2^64-1)
)

// integerErr is the error for a value that integer did not accept.
func integerErr(v Value, t Type, st intStatus) error {
	switch st {
	case intOverflow:
		return rangeErr(v, t)
	case intNotNumber:
		return convErr(v, t, "not a number")
	case intFraction:
		return convErr(v, t, "not an integer")
	case intInexact:
		return convErr(v, t, "a float above 2^53 is not exact")
	}
	return convErr(v, t, "")
}

// integer reads v as a signed integer: sign and magnitude, without range
// checks.
func integer(v Value) (neg bool, mag uint64, st intStatus) {
	switch v.Kind {
	case IntV, BoolV:
		if v.I < 0 {
			return true, uint64(-v.I), intOK
		}
		return false, uint64(v.I), intOK
	case UintV:
		return false, v.U, intOK
	case FloatV:
		f := v.F
		if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
			return false, 0, intFraction
		}
		if math.Abs(f) > 1<<53 {
			return false, 0, intInexact
		}
		if f < 0 {
			return true, uint64(-f), intOK
		}
		return false, uint64(f), intOK
	case DecimalV, StringV:
		s := v.S
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if n < 0 {
				return true, uint64(-n), intOK
			}
			return false, uint64(n), intOK
		}
		var d decNum
		if err := d.parse(s); err != nil {
			return false, 0, intNotNumber
		}
		if !d.isInteger() {
			return false, 0, intFraction
		}
		u, fits := d.uint64()
		if !fits {
			return d.neg, 0, intOverflow
		}
		return d.neg, u, intOK
	}
	return false, 0, intWrongKind
}

func coerceInt(v Value, t Type) (Value, error) {
	lo, hi := intRange(t.Kind, t.Unsigned)
	if v.Kind == IntV {
		switch {
		case v.I < 0 && t.Unsigned && t.Kind == BigInt:
			return Value{Kind: UintV, U: uint64(v.I)}, nil // Debezium's wrapped long
		case v.I >= lo && (v.I < 0 || uint64(v.I) <= hi):
			return v, nil
		}
		return Value{}, rangeErr(v, t)
	}
	neg, mag, st := integer(v)
	if st != intOK {
		return Value{}, integerErr(v, t, st)
	}
	if neg {
		if mag == 0 {
			return IntValue(0), nil
		}
		if t.Unsigned || mag > uint64(-(lo+1))+1 {
			return Value{}, rangeErr(v, t)
		}
		return IntValue(int64(-mag)), nil
	}
	if mag > hi {
		return Value{}, rangeErr(v, t)
	}
	return UintValue(mag), nil
}

func coerceYear(v Value, t Type) (Value, bool, error) {
	neg, mag, st := integer(v)
	if v.Kind == BoolV {
		st = intWrongKind
	}
	if st != intOK {
		return Value{}, false, integerErr(v, t, st)
	}
	switch {
	case mag == 0:
		return Value{}, true, nil
	case neg || mag < 1901 || mag > 2155:
		return Value{}, false, rangeErr(v, t)
	}
	return IntValue(int64(mag)), false, nil
}

func coerceDecimal(v Value, t Type) (Value, error) {
	p, sc := t.Precision, t.Scale
	var d decNum
	switch v.Kind {
	case DecimalV, StringV:
		if isCanonicalDecimal(v.S, p, sc) {
			return Value{Kind: DecimalV, S: v.S}, nil
		}
		if err := d.parse(v.S); err != nil {
			return Value{}, convErr(v, t, err.Error())
		}
	case IntV, BoolV:
		if v.I < 0 {
			d.setUint(true, uint64(-v.I))
		} else {
			d.setUint(false, uint64(v.I))
		}
	case UintV:
		d.setUint(false, v.U)
	case FloatV:
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
			return Value{}, convErr(v, t, "not a finite number")
		}
		var tmp [32]byte
		if err := d.parse(string(strconv.AppendFloat(tmp[:0], v.F, 'e', -1, 64))); err != nil {
			return Value{}, convErr(v, t, err.Error())
		}
	default:
		return Value{}, convErr(v, t, "")
	}
	d.round(sc)
	if d.intDigits() > p-sc {
		return Value{}, rangeErr(v, t)
	}
	return DecimalValue(string(d.appendText(make([]byte, 0, d.intDigits()+sc+3), sc))), nil
}

func coerceFloat(v Value, t Type) (Value, error) {
	var f float64
	switch v.Kind {
	case FloatV:
		f = v.F
	case IntV, BoolV:
		f = float64(v.I)
	case UintV:
		f = float64(v.U)
	case DecimalV, StringV:
		bitSize := 64
		if t.Kind == Float {
			bitSize = 32 // round once, to float32
		}
		if !isNumberText(v.S) {
			return Value{}, convErr(v, t, "not a number")
		}
		var err error
		f, err = strconv.ParseFloat(v.S, bitSize)
		if errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0) {
			return Value{}, rangeErr(v, t)
		}
		if err != nil {
			return Value{}, convErr(v, t, "not a number")
		}
	default:
		return Value{}, convErr(v, t, "")
	}
	if t.Kind == Float {
		f32 := float32(f)
		if math.IsInf(float64(f32), 0) && !math.IsInf(f, 0) {
			return Value{}, rangeErr(v, t)
		}
		f = float64(f32)
	}
	return FloatValue(f), nil
}

// isNumberText reports whether s is decimal number text: no NaN, Inf, hex
// or underscores, which strconv.ParseFloat also takes.
func isNumberText(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
		default:
			return false
		}
	}
	return digit
}

func coerceBool(v Value, t Type) (Value, error) {
	switch v.Kind {
	case BoolV:
		return BoolValue(v.I != 0), nil
	case IntV:
		if v.I == 0 || v.I == 1 {
			return BoolValue(v.I == 1), nil
		}
		return Value{}, rangeErr(v, t)
	case UintV:
		return Value{}, rangeErr(v, t)
	case DecimalV, StringV:
		switch {
		case v.S == "0" || strings.EqualFold(v.S, "false"):
			return BoolValue(false), nil
		case v.S == "1" || strings.EqualFold(v.S, "true"):
			return BoolValue(true), nil
		}
		switch neg, mag, st := integer(v); st {
		case intOK:
			if mag == 0 || (!neg && mag == 1) {
				return BoolValue(mag == 1), nil
			}
			return Value{}, rangeErr(v, t)
		case intOverflow:
			return Value{}, rangeErr(v, t)
		}
		return Value{}, convErr(v, t, "not a boolean")
	case BytesV:
		if len(v.B) == 1 && v.B[0] <= 1 {
			return BoolValue(v.B[0] == 1), nil
		}
		return Value{}, rangeErr(v, t)
	}
	return Value{}, convErr(v, t, "")
}

func coerceBits(v Value, t Type, o CoerceOptions) (Value, error) {
	var u uint64
	switch v.Kind {
	case IntV, BoolV:
		if v.I < 0 {
			return Value{}, rangeErr(v, t)
		}
		u = uint64(v.I)
	case UintV:
		u = v.U
	case BytesV:
		le, err := littleEndian(v.B)
		if err != nil {
			return Value{}, rangeErr(v, t)
		}
		u = le
	case StringV, DecimalV:
		if v.Kind == StringV && o.Binary == Base64 {
			b, err := decodeBase64(v.S)
			if err != nil {
				return Value{}, convErr(v, t, "not base64")
			}
			le, err := littleEndian(b)
			if err != nil {
				return Value{}, rangeErr(v, t)
			}
			u = le
			break
		}
		neg, mag, st := integer(v)
		if st != intOK {
			return Value{}, integerErr(v, t, st)
		}
		if neg && mag != 0 {
			return Value{}, rangeErr(v, t)
		}
		u = mag
	default:
		return Value{}, convErr(v, t, "")
	}
	if t.Precision < 64 && u>>uint(t.Precision) != 0 {
		return Value{}, rangeErr(v, t)
	}
	return UintValue(u), nil
}

var errTooLong = errors.New("more than 8 bytes")

// littleEndian reads up to 8 little-endian bytes; longer input is allowed
// when the extra high bytes are zero.
func littleEndian(b []byte) (uint64, error) {
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		if i >= 8 {
			if b[i] != 0 {
				return 0, errTooLong
			}
			continue
		}
		u = u<<8 | uint64(b[i])
	}
	return u, nil
}

func decodeBase64(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// checkDays and checkMicros check that a temporal value lies within
// 0001-01-01 … 9999-12-31 23:59:59.999999. Values outside are unit
// mistakes (milliseconds read as microseconds, …), not dates.
func checkDays(days int64) bool { return days >= minDays && days <= maxDays }

func checkMicros(us int64) bool { return us >= minMicros && us <= maxMicros }

func coerceDate(v Value, t Type) (Value, bool, error) {
	var days int64
	switch v.Kind {
	case DateV, IntV:
		days = v.I
	case DateTimeV:
		d, rem := floorDivMod(v.I, microsPerDay)
		if rem != 0 {
			return Value{}, false, convErr(v, t, "has a time of day")
		}
		days = d
	case StringV:
		c, err := parseCivil(v.S, false)
		if err != nil {
			return Value{}, false, convErr(v, t, "not a date")
		}
		if c.notCalendar() {
			return Value{}, true, nil
		}
		if c.hour != 0 || c.minute != 0 || c.sec != 0 || c.micro != 0 {
			return Value{}, false, convErr(v, t, "has a time of day")
		}
		days = daysFromCivil(c.year, c.month, c.day)
	default:
		return Value{}, false, convErr(v, t, "")
	}
	if !checkDays(days) {
		return Value{}, false, rangeErr(v, t)
	}
	return DateDays(days), false, nil
}

func coerceDateTime(v Value, t Type, o CoerceOptions) (Value, bool, error) {
	toTimestamp := t.Kind == Timestamp
	var us int64
	switch v.Kind {
	case DateTimeV:
		us = v.I
		if toTimestamp {
			us = wallToInstant(us, o.Zone)
		}
	case TimestampV:
		us = v.I
		if !toTimestamp {
			us = instantToWall(us, o.Zone)
		}
	case DateV:
		if !checkDays(v.I) {
			return Value{}, false, rangeErr(v, t)
		}
		us = v.I * microsPerDay
		if toTimestamp {
			us = wallToInstant(us, o.Zone)
		}
	case IntV:
		if toTimestamp {
			return Value{}, false, convErr(v, t, "an integer is not a timestamp")
		}
		us = v.I
		if t.Scale <= 3 {
			if us > math.MaxInt64/1000 || us < math.MinInt64/1000 {
				return Value{}, false, rangeErr(v, t)
			}
			us *= 1000
		}
	case StringV:
		c, err := parseCivil(v.S, true)
		if err != nil {
			return Value{}, false, convErr(v, t, "not a date and time")
		}
		if c.notCalendar() {
			return Value{}, true, nil
		}
		if toTimestamp {
			us = c.instantMicros(o.Zone)
		} else {
			us = c.wallMicros()
			if c.zoned {
				us = instantToWall(c.instantMicros(nil), o.Zone)
			}
		}
	default:
		return Value{}, false, convErr(v, t, "")
	}
	if !checkMicros(us) {
		return Value{}, false, rangeErr(v, t)
	}
	if toTimestamp {
		return TimestampMicros(us), false, nil
	}
	return DateTimeMicros(us), false, nil
}

func coerceTime(v Value, t Type) (Value, error) {
	var us int64
	switch v.Kind {
	case TimeV, IntV:
		us = v.I
	case StringV:
		var ok bool
		if us, ok = parseTimeText(v.S); !ok {
			return Value{}, convErr(v, t, "not a time")
		}
	default:
		return Value{}, convErr(v, t, "")
	}
	if us > MaxTimeMicros || us < -MaxTimeMicros {
		return Value{}, rangeErr(v, t)
	}
	return TimeMicros(us), nil
}

func coerceString(v Value, t Type) (Value, error) {
	switch v.Kind {
	case StringV:
		if !utf8.ValidString(v.S) {
			return Value{}, convErr(v, t, "invalid UTF-8")
		}
		return v, nil
	case BytesV:
		if !utf8.Valid(v.B) {
			return Value{}, convErr(v, t, "invalid UTF-8")
		}
		return StringValue(string(v.B)), nil
	case DecimalV:
		var d decNum
		if err := d.parse(v.S); err != nil {
			return Value{}, convErr(v, t, err.Error())
		}
		return StringValue(v.S), nil
	case IntV, UintV, FloatV, BoolV:
		return StringValue(v.String()), nil
	}
	return Value{}, convErr(v, t, "")
}

func coerceEnum(v Value, t Type) (Value, error) {
	switch v.Kind {
	case StringV:
		if v.S == "" || len(t.Labels) == 0 {
			return v, nil
		}
		for _, l := range t.Labels {
			if l == v.S {
				return Value{Kind: StringV, S: l}, nil
			}
		}
		return Value{}, convErr(v, t, "not one of the labels")
	case IntV, UintV, DecimalV:
	default:
		return Value{}, convErr(v, t, "")
	}
	neg, mag, st := integer(v)
	if st != intOK {
		return Value{}, integerErr(v, t, st)
	}
	if mag == 0 {
		return StringValue(""), nil
	}
	if neg || mag > uint64(len(t.Labels)) {
		return Value{}, rangeErr(v, t)
	}
	return StringValue(t.Labels[mag-1]), nil
}

func coerceSet(v Value, t Type) (Value, error) {
	var mask uint64
	switch v.Kind {
	case StringV:
		if v.S == "" || len(t.Labels) == 0 {
			return v, nil
		}
		if len(t.Labels) > 64 {
			return Value{}, convErr(v, t, "more than 64 labels")
		}
		for rest := v.S; ; {
			m, tail, more := strings.Cut(rest, ",")
			i := labelIndex(t.Labels, m)
			if i < 0 {
				return Value{}, convErr(v, t, "not a set of the labels")
			}
			mask |= 1 << uint(i)
			if !more {
				break
			}
			rest = tail
		}
		if setText(mask, t.Labels) == v.S {
			return v, nil
		}
	case IntV, UintV, DecimalV:
		neg, mag, st := integer(v)
		if st != intOK {
			return Value{}, integerErr(v, t, st)
		}
		if neg {
			return Value{}, rangeErr(v, t)
		}
		mask = mag
	default:
		return Value{}, convErr(v, t, "")
	}
	if len(t.Labels) < 64 && mask>>uint(len(t.Labels)) != 0 {
		return Value{}, rangeErr(v, t)
	}
	return StringValue(setText(mask, t.Labels)), nil
}

func labelIndex(labels []string, s string) int {
	for i, l := range labels {
		if l == s {
			return i
		}
	}
	return -1
}

// setText joins the labels of mask's bits in declaration order.
func setText(mask uint64, labels []string) string {
	var b strings.Builder
	for i, l := range labels {
		if i < 64 && mask&(1<<uint(i)) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(l)
		}
	}
	return b.String()
}

func coerceBinary(v Value, t Type, o CoerceOptions) (Value, error) {
	var b []byte
	switch v.Kind {
	case BytesV:
		b = v.B
	case StringV:
		switch o.Binary {
		case Base64:
			var err error
			if b, err = decodeBase64(v.S); err != nil {
				return Value{}, convErr(v, t, "not base64")
			}
		case Latin1:
			b = make([]byte, 0, len(v.S))
			for _, r := range v.S {
				if r > 0xFF {
					return Value{}, convErr(v, t, "not ISO-8859-1 text")
				}
				b = append(b, byte(r))
			}
		default:
			b = []byte(v.S)
		}
	default:
		return Value{}, convErr(v, t, "")
	}
	if t.Kind == Binary && len(b) < t.Precision {
		// MySQL pads BINARY(n) with 0x00; the binlog drops the padding.
		p := make([]byte, t.Precision)
		copy(p, b)
		b = p
	}
	return BytesValue(b), nil
}
