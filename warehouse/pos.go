package warehouse

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Pos is a change's ordering key (DESIGN.md §4): of two changes of one
// key, the one with the greater Pos happened later.
//
// For formats that carry a binlog position (Debezium, Maxwell), File is the
// binlog file's sequence number (mysql-bin.000042 → 42), Offset the event's
// position in it and Row the row's index in the event. For formats that do
// not (Canal, rowjson), File is 0, Offset the Kafka offset and Row the row's
// index in the message; such positions only compare within one Kafka
// partition. A bootstrap snapshot row carries the source position read
// before the snapshot started.
//
// In Parquet files Pos is the column _pos, a DECIMAL(38,0) whose digits
// are File (10 digits), Offset (19) and Row (9): mysql-bin.000042:1534 row
// 2 is 42_0000000000000001534_000000002. Engines compare it as a number,
// and a person can still read it.
type Pos struct {
	File   int64
	Offset int64
	Row    int64
}

// Limits of the digits File and Row have in _pos; any non-negative int64
// Offset fits its 19 digits.
const (
	maxPosFile = 9_999_999_999
	maxPosRow  = 999_999_999
	tenPow19   = 10_000_000_000_000_000_000
	tenPow9    = 1_000_000_000
)

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Pos) Compare(q Pos) int {
	switch {
	case p.File != q.File:
		return cmp.Compare(p.File, q.File)
	case p.Offset != q.Offset:
		return cmp.Compare(p.Offset, q.Offset)
	}
	return cmp.Compare(p.Row, q.Row)
}

func (p Pos) String() string {
	return fmt.Sprintf("%d:%d:%d", p.File, p.Offset, p.Row)
}

// Check reports whether p fits the digits of _pos.
func (p Pos) Check() error {
	if p.File < 0 || p.File > maxPosFile || p.Offset < 0 || p.Row < 0 || p.Row > maxPosRow {
		return fmt.Errorf("position %s out of range (file 0..%d, offset >= 0, row 0..%d)", p, int64(maxPosFile), int64(maxPosRow))
	}
	return nil
}

// Decimal encodes p as the 16-byte big-endian two's complement integer of
// its DECIMAL(38,0) form, the bytes Parquet stores. Byte order equals
// numeric order, so encoded positions compare with bytes.Compare. p must
// pass Check.
func (p Pos) Decimal() [16]byte {
	// value = (File*10^19 + Offset)*10^9 + Row, in 128 bits.
	hi, lo := bits.Mul64(uint64(p.File), tenPow19)
	lo, carry := bits.Add64(lo, uint64(p.Offset), 0)
	hi += carry
	hi, lo = mul128(hi, lo, tenPow9)
	lo, carry = bits.Add64(lo, uint64(p.Row), 0)
	hi += carry
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return b
}

// PosFromDecimal decodes the 16 bytes of a _pos value.
func PosFromDecimal(b []byte) (Pos, error) {
	if len(b) != 16 {
		return Pos{}, fmt.Errorf("_pos: want 16 bytes, got %d", len(b))
	}
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	if hi>>63 != 0 {
		return Pos{}, fmt.Errorf("_pos: negative value")
	}
	hi, lo, row := divmod128(hi, lo, tenPow9)
	fileHi, file, off := divmod128(hi, lo, tenPow19)
	p := Pos{File: int64(file), Offset: int64(off), Row: int64(row)}
	if fileHi != 0 || p.Check() != nil {
		return Pos{}, fmt.Errorf("_pos: value out of range")
	}
	return p, nil
}

// mul128 multiplies the 128-bit (hi, lo) by m.
func mul128(hi, lo, m uint64) (uint64, uint64) {
	h1, l := bits.Mul64(lo, m)
	_, h2 := bits.Mul64(hi, m)
	return h1 + h2, l
}

// divmod128 divides the 128-bit (hi, lo) by d and returns the quotient and
// remainder.
func divmod128(hi, lo, d uint64) (qhi, qlo, r uint64) {
	qhi, r = bits.Div64(0, hi, d)
	qlo, r = bits.Div64(r, lo, d)
	return qhi, qlo, r
}
