package schema

import (
	"fmt"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// ParquetNode returns the optional Parquet leaf that stores a column of
// type t (DESIGN §7). Every physical type is signed and every logical type
// is one Hive, Spark, Trino and DuckDB read:
//
//	MySQL                                   Parquet                                  DuckDB reads
//	tinyint, smallint, mediumint, int;      INT32, INT(32, signed)                   INTEGER
//	  tinyint/smallint/mediumint unsigned;
//	  year
//	int unsigned, bigint; bit(n>1)          INT64, INT(64, signed)                   BIGINT
//	bigint unsigned                         FIXED_LEN_BYTE_ARRAY(9), DECIMAL(20,0)   DECIMAL(20,0)
//	decimal(p,s), p ≤ 38                    FIXED_LEN_BYTE_ARRAY(n), DECIMAL(p,s),   DECIMAL(p,s)
//	                                        n the fewest bytes for p
//	decimal(p,s), p > 38                    BYTE_ARRAY, STRING: the exact text       VARCHAR
//	float, double                           FLOAT, DOUBLE                            FLOAT, DOUBLE
//	date                                    INT32, DATE                              DATE
//	datetime(n)                             INT64, TIMESTAMP(MICROS, local)          TIMESTAMP
//	timestamp(n)                            INT64, TIMESTAMP(MICROS, UTC)            TIMESTAMP WITH TIME ZONE
//	time(n)                                 BYTE_ARRAY, STRING "[-]HH:MM:SS[.f…]"    VARCHAR
//	char, varchar, text, enum, set, json    BYTE_ARRAY, STRING                       VARCHAR
//	binary, varbinary, blob                 BYTE_ARRAY                               BLOB
//	bit(1), boolean                         BOOLEAN                                  BOOLEAN
//
// bit(64) values above 2^63-1 keep their bit pattern and read as negative
// BIGINTs. Decimals are FIXED_LEN_BYTE_ARRAY at every precision: the
// legacy layout (what Spark writes with spark.sql.parquet.writeLegacyFormat)
// that every engine reads, including Hive readers that refuse INT32/INT64
// decimals.
// Engines stop at DECIMAL(38): DuckDB reads a wider DECIMAL as a DOUBLE (and
// misreads FIXED_LEN_BYTE_ARRAY wider than 16 bytes), and Spark, Trino and
// Hive refuse it, so decimal(39…65) is stored as its exact text.
// TIME has fsp fractional digits ("12:00:00.500" for time(3)), or six when
// a value is finer than its fsp; hours have at least two digits, as MySQL
// writes them ("-838:59:59").
//
// Every leaf is PLAIN-encoded: parquet-go's default for BYTE_ARRAY,
// DELTA_LENGTH_BYTE_ARRAY, is not read by Spark before 3.3, and
// parquet-go's dictionary bounds would compare decimals unsigned. The
// decimal leaves order and bound their values as signed numbers in page and
// column chunk statistics and in the column index (parquet-go compares
// FIXED_LEN_BYTE_ARRAY as unsigned bytes, which would put -1 above 1 and
// make engines that skip row groups by statistics drop rows).
//
// A type of Unknown kind is an error: infer or declare the type first.
func ParquetNode(t Type) (parquet.Node, error) {
	var n parquet.Node
	switch t.Kind {
	case TinyInt, SmallInt, MediumInt, Year:
		n = parquet.Int(32)
	case Int:
		if t.Unsigned {
			n = parquet.Int(64)
		} else {
			n = parquet.Int(32)
		}
	case BigInt:
		if t.Unsigned {
			n = decimalNode(20, 0)
		} else {
			n = parquet.Int(64)
		}
	case Decimal:
		if t.Precision < 1 || t.Precision > 65 || t.Scale < 0 || t.Scale > t.Precision || t.Scale > 30 {
			return nil, fmt.Errorf("parquet node for %s: precision or scale out of range", t)
		}
		if t.Precision > maxParquetDecimal {
			n = parquet.String()
		} else {
			n = decimalNode(t.Precision, t.Scale)
		}
	case Float:
		n = parquet.Leaf(parquet.FloatType)
	case Double:
		n = parquet.Leaf(parquet.DoubleType)
	case Date:
		n = parquet.Date()
	case DateTime:
		n = parquet.TimestampAdjusted(parquet.Microsecond, false)
	case Timestamp:
		n = parquet.TimestampAdjusted(parquet.Microsecond, true)
	case Time, Char, VarChar, Text, Enum, Set, JSON:
		n = parquet.String()
	case Binary, VarBinary, Blob:
		n = parquet.Leaf(parquet.ByteArrayType)
	case Bool:
		n = parquet.Leaf(parquet.BooleanType)
	case Bit:
		if t.Precision <= 1 {
			n = parquet.Leaf(parquet.BooleanType)
		} else {
			n = parquet.Int(64)
		}
	default:
		return nil, fmt.Errorf("no parquet type for column type %s: declare it or infer it from a value", t)
	}
	return parquet.Optional(parquet.Encoded(n, &parquet.Plain)), nil
}

// maxParquetDecimal is the widest decimal stored as a Parquet DECIMAL.
const maxParquetDecimal = 38

// ParquetValue converts a coerced value (see Coerce) of a column of type t
// to the parquet.Value of the leaf ParquetNode(t) returns, at column index
// columnIndex of a flat schema: definition level 1, or 0 for NULL.
//
// The result may refer to v.S and v.B; decimals and TIME are encoded into
// new memory. Use AppendParquetValue to encode those into a buffer you
// keep instead. A value of a kind Coerce does not give for t is an error,
// never a silent conversion.
func ParquetValue(v Value, t Type, columnIndex int) (parquet.Value, error) {
	pv, _, err := AppendParquetValueOf(nil, &v, &t, columnIndex)
	return pv, err
}

// AppendParquetValue is ParquetValue that encodes decimals and TIME into
// buf (appending; it returns the extended buffer), so a writer that keeps
// one buffer per batch of rows allocates nothing. The parquet.Value refers
// to buf's bytes (and to v.S or v.B), so leave those bytes alone until the
// row has been written (parquet-go's Writer.WriteRows copies values into
// its column buffers); appending to buf meanwhile is safe, since values
// never refer past their own bytes and a grown buffer is new memory.
func AppendParquetValue(buf []byte, v Value, t Type, columnIndex int) (parquet.Value, []byte, error) {
	return AppendParquetValueOf(buf, &v, &t, columnIndex)
}

// AppendParquetValueOf is AppendParquetValue with the value and its type
// passed by pointer, for writers that call it once a value: neither is
// copied, and neither is kept or modified.
func AppendParquetValueOf(buf []byte, vp *Value, tp *Type, columnIndex int) (parquet.Value, []byte, error) {
	if uint(columnIndex) > parquet.MaxColumnIndex {
		return parquet.Value{}, buf, fmt.Errorf("parquet column index %d out of range", columnIndex)
	}
	var pv parquet.Value
	if vp.Kind == Null {
		pv.SetColumnIndex(columnIndex)
		return pv, buf, nil
	}
	v, t := vp, tp
	switch t.Kind {
	case TinyInt, SmallInt, MediumInt, Year:
		if v.Kind != IntV || v.I != int64(int32(v.I)) {
			return pv, buf, valueErr(v, t)
		}
		pv = parquet.Int32Value(int32(v.I))
	case Int:
		if v.Kind != IntV || (!t.Unsigned && v.I != int64(int32(v.I))) {
			return pv, buf, valueErr(v, t)
		}
		if t.Unsigned {
			pv = parquet.Int64Value(v.I)
		} else {
			pv = parquet.Int32Value(int32(v.I))
		}
	case BigInt:
		if !t.Unsigned {
			if v.Kind != IntV {
				return pv, buf, valueErr(v, t)
			}
			pv = parquet.Int64Value(v.I)
			break
		}
		var u uint64
		switch {
		case v.Kind == IntV && v.I >= 0:
			u = uint64(v.I)
		case v.Kind == UintV:
			u = v.U
		default:
			return pv, buf, valueErr(v, t)
		}
		start := len(buf)
		buf = slices.Grow(buf, 9)[:start+9]
		putTwos(buf[start:], false, 0, u)
		pv = parquet.FixedLenByteArrayValue(buf[start:len(buf):len(buf)])
	case Decimal:
		var err error
		if pv, buf, err = appendDecimal(buf, v, t); err != nil {
			return pv, buf, err
		}
	case Float:
		if v.Kind != FloatV {
			return pv, buf, valueErr(v, t)
		}
		pv = parquet.FloatValue(float32(v.F))
	case Double:
		if v.Kind != FloatV {
			return pv, buf, valueErr(v, t)
		}
		pv = parquet.DoubleValue(v.F)
	case Date:
		if v.Kind != DateV || v.I != int64(int32(v.I)) {
			return pv, buf, valueErr(v, t)
		}
		pv = parquet.Int32Value(int32(v.I))
	case DateTime:
		if v.Kind != DateTimeV {
			return pv, buf, valueErr(v, t)
		}
		pv = parquet.Int64Value(v.I)
	case Timestamp:
		if v.Kind != TimestampV {
			return pv, buf, valueErr(v, t)
		}
		pv = parquet.Int64Value(v.I)
	case Time:
		if v.Kind != TimeV {
			return pv, buf, valueErr(v, t)
		}
		start := len(buf)
		buf = appendTime(buf, v.I, timeDigits(v.I, t.Scale))
		pv = parquet.ByteArrayValue(buf[start:len(buf):len(buf)])
	case Char, VarChar, Text, Enum, Set, JSON:
		if v.Kind != StringV {
			return pv, buf, valueErr(v, t)
		}
		pv = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(v.S), len(v.S)))
	case Binary, VarBinary, Blob:
		if v.Kind != BytesV {
			return pv, buf, valueErr(v, t)
		}
		pv = parquet.ByteArrayValue(v.B)
	case Bool:
		if v.Kind != BoolV {
			return pv, buf, valueErr(v, t)
		}
		pv = parquet.BooleanValue(v.I != 0)
	case Bit:
		if t.Precision <= 1 {
			if v.Kind != BoolV {
				return pv, buf, valueErr(v, t)
			}
			pv = parquet.BooleanValue(v.I != 0)
			break
		}
		switch {
		case v.Kind == IntV && v.I >= 0:
			pv = parquet.Int64Value(v.I)
		case v.Kind == UintV:
			pv = parquet.Int64Value(int64(v.U)) // the bit pattern: bit(64) may read negative
		default:
			return pv, buf, valueErr(v, t)
		}
	default:
		return pv, buf, fmt.Errorf("no parquet type for column type %s", t.String())
	}
	pv.SetDefinitionLevel(1)
	pv.SetColumnIndex(columnIndex)
	return pv, buf, nil
}

