package snapshot

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"

	"github.com/binlake/binlake/schema"
)

// fileValue turns a value of an exported Parquet file into a
// schema.Value by the column's physical and logical type, as other
// writers (DuckDB, Spark, Hive) lay them out: DECIMAL in INT32, INT64 or
// (fixed-length) bytes; DATE; TIMESTAMP in ms, µs or ns (adjusted to UTC:
// an instant, else a wall clock) and Hive's INT96; TIME; strings, enums
// and JSON as text; other bytes as bytes.
func fileValue(pv parquet.Value, t parquet.Type) (schema.Value, error) {
	if pv.IsNull() {
		return schema.NullValue(), nil
	}
	var lt format.LogicalTypeValue
	if l := t.LogicalType(); l != nil {
		lt = l.Value
	}
	switch pv.Kind() {
	case parquet.Boolean:
		return schema.BoolValue(pv.Boolean()), nil
	case parquet.Float:
		return schema.FloatValue(float64(pv.Float())), nil
	case parquet.Double:
		return schema.FloatValue(pv.Double()), nil
	case parquet.Int32, parquet.Int64:
		n := pv.Int64()
		if pv.Kind() == parquet.Int32 {
			n = int64(pv.Int32())
		}
		switch x := lt.(type) {
		case *format.DecimalType:
			return schema.DecimalValue(decimalText(big.NewInt(n), int(x.Scale))), nil
		case *format.DateType:
			return schema.DateDays(n), nil
		case *format.TimestampType:
			us := toMicros(n, x.Unit)
			if x.IsAdjustedToUTC {
				return schema.TimestampMicros(us), nil
			}
			return schema.DateTimeMicros(us), nil
		case *format.TimeType:
			return schema.TimeMicros(toMicros(n, x.Unit)), nil
		case *format.IntType:
			if !x.IsSigned && x.BitWidth == 64 {
				return schema.UintValue(uint64(n)), nil
			}
			if !x.IsSigned && x.BitWidth == 32 {
				return schema.IntValue(int64(uint32(n))), nil
			}
		}
		return schema.IntValue(n), nil
	case parquet.Int96:
		b := pv.Bytes()
		if len(b) != 12 {
			return schema.Value{}, fmt.Errorf("INT96 of %d bytes", len(b))
		}
		nanos := int64(binary.LittleEndian.Uint64(b[:8]))
		julian := int64(binary.LittleEndian.Uint32(b[8:]))
		const unixJulian = 2440588
		return schema.TimestampMicros((julian-unixJulian)*86400_000_000 + nanos/1000), nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		b := pv.ByteArray()
		switch x := lt.(type) {
		case *format.DecimalType:
			return schema.DecimalValue(decimalText(twos(b), int(x.Scale))), nil
		case *format.StringType, *format.EnumType, *format.JsonType:
			return schema.StringValue(string(b)), nil
		case nil:
			if c := t.ConvertedType(); c != nil && (*c == deprecated.UTF8 || *c == deprecated.Enum || *c == deprecated.Json) {
				return schema.StringValue(string(b)), nil
			}
		}
		return schema.BytesValue(append([]byte(nil), b...)), nil
	}
	return schema.Value{}, fmt.Errorf("unsupported parquet value %s", pv.Kind())
}

func toMicros(n int64, u format.TimeUnit) int64 {
	switch u.Value.(type) {
	case *format.MilliSeconds:
		return n * 1000
	case *format.NanoSeconds:
		return n / 1000
	}
	return n
}

// twos reads a big-endian two's complement integer.
func twos(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n
}

// decimalText renders unscaled × 10^-scale.
func decimalText(unscaled *big.Int, scale int) string {
	neg := unscaled.Sign() < 0
	digits := new(big.Int).Abs(unscaled).String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// csvValue turns a CSV field into a schema.Value for a column of type t:
// `\N` (Hive's and DataX's NULL) is NULL, and so is an empty field except
// in a string column; anything else is text, coerced like any text.
func csvValue(field string, t schema.Type) schema.Value {
	if field == `\N` {
		return schema.NullValue()
	}
	if field == "" {
		switch t.Kind {
		case schema.Char, schema.VarChar, schema.Text, schema.JSON, schema.Enum, schema.Set, schema.Binary, schema.VarBinary, schema.Blob:
			return schema.StringValue("")
		}
		return schema.NullValue()
	}
	return schema.StringValue(field)
}
