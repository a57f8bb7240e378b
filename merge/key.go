package merge

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/schema"
)

// Keys are compared as byte strings: each key column is encoded so that
// bytes.Compare of two encodings orders them as warehouse.KeyOrder says,
// and the encodings of the columns are concatenated. A column encodes as
// 0x00 for NULL, or 0x01 and then:
//
//	INT32 (int kinds, year, date)      4 bytes big-endian, sign bit flipped
//	INT64 (bigint, datetime, ...)      8 bytes big-endian, sign bit flipped
//	bit(n>1)                           8 bytes big-endian (unsigned)
//	FLOAT, DOUBLE                      IEEE bits, all flipped if negative, else sign flipped
//	BOOLEAN                            one byte 0 or 1
//	decimal ≤ 38 digits, bigint        the two's complement bytes, sign bit flipped
//	  unsigned (fixed length)
//	decimal > 38 digits (text)         sign class, integer digit count, digits
//	time (text)                        its microseconds as INT64
//	strings, binary                    bytes with 0x00 escaped as 0x00 0xFF, then 0x00 0x01
//
// The encoding lives only in memory and in spill files; nothing persisted
// depends on it (manifests and file metadata hold keys as text).
type keyEnc uint8

const (
	encInt32 keyEnc = iota + 1
	encInt64
	encUint64
	encFloat
	encDouble
	encBool
	encFixed
	encDecText
	encTime
	encBytes
)

func keyEncOf(t schema.Type, k physKind) (keyEnc, error) {
	switch {
	case t.Kind == schema.Time:
		return encTime, nil
	case t.Kind == schema.Decimal && k.kind == parquet.ByteArray:
		return encDecText, nil
	case t.Kind == schema.Bit && t.Precision > 1:
		return encUint64, nil
	}
	switch k.kind {
	case parquet.Int32:
		return encInt32, nil
	case parquet.Int64:
		return encInt64, nil
	case parquet.Float:
		return encFloat, nil
	case parquet.Double:
		return encDouble, nil
	case parquet.Boolean:
		return encBool, nil
	case parquet.FixedLenByteArray:
		return encFixed, nil
	case parquet.ByteArray:
		return encBytes, nil
	}
	return 0, fmt.Errorf("type %s cannot be part of a key", t)
}

// appendKeyValue appends the encoding of one key column's value.
// int32Key and int64Key decode the 4 and 8 bytes appendKeyValue writes
// for a signed integer: big-endian, sign bit flipped so that bytes sort
// as numbers.
func int32Key(b []byte) int32 { return int32(binary.BigEndian.Uint32(b) ^ 1<<31) }

func int64Key(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ 1<<63) }