// ValueError is a value ParquetValue cannot store in a column of type t:
// one that was not coerced to t, or is out of its range.
type ValueError struct {
	Value Value
	Type  Type
}

// Error names the value and the type.
func (e *ValueError) Error() string {
	return "cannot store " + e.Value.Kind.String() + " value " + e.Value.String() + " in a " + e.Type.String() + " column (coerce it first)"
}

// valueErr is kept out of line: inlined, its copies of v and t would
// grow the hot path's stack frame twentyfold.
//
//go:noinline
func valueErr(v *Value, t *Type) error { return &ValueError{Value: *v, Type: *t} }

// appendDecimal encodes a decimal(p,s) value: the unscaled integer in
// FIXED_LEN_BYTE_ARRAY two's complement for p ≤ 38, the canonical text
// above.
func appendDecimal(buf []byte, v *Value, t *Type) (parquet.Value, []byte, error) {
	p, sc := t.Precision, t.Scale
	var (
		neg    bool
		hi, lo uint64
		intLen int
	)
	switch v.Kind {
	case DecimalV:
		if p > maxParquetDecimal {
			if isCanonicalDecimal(v.S, p, sc) {
				return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(v.S), len(v.S))), buf, nil
			}
			var d decNum
			if d.parse(v.S) != nil || d.fracDigits() > sc || d.intDigits() > p-sc {
				return parquet.Value{}, buf, valueErr(v, t)
			}
			start := len(buf)
			buf = d.appendText(buf, sc)
			return parquet.ByteArrayValue(buf[start:len(buf):len(buf)]), buf, nil
		}
		if u, ok := v.unscaledAt(sc); ok {
			neg, lo = u < 0, uint64(u)
			if neg {
				lo = uint64(-u)
			}
			if p <= 18 && lo >= uint64(pow10[p]) {
				return parquet.Value{}, buf, valueErr(v, t)
			}
			break // intLen 0: the value has at most p digits
		}
		var ok bool
		if neg, hi, lo, intLen, ok = parseUnscaled(v.S, sc); !ok {
			return parquet.Value{}, buf, valueErr(v, t)
		}
	case IntV:
		if v.I < 0 {
			neg, lo = true, uint64(-v.I)
		} else {
			lo = uint64(v.I)
		}
		intLen = digitCount(lo)
	case UintV:
		lo = v.U
		intLen = digitCount(lo)
	default:
		return parquet.Value{}, buf, valueErr(v, t)
	}
	if intLen > p-sc {
		return parquet.Value{}, buf, valueErr(v, t)
	}
	if p > maxParquetDecimal {
		var d decNum
		d.setUint(neg, lo)
		start := len(buf)
		buf = d.appendText(buf, sc)
		return parquet.ByteArrayValue(buf[start:len(buf):len(buf)]), buf, nil
	}
	if v.Kind != DecimalV && sc > 0 {
		// Scale the integer; intLen ≤ p-sc keeps it within 38 digits.
		for i := 0; i < sc; i++ {
			h, l := mul10(hi, lo)
			hi, lo = h, l
		}
	}
	n := decimalBytes[p]
	start := len(buf)
	buf = slices.Grow(buf, n)[:start+n]
	putTwos(buf[start:], neg, hi, lo)
	return parquet.FixedLenByteArrayValue(buf[start:len(buf):len(buf)]), buf, nil
}

