package warehouse_test

import (
	"bytes"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/binlake/binlake/warehouse"
)

func decimalValue(b [16]byte) *big.Int {
	return new(big.Int).SetBytes(b[:])
}

// Encoded positions sort like positions, read as the documented digits,
// and decode back.
func TestPosDecimal(t *testing.T) {
	p := warehouse.Pos{File: 42, Offset: 1534, Row: 2}
	if got := decimalValue(p.Decimal()).String(); got != "420000000000000001534000000002" {
		t.Errorf("digits: %s", got)
	}
	extremes := []warehouse.Pos{
		{}, {Row: 1}, {Offset: 1}, {File: 1},
		{File: 9_999_999_999, Offset: math.MaxInt64, Row: 999_999_999},
		{File: 0, Offset: math.MaxInt64, Row: 0},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		extremes = append(extremes, warehouse.Pos{
			File: rng.Int64N(10_000_000_000), Offset: rng.Int64(), Row: rng.Int64N(1_000_000_000),
		})
	}
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil)
	for i, a := range extremes {
		da := a.Decimal()
		if decimalValue(da).Cmp(max) >= 0 {
			t.Fatalf("%v encodes beyond DECIMAL(38,0)", a)
		}
		back, err := warehouse.PosFromDecimal(da[:])
		if err != nil || back != a {
			t.Fatalf("%v decodes as %v, %v", a, back, err)
		}
		b := extremes[(i*7+3)%len(extremes)]
		db := b.Decimal()
		if got, want := bytes.Compare(da[:], db[:]), a.Compare(b); got != want {
			t.Fatalf("compare %v %v: bytes say %d, positions %d", a, b, got, want)
		}
	}
	for _, bad := range []warehouse.Pos{{File: -1}, {Row: 1_000_000_000}, {File: 10_000_000_000}, {Offset: -5}} {
		if bad.Check() == nil {
			t.Errorf("%v passed Check", bad)
		}
	}
	if _, err := warehouse.PosFromDecimal(make([]byte, 15)); err == nil {
		t.Error("short _pos accepted")
	}
}
