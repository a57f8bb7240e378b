package schema

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestInfer(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{IntValue(-5), "bigint"},
		{UintValue(math.MaxUint64), "bigint unsigned"},
		{FloatValue(1.5), "double"},
		{DecimalValue("12.30"), "double"},
		{DecimalValue("12.00"), "double"},
		{DecimalValue("1e3"), "double"},
		{DecimalValue("12"), "bigint"},
		{DecimalValue("-9223372036854775808"), "bigint"},
		{DecimalValue("9223372036854775808"), "bigint unsigned"},
		{DecimalValue("-9223372036854775809"), "decimal(19,0)"},
		{DecimalValue("123456789012345678901234567890"), "decimal(30,0)"},
		{DecimalValue("1" + strings.Repeat("0", 70)), "double"},
		{DecimalValue("x"), "double"},
		{StringValue("x"), "text"},
		{BytesValue(nil), "blob"},
		{BoolValue(true), "boolean"},
		{DateDays(0), "date"},
		{DateTimeMicros(0), "datetime(6)"},
		{TimestampMicros(0), "timestamp(6)"},
		{TimeMicros(0), "time(6)"},
		{NullValue(), "unknown"},
	}
	for _, c := range cases {
		if got := Infer(c.v).String(); got != c.want {
			t.Errorf("Infer(%s %v) = %s, want %s", c.v.Kind, c.v, got, c.want)
		}
	}
	// Every inferred type stores the value it was inferred from.
	for _, c := range cases {
		typ := Infer(c.v)
		if typ.Kind == Unknown || c.v.Kind == DecimalV && c.v.S == "x" {
			continue
		}
		cv, _, err := Coerce(c.v, typ, CoerceOptions{})
		if err != nil {
			t.Errorf("Coerce(%v, inferred %s): %v", c.v, typ, err)
			continue
		}
		if _, err := ParquetValue(cv, typ, 0); err != nil {
			t.Errorf("ParquetValue(%v, inferred %s): %v", cv, typ, err)
		}
	}
}