func mul10(hi, lo uint64) (uint64, uint64) {
	h, l := bits.Mul64(lo, 10)
	return hi*10 + h, l
}

func digitCount(u uint64) int {
	n := 0
	for u != 0 {
		n++
		u /= 10
	}
	return n
}

// FromParquet converts a value read from a leaf of ParquetNode(t) back to
// the Value Coerce gives for t (so FromParquet(ParquetValue(v)) equals v
// for every coerced v). It is what merge uses to read binlog and snapshot
// files.
//
// It also reads decimals stored as INT32, INT64 or BYTE_ARRAY and integers
// stored in the other of INT32/INT64, as other writers lay them out; it
// cannot see the file's scale or time unit, which must be t's.
func FromParquet(pv parquet.Value, t Type) (Value, error) {
	if pv.IsNull() {
		return Value{}, nil
	}
	k := pv.Kind()
	bad := func() (Value, error) {
		return Value{}, fmt.Errorf("parquet %s value for a %s column", k, t)
	}
	switch t.Kind {
	case TinyInt, SmallInt, MediumInt, Int, Year:
		switch k {
		case parquet.Int32:
			return IntValue(int64(pv.Int32())), nil
		case parquet.Int64:
			return IntValue(pv.Int64()), nil
		}
		return bad()
	case BigInt:
		switch {
		case !t.Unsigned && k == parquet.Int64:
			return IntValue(pv.Int64()), nil
		case !t.Unsigned && k == parquet.Int32:
			return IntValue(int64(pv.Int32())), nil
		case t.Unsigned && (k == parquet.FixedLenByteArray || k == parquet.ByteArray):
			b := pv.ByteArray()
			if len(b) > 16 {
				return bad()
			}
			neg, hi, lo := getTwos(b)
			if neg || hi != 0 {
				return Value{}, fmt.Errorf("parquet value out of range for %s", t)
			}
			return UintValue(lo), nil
		}
		return bad()
	case Decimal:
		return decimalFromParquet(pv, t)
	case Float:
		switch k {
		case parquet.Float:
			return FloatValue(float64(pv.Float())), nil
		case parquet.Double:
			return FloatValue(float64(float32(pv.Double()))), nil
		}
		return bad()
	case Double:
		switch k {
		case parquet.Double:
			return FloatValue(pv.Double()), nil
		case parquet.Float:
			return FloatValue(float64(pv.Float())), nil
		}
		return bad()
	case Date:
		if k != parquet.Int32 {
			return bad()
		}
		return DateDays(int64(pv.Int32())), nil
	case DateTime, Timestamp:
		if k != parquet.Int64 {
			return bad()
		}
		if t.Kind == DateTime {
			return DateTimeMicros(pv.Int64()), nil
		}
		return TimestampMicros(pv.Int64()), nil
	case Time:
		if k != parquet.ByteArray {
			return bad()
		}
		us, ok := parseTimeText(unsafe.String(unsafe.SliceData(pv.ByteArray()), len(pv.ByteArray())))
		if !ok {
			return Value{}, fmt.Errorf("parquet value %q is not a %s", pv.ByteArray(), t)
		}
		return TimeMicros(us), nil
	case Char, VarChar, Text, Enum, Set, JSON:
		if k != parquet.ByteArray {
			return bad()
		}
		return StringValue(string(pv.ByteArray())), nil
	case Binary, VarBinary, Blob:
		if k != parquet.ByteArray {
			return bad()
		}
		return BytesValue(append([]byte{}, pv.ByteArray()...)), nil
	case Bool:
		if k != parquet.Boolean {
			return bad()
		}
		return BoolValue(pv.Boolean()), nil
	case Bit:
		switch {
		case t.Precision <= 1 && k == parquet.Boolean:
			return BoolValue(pv.Boolean()), nil
		case t.Precision > 1 && k == parquet.Int64:
			return UintValue(uint64(pv.Int64())), nil
		}
		return bad()
	}
	return Value{}, fmt.Errorf("no parquet type for column type %s", t)
}

