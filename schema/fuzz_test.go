package schema

import (
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/internal/duckdbtest"
)

// fuzzTypes are the column types the fuzz test picks from.
var fuzzTypes = func() []Type {
	names := []string{
		"tinyint", "tinyint unsigned", "smallint", "smallint unsigned", "mediumint", "mediumint unsigned",
		"int", "int unsigned", "bigint", "bigint unsigned", "year",
		"decimal(1,0)", "decimal(5,5)", "decimal(10,2)", "decimal(18,4)", "decimal(19,0)", "decimal(20,10)",
		"decimal(38,10)", "decimal(38,0)", "decimal(39,2)", "decimal(65,30)",
		"float", "double", "date", "datetime", "datetime(3)", "datetime(6)", "timestamp", "timestamp(6)",
		"time", "time(3)", "time(6)", "char(3)", "varchar(10)", "text", "json",
		"enum('a','b','c')", "enum", "set('a','b','c')", "set", "binary(4)", "varbinary(8)", "blob",
		"bit(1)", "bit(8)", "bit(63)", "bit(64)", "boolean",
	}
	types := make([]Type, len(names))
	for i, n := range names {
		t, err := ParseType(n)
		if err != nil {
			panic(err)
		}
		types[i] = t
	}
	return types
}()

// fuzzValue builds a Value of one of the kinds from raw fuzz input.
func fuzzValue(kind uint8, i int64, u uint64, f float64, s string, b []byte) Value {
	switch ValueKind(kind % 12) {
	case Null:
		return NullValue()
	case IntV:
		return IntValue(i)
	case UintV:
		return UintValue(u)
	case FloatV:
		return FloatValue(f)
	case DecimalV:
		return DecimalValue(s)
	case StringV:
		return StringValue(s)
	case BytesV:
		return BytesValue(b)
	case BoolV:
		return BoolValue(i&1 == 1)
	case DateV:
		return DateDays(i % 4_000_000)
	case DateTimeV:
		return DateTimeMicros(i)
	case TimestampV:
		return TimestampMicros(i)
	}
	return TimeMicros(i % (2 * MaxTimeMicros))
}

// FuzzRoundTrip: whatever a producer sends, Coerce either fails with a
// *CoerceError or gives a value that ParquetValue stores, FromParquet reads
// back equal, and Coerce leaves unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(0), uint8(1), int64(300), uint64(0), 0.0, "", []byte(nil), uint8(0))
	f.Add(uint8(9), uint8(1), int64(-1), uint64(0), 0.0, "", []byte(nil), uint8(0))
	f.Add(uint8(13), uint8(4), int64(0), uint64(0), 0.0, "-12.345", []byte(nil), uint8(0))
	f.Add(uint8(17), uint8(5), int64(0), uint64(0), 0.0, "-9999999999999999999999999999.9999999999", []byte(nil), uint8(0))
	f.Add(uint8(20), uint8(3), int64(0), uint64(0), 0.30000000000000004, "", []byte(nil), uint8(0))
	f.Add(uint8(22), uint8(5), int64(0), uint64(0), 0.0, "2024-02-29 23:59:59.999999", []byte(nil), uint8(1))
	f.Add(uint8(27), uint8(5), int64(0), uint64(0), 0.0, "2024-03-10T02:30:00+05:30", []byte(nil), uint8(1))
	f.Add(uint8(30), uint8(5), int64(0), uint64(0), 0.0, "-838:59:59.5", []byte(nil), uint8(0))
	f.Add(uint8(31), uint8(11), int64(-1), uint64(0), 0.0, "", []byte(nil), uint8(0))
	f.Add(uint8(36), uint8(5), int64(0), uint64(0), 0.0, "c,a", []byte(nil), uint8(0))
	f.Add(uint8(40), uint8(5), int64(0), uint64(0), 0.0, "AP8=", []byte(nil), uint8(2))
	f.Add(uint8(46), uint8(2), int64(0), uint64(math.MaxUint64), 0.0, "", []byte(nil), uint8(0))
	f.Add(uint8(20), uint8(5), int64(0), uint64(0), 0.0, "1e-31", []byte{0xff}, uint8(0))
	f.Add(uint8(32), uint8(6), int64(0), uint64(0), 0.0, "", []byte("héllo"), uint8(0))
	f.Fuzz(func(t *testing.T, typ, kind uint8, i int64, u uint64, fl float64, s string, b []byte, opt uint8) {
		ty := fuzzTypes[int(typ)%len(fuzzTypes)]
		v := fuzzValue(kind, i, u, fl, s, b)
		o := CoerceOptions{Binary: BinaryText(opt % 3)}
		if opt&8 != 0 {
			o.Zone = time.FixedZone("X", -int(opt%24)*1800)
		}
		checkTyped(t, v, ty, o)
		cv, zero, err := Coerce(v, ty, o)
		if err != nil {
			var ce *CoerceError
			if !errors.As(err, &ce) {
				t.Fatalf("Coerce(%v, %s): error %T %v is not a *CoerceError", v, ty, err, err)
			}
			_ = err.Error()
			return
		}
		if zero && cv.Kind != Null {
			t.Fatalf("Coerce(%v, %s): zeroDate with value %v", v, ty, cv)
		}
		checkTyped(t, cv, ty, o)
		again, zero2, err := Coerce(cv, ty, o)
		if err != nil || zero2 || !again.Equal(cv) || (cv.Kind == DecimalV && again.S != cv.S) {
			t.Fatalf("Coerce(%v, %s) = %v, which coerces again to %v, %v, %v", v, ty, cv, again, zero2, err)
		}
		pv, err := ParquetValue(cv, ty, 2)
		if err != nil {
			t.Fatalf("ParquetValue(%v, %s) of a coerced value: %v", cv, ty, err)
		}
		if pv.Column() != 2 {
			t.Fatalf("column index %d", pv.Column())
		}
		back, err := FromParquet(pv.Clone(), ty)
		if err != nil {
			t.Fatalf("FromParquet(ParquetValue(%v, %s)): %v", cv, ty, err)
		}
		if !back.Equal(cv) || (cv.Kind == DecimalV && back.S != cv.S) {
			t.Fatalf("%s: %s %v → %v → %s %v", ty, cv.Kind, cv, pv, back.Kind, back)
		}
	})
}

