package snapshot

import (
	"fmt"
	"strconv"

	"github.com/binlake/binlake/schema"
)

// sourceValue turns a value scanned from the binary protocol (a prepared
// statement, so numbers arrive as numbers and floats exactly) into a
// schema.Value of a column declared as t: int64, uint64, float32 and
// float64 as numbers; DECIMAL as its text; BIT as big-endian bytes;
// dates, times and TIME as MySQL's text (in the session's UTC zone);
// binary strings as bytes and every other string as text.
func sourceValue(raw any, t schema.Type) (schema.Value, error) {
	switch x := raw.(type) {
	case nil:
		return schema.NullValue(), nil
	case int64:
		return schema.IntValue(x), nil
	case uint64:
		return schema.UintValue(x), nil
	case float32:
		return schema.FloatValue(float64(x)), nil
	case float64:
		return schema.FloatValue(x), nil
	case []byte:
		switch t.Kind {
		case schema.Decimal:
			return schema.DecimalValue(string(x)), nil
		case schema.Bit:
			if len(x) > 8 {
				return schema.Value{}, fmt.Errorf("bit value of %d bytes", len(x))
			}
			var u uint64
			for _, b := range x {
				u = u<<8 | uint64(b)
			}
			if t.Precision <= 1 {
				return schema.BoolValue(u != 0), nil
			}
			return schema.UintValue(u), nil
		case schema.Binary, schema.VarBinary, schema.Blob:
			return schema.BytesValue(x), nil
		}
		return schema.StringValue(string(x)), nil
	case string:
		return schema.StringValue(x), nil
	}
	return schema.Value{}, fmt.Errorf("unexpected %T from the driver", raw)
}

// keyValue is a key column's value in a progress record, typed so that
// the next chunk's query compares it as the column's own type.
type keyValue struct {
	Kind string `json:"kind"` // int, uint, float, text, bytes
	Text string `json:"text,omitempty"`
	B    []byte `json:"bytes,omitempty"`
}

func toKeyValue(raw any) (keyValue, error) {
	switch x := raw.(type) {
	case int64:
		return keyValue{Kind: "int", Text: strconv.FormatInt(x, 10)}, nil
	case uint64:
		return keyValue{Kind: "uint", Text: strconv.FormatUint(x, 10)}, nil
	case float32:
		return keyValue{Kind: "float", Text: strconv.FormatFloat(float64(x), 'g', -1, 32)}, nil
	case float64:
		return keyValue{Kind: "float", Text: strconv.FormatFloat(x, 'g', -1, 64)}, nil
	case []byte:
		return keyValue{Kind: "bytes", B: append([]byte{}, x...)}, nil
	case nil:
		return keyValue{}, fmt.Errorf("NULL in a key column")
	}
	return keyValue{}, fmt.Errorf("unexpected key value %T", raw)
}

// arg is the query argument of a key value.
func (k keyValue) arg() (any, error) {
	switch k.Kind {
	case "int":
		return strconv.ParseInt(k.Text, 10, 64)
	case "uint":
		return strconv.ParseUint(k.Text, 10, 64)
	case "float":
		return strconv.ParseFloat(k.Text, 64)
	case "bytes":
		return k.B, nil
	}
	return nil, fmt.Errorf("unknown key value kind %q", k.Kind)
}