func decimalFromParquet(pv parquet.Value, t Type) (Value, error) {
	var (
		neg    bool
		hi, lo uint64
	)
	switch k := pv.Kind(); k {
	case parquet.Int32, parquet.Int64:
		i := pv.Int64()
		if k == parquet.Int32 {
			i = int64(pv.Int32())
		}
		if i < 0 {
			neg, lo = true, uint64(-i)
		} else {
			lo = uint64(i)
		}
	case parquet.ByteArray, parquet.FixedLenByteArray:
		b := pv.ByteArray()
		if t.Precision > maxParquetDecimal && k == parquet.ByteArray {
			var d decNum
			s := string(b)
			if d.parse(s) != nil || d.fracDigits() > t.Scale {
				return Value{}, fmt.Errorf("parquet value %q is not a %s", b, t)
			}
			if isCanonicalDecimal(s, t.Precision, t.Scale) {
				return DecimalValue(s), nil
			}
			return DecimalValue(string(d.appendText(nil, t.Scale))), nil
		}
		if len(b) > 16 {
			return Value{}, fmt.Errorf("parquet decimal of %d bytes for a %s column", len(b), t)
		}
		neg, hi, lo = getTwos(b)
	default:
		return Value{}, fmt.Errorf("parquet %s value for a %s column", k, t)
	}
	var tmp [48]byte
	return DecimalValue(string(appendUnscaled(tmp[:0], neg, hi, lo, t.Scale))), nil
}