func TestWiden(t *testing.T) {
	cases := []struct {
		old, new string
		want     string // "" = the error below
		err      string
	}{
		// Unknown and equal types.
		{"unknown", "int", "int", ""},
		{"int", "unknown", "int", ""},
		{"varchar(10)", "varchar(10)", "varchar(10)", ""},
		// Integers.
		{"tinyint", "smallint", "smallint", ""},
		{"int", "bigint", "bigint", ""},
		{"bigint", "int", "bigint", ""},
		{"mediumint", "int", "int", ""},
		{"tinyint unsigned", "int unsigned", "int unsigned", ""},
		{"tinyint unsigned", "tinyint", "smallint", ""},
		{"tinyint", "tinyint unsigned", "smallint", ""},
		{"smallint unsigned", "tinyint", "mediumint", ""},
		{"mediumint unsigned", "mediumint", "int", ""},
		{"int unsigned", "int", "bigint", ""},
		{"int unsigned", "bigint", "bigint", ""},
		{"tinyint unsigned", "bigint", "bigint", ""},
		{"bigint", "bigint unsigned", "decimal(20,0)", ""},
		{"bigint unsigned", "tinyint", "decimal(20,0)", ""},
		// Integers and decimals.
		{"int", "decimal(5,2)", "decimal(12,2)", ""},
		{"bigint unsigned", "decimal(10,2)", "decimal(22,2)", ""},
		{"decimal(10,2)", "tinyint", "decimal(10,2)", ""},
		{"decimal(10,2)", "decimal(12,4)", "decimal(12,4)", ""},
		{"decimal(10,2)", "decimal(10,4)", "decimal(12,4)", ""},
		{"decimal(20,0)", "decimal(5,5)", "decimal(25,5)", ""},
		{"decimal(65,0)", "decimal(65,30)", "", "incompatible type change: decimal(65,0) → decimal(65,30): needs decimal(95,30), more than MySQL's 65 digits"},
		{"bigint", "decimal(40,30)", "decimal(49,30)", ""},
		{"decimal(40,0)", "decimal(31,30)", "", "incompatible type change: decimal(40,0) → decimal(31,30)"},
		// Floats.
		{"float", "double", "double", ""},
		{"double", "float", "double", ""},
		{"int", "double", "double", ""},
		{"bigint", "float", "double", ""},
		{"bigint unsigned", "double", "double", ""},
		{"decimal(10,2)", "double", "double", ""},
		// Bits.
		{"bit(1)", "bit(8)", "bit(8)", ""},
		{"bit(8)", "bit(4)", "bit(8)", ""},
		// Strings.
		{"char(2)", "char(5)", "char(5)", ""},
		{"char(10)", "varchar(5)", "varchar(10)", ""},
		{"varchar(10)", "varchar(20)", "varchar(20)", ""},
		{"varchar(20)", "varchar(10)", "varchar(20)", ""},
		{"varchar(10)", "text", "text", ""},
		{"mediumtext", "char(1)", "text", ""},
		{"json", "text", "text", ""},
		{"varchar(10)", "json", "text", ""},
		{"enum('a')", "varchar(10)", "text", ""},
		{"text", "set('a')", "text", ""},
		{"enum('a','b')", "enum('a','b','c')", "enum('a','b','c')", ""},
		{"set('a')", "set('a','b')", "set('a','b')", ""},
		{"enum('a','b')", "enum('b','a')", "", "incompatible type change: enum('a','b') → enum('b','a'): labels may only be appended"},
		{"enum('a','b','c')", "enum('a','b')", "", "labels may only be appended"},
		{"enum('a','b')", "enum('a','x','b')", "", "labels may only be appended"},
		{"set('a','b')", "set('a')", "", "labels may only be appended"},
		{"enum('a')", "set('a')", "", "incompatible type change: enum('a') → set('a')"},
		// Binary.
		{"binary(4)", "binary(8)", "binary(8)", ""},
		{"binary(4)", "varbinary(2)", "varbinary(4)", ""},
		{"varbinary(4)", "blob", "blob", ""},
		{"longblob", "binary(1)", "blob", ""},
		// Temporal.
		{"date", "datetime", "datetime", ""},
		{"datetime(6)", "date", "datetime(6)", ""},
		{"datetime", "datetime(3)", "datetime(3)", ""},
		{"timestamp(6)", "timestamp", "timestamp(6)", ""},
		{"time", "time(6)", "time(6)", ""},
		// Incompatible.
		{"int", "varchar(10)", "", "incompatible type change: int → varchar(10)"},
		{"datetime", "int", "", "incompatible type change: datetime → int"},
		{"datetime", "timestamp", "", "incompatible type change: datetime → timestamp"},
		{"date", "timestamp", "", "incompatible type change: date → timestamp"},
		{"time", "datetime", "", "incompatible type change: time → datetime"},
		{"text", "blob", "", "incompatible type change: text → blob"},
		{"varbinary(3)", "varchar(3)", "", "incompatible type change: varbinary(3) → varchar(3)"},
		{"year", "int", "", "incompatible type change: year → int"},
		{"int", "year", "", "incompatible type change: int → year"},
		{"boolean", "tinyint", "", "incompatible type change: boolean → tinyint"},
		{"bit(1)", "boolean", "", "incompatible type change: bit(1) → boolean"},
		{"bit(8)", "bigint", "", "incompatible type change: bit(8) → bigint"},
		{"double", "int", "double", ""},
		{"double", "varchar(3)", "", "incompatible type change: double → varchar(3)"},
		{"json", "blob", "", "incompatible type change: json → blob"},
	}
	for _, c := range cases {
		old, new := parseOrUnknown(t, c.old), parseOrUnknown(t, c.new)
		got, err := Widen(old, new)
		switch {
		case c.err != "":
			if err == nil {
				t.Errorf("Widen(%s, %s) = %s, want error %q", c.old, c.new, got, c.err)
				continue
			}
			if !strings.Contains(err.Error(), c.err) {
				t.Errorf("Widen(%s, %s): error %q, want %q", c.old, c.new, err, c.err)
			}
			var tce *TypeChangeError
			if !errors.As(err, &tce) || !tce.Old.Equal(old) || !tce.New.Equal(new) {
				t.Errorf("Widen(%s, %s): error %#v does not carry both types", c.old, c.new, err)
			}
		case err != nil:
			t.Errorf("Widen(%s, %s): %v", c.old, c.new, err)
		case got.String() != c.want:
			t.Errorf("Widen(%s, %s) = %s, want %s", c.old, c.new, got, c.want)
		}
	}
}

func parseOrUnknown(t *testing.T, s string) Type {
	if s == "unknown" {
		return Type{}
	}
	return mustType(t, s)
}

// TestWidenHoldsBoth checks that the widened type stores every value of
// both types: their extreme values coerce into it.
func TestWidenHoldsBoth(t *testing.T) {
	types := []string{
		"tinyint", "tinyint unsigned", "smallint", "smallint unsigned", "mediumint", "mediumint unsigned",
		"int", "int unsigned", "bigint", "bigint unsigned", "decimal(10,2)", "decimal(5,5)", "decimal(30,0)",
	}
	extremes := func(typ Type) []Value {
		switch typ.Kind {
		case Decimal:
			n := strings.Repeat("9", typ.Precision-typ.Scale)
			if n == "" {
				n = "0"
			}
			if typ.Scale > 0 {
				n += "." + strings.Repeat("9", typ.Scale)
			}
			return []Value{DecimalValue(n), DecimalValue("-" + n)}
		}
		lo, hi := intRange(typ.Kind, typ.Unsigned)
		return []Value{IntValue(lo), UintValue(hi)}
	}
	for _, a := range types {
		for _, b := range types {
			ta, tb := mustType(t, a), mustType(t, b)
			w, err := Widen(ta, tb)
			if err != nil {
				t.Errorf("Widen(%s, %s): %v", a, b, err)
				continue
			}
			for _, v := range append(extremes(ta), extremes(tb)...) {
				if _, _, err := Coerce(v, w, CoerceOptions{}); err != nil {
					t.Errorf("Widen(%s, %s) = %s does not hold %v: %v", a, b, w, v, err)
				}
			}
		}
	}
}