// checkTyped checks that Typed, where it answers, answers as Coerce does.
func checkTyped(t *testing.T, v Value, ty Type, o CoerceOptions) {
	t.Helper()
	var tv Value
	ok := Typed(&tv, &v, &ty)
	if !ok {
		return
	}
	cv, zero, err := Coerce(v, ty, o)
	if err != nil || zero || !reflect.DeepEqual(tv, cv) {
		t.Fatalf("Typed(%s %v, %s) = %#v, but Coerce gives %#v, %v, %v", v.Kind, v, ty, tv, cv, zero, err)
	}
}

// FuzzDecimal checks Coerce's decimal rescaling and rounding against
// math/big: round half away from zero to the scale, then check the
// precision.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0.005", "12.345", "99999999.995", "1e-3", "-1.5E+2", "0.000", ".5", "5.", "123456789012345678901234567890.123456789"} {
		f.Add(s, uint8(10), uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, p, sc uint8) {
		prec := int(p)%65 + 1
		scale := int(sc) % (min(prec, 30) + 1)
		if !decimalSyntax(s) || len(s) > 80 {
			return
		}
		ty := Type{Kind: Decimal, Precision: prec, Scale: scale}
		got, _, err := Coerce(DecimalValue(s), ty, CoerceOptions{})

		r, ok := new(big.Rat).SetString(strings.TrimPrefix(s, "+"))
		if !ok {
			t.Fatalf("big.Rat rejects %q", s)
		}
		// N = round_half_away(r × 10^scale)
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
		num, den := new(big.Int).Abs(r.Num()), r.Denom()
		q, m := new(big.Int).QuoRem(num, den, new(big.Int))
		if m.Lsh(m, 1).Cmp(den) >= 0 {
			q.Add(q, big.NewInt(1))
		}
		if r.Sign() < 0 {
			q.Neg(q)
		}
		limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(prec)), nil)
		fits := new(big.Int).Abs(q).Cmp(limit) < 0
		if !fits {
			if err == nil {
				t.Fatalf("Coerce(%q, %s) = %v, want out of range", s, ty, got)
			}
			return
		}
		if err != nil {
			if strings.Contains(err.Error(), "too many digits") || strings.Contains(err.Error(), "exponent") {
				return
			}
			t.Fatalf("Coerce(%q, %s): %v", s, ty, err)
		}
		want := DecimalValue(duckdbtest.FormatDecimal(q, scale))
		if got.S != want.S {
			t.Fatalf("Coerce(%q, %s) = %s, want %s", s, ty, got.S, want.S)
		}
	})
}

// decimalSyntax reports whether s is [+-]digits[.digits][(e|E)[+-]digits].
func decimalSyntax(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	n := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			n++
		}
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			e++
		}
		if e == 0 || e > 3 {
			return false
		}
	}
	return i == len(s)
}
