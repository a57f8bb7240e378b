package schema

import (
	"slices"
	"testing"
)

func TestParseType(t *testing.T) {
	cases := map[string]Type{
		"int(11)":                            {Kind: Int},
		"INT(10) UNSIGNED ZEROFILL":          {Kind: Int, Unsigned: true},
		"tinyint(1)":                         {Kind: TinyInt},
		"bigint(20) unsigned":                {Kind: BigInt, Unsigned: true},
		"decimal(10,2)":                      {Kind: Decimal, Precision: 10, Scale: 2},
		"decimal":                            {Kind: Decimal, Precision: 10},
		"numeric(65,30)":                     {Kind: Decimal, Precision: 65, Scale: 30},
		"datetime(6)":                        {Kind: DateTime, Scale: 6},
		"timestamp":                          {Kind: Timestamp},
		"time(3)":                            {Kind: Time, Scale: 3},
		"bit(1)":                             {Kind: Bit, Precision: 1},
		"bit":                                {Kind: Bit, Precision: 1},
		"bit(8)":                             {Kind: Bit, Precision: 8},
		"varchar(255) CHARACTER SET utf8mb4": {Kind: VarChar, Precision: 255},
		"longtext":                           {Kind: Text},
		"mediumblob":                         {Kind: Blob},
		"varbinary(16)":                      {Kind: VarBinary, Precision: 16},
		"enum('a','b''c','d,e')":             {Kind: Enum, Labels: []string{"a", "b'c", "d,e"}},
		"set('x','y')":                       {Kind: Set, Labels: []string{"x", "y"}},
		"enum('(',')')":                      {Kind: Enum, Labels: []string{"(", ")"}},
		"json":                               {Kind: JSON},
		"year(4)":                            {Kind: Year},
		"double precision":                   {Kind: Double},
		"float(30)":                          {Kind: Double},
		"float(7,3)":                         {Kind: Float},
	}
	for in, want := range cases {
		got, err := ParseType(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got.Kind != want.Kind || got.Unsigned != want.Unsigned || got.Precision != want.Precision ||
			got.Scale != want.Scale || !slices.Equal(got.Labels, want.Labels) {
			t.Errorf("%s: got %+v, want %+v", in, got, want)
		}
		// String round-trips.
		again, err := ParseType(got.String())
		if err != nil || again.String() != got.String() {
			t.Errorf("%s: String %q does not round-trip: %v", in, got.String(), err)
		}
	}
	for _, bad := range []string{"", "geometry", "decimal(66,2)", "decimal(5,6)", "datetime(7)", "enum('a", "bit(65)", "int(x"} {
		if got, err := ParseType(bad); err == nil {
			t.Errorf("%q accepted as %+v", bad, got)
		}
	}
}
