package schema

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
)

// decimalNode returns the leaf of a DECIMAL(p,s) stored as a
// FIXED_LEN_BYTE_ARRAY of the fewest bytes for p, with signed ordering.
//
// parquet-go orders FIXED_LEN_BYTE_ARRAY values as unsigned bytes, in the
// column buffer, in page bounds (page and column chunk statistics) and in
// the column index. The Parquet format orders DECIMAL as signed integers,
// and readers trust the statistics: with unsigned order a page holding -1
// and 1 gets min 1 and max -1, and "WHERE d < 0" skips it in Trino or
// Spark. signedDecimalType replaces exactly those pieces.
func decimalNode(p, s int) parquet.Node {
	base := parquet.Decimal(s, p, parquet.FixedLenByteArrayType(decimalBytes[p])).Type()
	return parquet.Leaf(&signedDecimalType{Type: base})
}

// compareTwos compares big-endian two's complement integers.
func compareTwos(a, b []byte) int {
	na := len(a) > 0 && a[0]&0x80 != 0
	nb := len(b) > 0 && b[0]&0x80 != 0
	switch {
	case na && !nb:
		return -1
	case nb && !na:
		return 1
	case len(a) == len(b):
		return bytes.Compare(a, b)
	}
	// Different widths: compare as if the shorter were sign-extended.
	ext := byte(0)
	if na {
		ext = 0xFF
	}
	n := max(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := ext, ext
		if j := i - (n - len(a)); j >= 0 {
			x = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			y = b[j]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

type signedDecimalType struct{ parquet.Type }

func (t *signedDecimalType) Compare(a, b parquet.Value) int {
	return compareTwos(a.ByteArray(), b.ByteArray())
}

func (t *signedDecimalType) NewColumnIndexer(int) parquet.ColumnIndexer {
	return &signedIndexer{}
}

func (t *signedDecimalType) NewColumnBuffer(columnIndex, numValues int) parquet.ColumnBuffer {
	return &signedBuffer{ColumnBuffer: t.Type.NewColumnBuffer(columnIndex, numValues), typ: t}
}

func (t *signedDecimalType) NewPage(columnIndex, numValues int, data encoding.Values) parquet.Page {
	return &signedPage{Page: t.Type.NewPage(columnIndex, numValues, data), typ: t}
}

type signedBuffer struct {
	parquet.ColumnBuffer
	typ *signedDecimalType
}

func (b *signedBuffer) Type() parquet.Type { return b.typ }

func (b *signedBuffer) Page() parquet.Page {
	return &signedPage{Page: b.ColumnBuffer.Page(), typ: b.typ}
}

func (b *signedBuffer) Clone() parquet.ColumnBuffer {
	return &signedBuffer{ColumnBuffer: b.ColumnBuffer.Clone(), typ: b.typ}
}

func (b *signedBuffer) Less(i, j int) bool {
	var v [1]parquet.Value
	var w [1]parquet.Value
	if n, _ := b.ReadValuesAt(v[:], int64(i)); n != 1 {
		return b.ColumnBuffer.Less(i, j)
	}
	if n, _ := b.ReadValuesAt(w[:], int64(j)); n != 1 {
		return b.ColumnBuffer.Less(i, j)
	}
	return compareTwos(v[0].ByteArray(), w[0].ByteArray()) < 0
}

type signedPage struct {
	parquet.Page
	typ *signedDecimalType
}

func (p *signedPage) Type() parquet.Type { return p.typ }

func (p *signedPage) Slice(i, j int64) parquet.Page {
	return &signedPage{Page: p.Page.Slice(i, j), typ: p.typ}
}

func (p *signedPage) Bounds() (min, max parquet.Value, ok bool) {
	size := p.typ.Length()
	vals := p.Data()
	data, _ := vals.Data()
	if size <= 0 || len(data) < size {
		return min, max, false
	}
	lo, hi := 0, 0
	switch {
	case size <= 8:
		lo, hi = boundsNarrow(data, size)
	case size <= 16:
		lo, hi = boundsWide(data, size)
	default:
		return min, max, false // decimalNode makes none wider than decimal(38)
	}
	return p.bounds(data[lo:lo+size], data[hi:hi+size])
}

func (p *signedPage) bounds(lo, hi []byte) (min, max parquet.Value, ok bool) {
	min = parquet.FixedLenByteArrayValue(lo)
	max = parquet.FixedLenByteArrayValue(hi)
	if c := p.Column(); c >= 0 {
		min.SetColumnIndex(c)
		max.SetColumnIndex(c)
	}
	return min, max, true
}

// boundsNarrow returns the offsets in data of the least and the greatest
// of its values of size ≤ 8 bytes (the first of equals), comparing them as
// int64s.
func boundsNarrow(data []byte, size int) (lo, hi int) {
	val := func(off int) int64 { return signedAt(data, off, size) }
	minV, maxV := val(0), val(0)
	for off := size; off+size <= len(data); off += size {
		v := val(off)
		if v < minV {
			minV, lo = v, off
		}
		if v > maxV {
			maxV, hi = v, off
		}
	}
	return lo, hi
}

// signedAt is the big-endian two's complement integer of the n ≤ 8 bytes
// at data[off:].
func signedAt(data []byte, off, n int) int64 {
	var u uint64
	if off+n >= 8 {
		// The 8 bytes that end with the value: it is their low bytes.
		u = binary.BigEndian.Uint64(data[off+n-8 : off+n])
	} else {
		for _, b := range data[off : off+n] {
			u = u<<8 | uint64(b)
		}
	}
	shift := uint(64 - 8*n)
	return int64(u<<shift) >> shift
}

// boundsWide is boundsNarrow for values of 9 to 16 bytes: each compares
// as its leading size-8 bytes, a signed integer, then its last 8, an
// unsigned one.
func boundsWide(data []byte, size int) (lo, hi int) {
	k := size - 8
	head := func(off int) int64 { return signedAt(data, off, k) }
	tail := func(off int) uint64 { return binary.BigEndian.Uint64(data[off+k : off+size]) }
	minH, minT := head(0), tail(0)
	maxH, maxT := minH, minT
	for off := size; off+size <= len(data); off += size {
		h, t := head(off), tail(off)
		if h < minH || h == minH && t < minT {
			minH, minT, lo = h, t, off
		}
		if h > maxH || h == maxH && t > maxT {
			maxH, maxT, hi = h, t, off
		}
	}
	return lo, hi
}

// signedIndexer builds the column index of a signed decimal column: full
// (never truncated, which would change a fixed-width value) minimum and
// maximum per page and the boundary order in signed order.
type signedIndexer struct {
	nullPages  []bool
	nullCounts []int64
	mins, maxs [][]byte
}

func (x *signedIndexer) Reset() {
	x.nullPages, x.nullCounts, x.mins, x.maxs = x.nullPages[:0], x.nullCounts[:0], x.mins[:0], x.maxs[:0]
}

func (x *signedIndexer) IndexPage(numValues, numNulls int64, min, max parquet.Value) {
	x.nullPages = append(x.nullPages, numValues == numNulls)
	x.nullCounts = append(x.nullCounts, numNulls)
	x.mins = append(x.mins, slices.Clone(min.ByteArray()))
	x.maxs = append(x.maxs, slices.Clone(max.ByteArray()))
}

func (x *signedIndexer) ColumnIndex() format.ColumnIndex {
	asc, desc := true, true
	prev := -1
	for i := range x.mins {
		if x.nullPages[i] {
			continue
		}
		if prev >= 0 {
			cmin := compareTwos(x.mins[prev], x.mins[i])
			cmax := compareTwos(x.maxs[prev], x.maxs[i])
			asc = asc && cmin <= 0 && cmax <= 0
			desc = desc && cmin >= 0 && cmax >= 0
		}
		prev = i
	}
	order := format.Unordered
	switch {
	case asc:
		order = format.Ascending
	case desc:
		order = format.Descending
	}
	mins := make([][]byte, len(x.mins))
	maxs := make([][]byte, len(x.maxs))
	for i := range mins {
		mins[i] = slices.Clone(x.mins[i])
		maxs[i] = slices.Clone(x.maxs[i])
		if mins[i] == nil {
			mins[i], maxs[i] = []byte{}, []byte{}
		}
	}
	return format.ColumnIndex{
		NullPages:     slices.Clone(x.nullPages),
		NullCounts:    slices.Clone(x.nullCounts),
		MinValues:     mins,
		MaxValues:     maxs,
		BoundaryOrder: order,
	}
}