func appendKeyValue(dst []byte, enc keyEnc, pv parquet.Value) []byte {
	if pv.IsNull() {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	switch enc {
	case encInt32:
		return binary.BigEndian.AppendUint32(dst, uint32(pv.Int32())^(1<<31))
	case encInt64:
		return binary.BigEndian.AppendUint64(dst, uint64(pv.Int64())^(1<<63))
	case encUint64:
		return binary.BigEndian.AppendUint64(dst, uint64(pv.Int64()))
	case encFloat:
		b := math.Float32bits(pv.Float())
		if b>>31 != 0 {
			b = ^b
		} else {
			b |= 1 << 31
		}
		return binary.BigEndian.AppendUint32(dst, b)
	case encDouble:
		b := math.Float64bits(pv.Double())
		if b>>63 != 0 {
			b = ^b
		} else {
			b |= 1 << 63
		}
		return binary.BigEndian.AppendUint64(dst, b)
	case encBool:
		if pv.Boolean() {
			return append(dst, 1)
		}
		return append(dst, 0)
	case encFixed:
		b := pv.ByteArray()
		if len(b) == 0 {
			return dst
		}
		dst = append(dst, b[0]^0x80)
		return append(dst, b[1:]...)
	case encDecText:
		return appendDecimalText(dst, pv.ByteArray())
	case encTime:
		us := timeMicros(pv.ByteArray())
		return binary.BigEndian.AppendUint64(dst, uint64(us)^(1<<63))
	}
	return appendEscaped(dst, pv.ByteArray())
}

// keyBytes returns the escaped bytes of the byte string key column that
// key starts with (see appendEscaped; nil for NULL) and the length of its
// encoding.
func keyBytes(key []byte) (escaped []byte, n int, ok bool) {
	if len(key) == 0 {
		return nil, 0, false
	}
	if key[0] == 0 {
		return nil, 1, true
	}
	for i := 1; ; {
		j := indexZero(key[i:])
		if j < 0 || i+j+1 >= len(key) {
			return nil, 0, false
		}
		if key[i+j+1] == 1 {
			return key[1 : i+j], i + j + 2, true
		}
		i += j + 2
	}
}

// unescapedLen is the length of the bytes escaped holds (see
// appendEscaped, without the terminator).
func unescapedLen(escaped []byte) int {
	n := len(escaped)
	for b := escaped; ; {
		j := indexZero(b)
		if j < 0 {
			return n
		}
		n--
		b = b[j+2:]
	}
}

// appendUnescaped appends the bytes escaped holds.
func appendUnescaped(dst, escaped []byte) []byte {
	for {
		j := indexZero(escaped)
		if j < 0 {
			return append(dst, escaped...)
		}
		dst = append(dst, escaped[:j+1]...)
		escaped = escaped[j+2:]
	}
}

// appendEscaped appends b with 0x00 escaped and a terminator, so that
// prefixes sort first.
func appendEscaped(dst, b []byte) []byte {
	for {
		i := indexZero(b)
		if i < 0 {
			dst = append(dst, b...)
			break
		}
		dst = append(dst, b[:i]...)
		dst = append(dst, 0, 0xff)
		b = b[i+1:]
	}
	return append(dst, 0, 1)
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// appendDecimalText encodes the canonical text of a decimal (as
// schema.ParquetValue writes decimals wider than 38 digits: plain, the
// column's scale, no "-0"): negatives first, then by the number of integer
// digits, then by the digits; negatives with every byte inverted.
func appendDecimalText(dst, b []byte) []byte {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	intPart, frac, _ := strings.Cut(string(b), ".")
	intPart = strings.TrimLeft(intPart, "0")
	start := len(dst)
	// n+1: inverted for negatives it must not become the 0xff terminator.
	dst = append(dst, 2, byte(len(intPart)+1))
	dst = append(dst, intPart...)
	dst = append(dst, frac...)
	if neg {
		dst[start] = 1
		for i := start + 1; i < len(dst); i++ {
			dst[i] = ^dst[i]
		}
		// A shorter negative is greater (closer to zero) once inverted;
		// terminate with 0xff so that it sorts after its extensions.
		return append(dst, 0xff)
	}
	return append(dst, 0)
}

// timeMicros parses the text of a TIME value; text that does not parse
// sorts as zero (it cannot occur in files binlake wrote).
func timeMicros(b []byte) int64 {
	v, err := schema.FromParquet(parquet.ByteArrayValue(b), schema.Type{Kind: schema.Time, Scale: 6})
	if err != nil {
		return 0
	}
	return v.I
}

// keyText renders one key column value as ManifestFile.MinKey does:
// schema.Value.String of the value.
func keyText(pv parquet.Value, t schema.Type) string {
	v, err := schema.FromParquet(pv, t)
	if err != nil {
		return "?"
	}
	return v.String()
}

// keyFromText encodes a key given as text (ManifestFile.MinKey, the
// row-group keys of file metadata). ok is false when the text does not
// parse, and the caller must then assume nothing about the range.
func keyFromText(dst []byte, keys []keyCol, text []string) ([]byte, bool) {
	if len(text) != len(keys) {
		return dst, false
	}
	var scratch []byte
	for i, k := range keys {
		pv, ok := parseKeyText(&scratch, text[i], k)
		if !ok {
			return dst, false
		}
		dst = appendKeyValue(dst, k.enc, pv)
	}
	return dst, true
}

func parseKeyText(scratch *[]byte, s string, k keyCol) (parquet.Value, bool) {
	if s == "NULL" {
		return parquet.NullValue(), true
	}
	var v schema.Value
	switch k.typ.Kind {
	case schema.Char, schema.VarChar, schema.Text, schema.Enum, schema.Set, schema.JSON:
		u, err := strconv.Unquote(s)
		if err != nil {
			return parquet.Value{}, false
		}
		v = schema.StringValue(u)
	case schema.Binary, schema.VarBinary, schema.Blob:
		h, ok := strings.CutPrefix(s, "0x")
		if !ok {
			return parquet.Value{}, false
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			return parquet.Value{}, false
		}
		v = schema.BytesValue(b)
	default:
		var err error
		if v, _, err = schema.Coerce(schema.StringValue(s), k.typ, schema.CoerceOptions{}); err != nil {
			return parquet.Value{}, false
		}
	}
	pv, buf, err := schema.AppendParquetValue(*scratch, v, k.typ, 0)
	if err != nil {
		return parquet.Value{}, false
	}
	*scratch = buf
	return pv, true
}

// errCorruptKey reports a key encoding that does not decode.
var errCorruptKey = errors.New("corrupt key encoding")

// decodeKey decodes a key encoding back into the values of the key
// columns (byte arrays refer to new memory).
func decodeKey(b []byte, keys []keyCol, kinds []physKind) ([]parquet.Value, error) {
	return appendDecodedKey(nil, nil, b, keys, kinds)
}

// appendDecodedKey appends the values of the key columns that the key
// encoding b holds to dst. Byte arrays and strings are appended to
// *scratch (nil: they refer to new memory); values decoded before keep
// referring to what they did when it grows.
func appendDecodedKey(dst []parquet.Value, scratch *[]byte, b []byte, keys []keyCol, kinds []physKind) ([]parquet.Value, error) {
	start := len(dst)
	dst = slices.Grow(dst, len(keys))[:start+len(keys)]
	vals := dst[start:]
	clear(vals)
	bad := errCorruptKey
	// bytesOf returns a copy of c, in *scratch if there is one.
	bytesOf := func(c []byte) []byte {
		if scratch == nil {
			return append([]byte{}, c...)
		}
		n := len(*scratch)
		*scratch = append(*scratch, c...)
		return (*scratch)[n:len(*scratch):len(*scratch)]
	}
	for i, k := range keys {
		if len(b) == 0 {
			return dst[:start], bad
		}
		if b[0] == 0 {
			b = b[1:]
			continue
		}
		item := b // with its NULL marker
		b = b[1:]
		need := func(n int) bool { return len(b) >= n }
		switch k.enc {
		case encInt32:
			if !need(4) {
				return dst[:start], bad
			}
			vals[i], b = parquet.Int32Value(int32Key(b)), b[4:]
		case encInt64, encUint64:
			if !need(8) {
				return dst[:start], bad
			}
			u := binary.BigEndian.Uint64(b)
			if k.enc == encInt64 {
				u ^= 1 << 63
			}
			vals[i], b = parquet.Int64Value(int64(u)), b[8:]
		case encFloat:
			if !need(4) {
				return dst[:start], bad
			}
			u := binary.BigEndian.Uint32(b)
			if u>>31 != 0 {
				u &^= 1 << 31
			} else {
				u = ^u
			}
			vals[i], b = parquet.FloatValue(math.Float32frombits(u)), b[4:]
		case encDouble:
			if !need(8) {
				return dst[:start], bad
			}
			u := binary.BigEndian.Uint64(b)
			if u>>63 != 0 {
				u &^= 1 << 63
			} else {
				u = ^u
			}
			vals[i], b = parquet.DoubleValue(math.Float64frombits(u)), b[8:]
		case encBool:
			if !need(1) {
				return dst[:start], bad
			}
			vals[i], b = parquet.BooleanValue(b[0] != 0), b[1:]
		case encFixed:
			n := kinds[k.col].size
			if !need(n) || n == 0 {
				return dst[:start], bad
			}
			v := bytesOf(b[:n])
			v[0] ^= 0x80
			vals[i], b = parquet.FixedLenByteArrayValue(v), b[n:]
		case encDecText:
			if !need(2) {
				return dst[:start], bad
			}
			neg := b[0] == 1
			term := byte(0)
			if neg {
				term = 0xff
			}
			end := 1
			for end < len(b) && b[end] != term {
				end++
			}
			if end == len(b) {
				return dst[:start], bad
			}
			body := append([]byte(nil), b[1:end]...)
			b = b[end+1:]
			if neg {
				for j := range body {
					body[j] = ^body[j]
				}
			}
			n := int(body[0]) - 1
			digits := string(body[1:])
			if n < 0 || n > len(digits) {
				return dst[:start], bad
			}
			intPart, frac := digits[:n], digits[n:]
			if intPart == "" {
				intPart = "0"
			}
			s := intPart
			if frac != "" {
				s += "." + frac
			}
			if neg {
				s = "-" + s
			}
			vals[i] = parquet.ByteArrayValue([]byte(s))
		case encTime:
			if !need(8) {
				return dst[:start], bad
			}
			us := int64Key(b)
			b = b[8:]
			pv, err := schema.ParquetValue(schema.TimeMicros(us), k.typ, 0)
			if err != nil {
				return dst[:start], err
			}
			vals[i] = pv
		default:
			esc, n, ok := keyBytes(item)
			if !ok {
				return dst[:start], bad
			}
			var out []byte
			if m := unescapedLen(esc); m == len(esc) {
				out = bytesOf(esc) // no escaped 0x00: the bytes as they are
			} else {
				out = appendUnescaped(make([]byte, 0, m), esc)
			}
			if out == nil {
				out = []byte{}
			}
			vals[i], b = parquet.ByteArrayValue(out), item[n:]
		}
	}
	if len(b) != 0 {
		return dst[:start], bad
	}
	return dst, nil
}

// keyTexts renders a key encoding as ManifestFile.MinKey does.
func keyTexts(b []byte, keys []keyCol, kinds []physKind) []string {
	vals, err := decodeKey(b, keys, kinds)
	if err != nil {
		return nil
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = keyText(vals[i], k.typ)
	}
	return out
}
