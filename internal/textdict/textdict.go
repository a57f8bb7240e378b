// Package textdict is a Parquet column type for dictionary-encoded text
// (BYTE_ARRAY) columns that parquet-go writes with less work per value
// than with its own dictionary, for the same bytes.
//
// parquet-go's byte-array dictionary hashes every value written into a Go
// map, and computes each page's min and max by looking up and comparing
// every value of the page. A merge writes each row of a snapshot again,
// most values coming from the base file's own dictionary pages: the same
// few strings at the same few addresses, row after row; ingest writes the
// same few operation, database, table and topic names. Dict remembers
// where it last saw a value (a small table by address and length; an
// entry of an earlier call is checked against the stored bytes, so a
// reused address is never taken on trust) and hashes only the values it
// has not met there; a page's bounds compare each distinct index once.
//
// Files are byte for byte those parquet-go writes with its own dictionary
// (the same indexes in the same order, the same pages, the same fall back
// to PLAIN once the dictionary outgrows the writer's DictionaryMaxBytes,
// which Node must be given). The type plugs into parquet-go's writer
// through its exported Type, Dictionary, ColumnBuffer and Page
// interfaces; the package's tests compare the bytes with parquet-go's own
// on random columns, so an upgrade of parquet-go that changes how the
// writer uses them fails there first.
package textdict

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
)

// Node returns leaf n, a BYTE_ARRAY column encoded RLE_DICTIONARY (or an
// optional one), with the type of this package. maxBytes must be the
// DictionaryMaxBytes of the writers that write it (0: none set).
func Node(n parquet.Node, maxBytes int64) parquet.Node {
	return node{Node: n, maxBytes: maxBytes}
}

type node struct {
	parquet.Node
	maxBytes int64
}

func (n node) Type() parquet.Type { return textType{Type: n.Node.Type(), maxBytes: n.maxBytes} }

// textType is the column's type: parquet-go's, but for the dictionary a
// writer makes.
type textType struct {
	parquet.Type
	maxBytes int64
}

// NewDictionary implements parquet.Type. A dictionary read from a file
// (data holds its values) is parquet-go's own.
func (t textType) NewDictionary(columnIndex, numValues int, data encoding.Values) parquet.Dictionary {
	if data.Size() > 0 || data.Kind() != encoding.ByteArray {
		return t.Type.NewDictionary(columnIndex, numValues, data)
	}
	return newDict(t.Type, columnIndex, t.maxBytes)
}

// cacheSize is the number of entries of a Dict's table of addresses: a
// power of two.
const cacheSize = 256

// cacheEntry says that the value of length n at address p was the value
// of index i in call number call of Insert. Addresses are kept as numbers:
// the table must not keep the memory of pages read long ago alive.
type cacheEntry struct {
	p    uintptr
	n    int
	i    int32
	call uint32
}

// Dict is the dictionary of one column chunk (parquet.Dictionary).
//
// It embeds a nil parquet.Dictionary only for the interface's unexported
// methods, which parquet-go calls from its own column buffers alone, never
// from this package's: calling one panics rather than write wrong indexes.
type Dict struct {
	parquet.Dictionary

	typ      parquet.Type // the column's parquet-go type
	column   int
	maxBytes int64

	values  []byte
	offsets []uint32 // len = Len()+1; value i is values[offsets[i]:offsets[i+1]]
	table   map[string]int32
	cache   [cacheSize]cacheEntry
	call    uint32 // number of the Insert call in progress

	// seen[i] == gen marks index i as met by the Bounds call in progress.
	seen []uint32
	gen  uint32
}

func newDict(typ parquet.Type, column int, maxBytes int64) *Dict {
	// values is never nil: an empty value is then a non-NULL one.
	return &Dict{typ: typ, column: column, maxBytes: maxBytes, values: make([]byte, 0, 256), offsets: []uint32{0}, table: map[string]int32{}}
}

// Type implements parquet.Dictionary: the type of the column buffers that
// hold indexes into d.
func (d *Dict) Type() parquet.Type { return indexedType{Type: d.typ, d: d} }

// Len implements parquet.Dictionary.
func (d *Dict) Len() int { return len(d.offsets) - 1 }

// Size implements parquet.Dictionary: the bytes of the values, which the
// writer compares with DictionaryMaxBytes.
func (d *Dict) Size() int64 { return int64(len(d.values)) }

func (d *Dict) value(i int32) []byte { return d.values[d.offsets[i]:d.offsets[i+1]:d.offsets[i+1]] }

// Index implements parquet.Dictionary.
func (d *Dict) Index(i int32) parquet.Value {
	return parquet.ByteArrayValue(d.value(i)).Level(0, 0, d.column)
}

// Insert implements parquet.Dictionary.
//
// The values of one call stay where they are while it runs: a value at
// the address and of the length of one met earlier in the same call is
// the same value. One met in an earlier call is compared with the bytes.
func (d *Dict) Insert(indexes []int32, values []parquet.Value) {
	_ = indexes[:len(values)]
	if d.call++; d.call == 0 {
		// Wrapped: the stamps of 2^32 calls ago would be taken for this one's.
		clear(d.cache[:])
		d.call = 1
	}
	// The value before, whose address and length a run of one value
	// (the database of every row of a table) repeats.
	var lastP uintptr
	lastN, lastI := -1, int32(0)
	for k := range values {
		b := values[k].ByteArray()
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		if p != lastP || len(b) != lastN {
			lastP, lastN, lastI = p, len(b), d.insert(b)
		}
		indexes[k] = lastI
	}
}

func (d *Dict) insert(b []byte) int32 {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	e := &d.cache[(p>>3^p>>13^uintptr(len(b)))&(cacheSize-1)]
	if e.p == p && e.n == len(b) {
		if e.call == d.call {
			return e.i
		}
		if int(e.i) < d.Len() && bytes.Equal(d.value(e.i), b) {
			e.call = d.call
			return e.i
		}
	}
	i, ok := d.table[string(b)]
	if !ok {
		i = d.add(b)
	}
	*e = cacheEntry{p: p, n: len(b), i: i, call: d.call}
	return i
}

func (d *Dict) add(b []byte) int32 {
	if int64(len(d.values))+int64(len(b)) > math.MaxUint32 {
		// As parquet-go's: the writer falls back to PLAIN long before.
		panic("textdict: dictionary larger than 4 GiB")
	}
	i := int32(d.Len())
	d.values = append(d.values, b...)
	d.offsets = append(d.offsets, uint32(len(d.values)))
	d.table[string(b)] = i
	return i
}

// Lookup implements parquet.Dictionary.
func (d *Dict) Lookup(indexes []int32, values []parquet.Value) {
	_ = values[:len(indexes)]
	for k, i := range indexes {
		values[k] = d.Index(i)
	}
}

// Bounds implements parquet.Dictionary: the least and greatest values of
// indexes, each distinct index compared once.
func (d *Dict) Bounds(indexes []int32) (lo, hi parquet.Value) {
	if len(indexes) == 0 {
		return lo, hi
	}
	if len(d.seen) < d.Len() {
		d.seen = append(d.seen, make([]uint32, d.Len()-len(d.seen))...)
	}
	d.gen++
	if d.gen == 0 { // wrapped: no mark can be taken for this call's
		clear(d.seen)
		d.gen = 1
	}
	seen, gen := d.seen, d.gen
	min := d.value(indexes[0])
	max := min
	for _, i := range indexes {
		if seen[i] == gen {
			continue
		}
		seen[i] = gen
		v := d.value(i)
		switch {
		case bytes.Compare(v, min) < 0:
			min = v
		case bytes.Compare(v, max) > 0:
			max = v
		}
	}
	return parquet.ByteArrayValue(min).Level(0, 0, d.column), parquet.ByteArrayValue(max).Level(0, 0, d.column)
}

// Reset implements parquet.Dictionary. The table of addresses stays: its
// entries are checked against the values anyway.
func (d *Dict) Reset() {
	d.values = d.values[:0]
	d.offsets = d.offsets[:1]
	clear(d.table)
}

// Page implements parquet.Dictionary: the values, for the dictionary page.
func (d *Dict) Page() parquet.Page {
	return d.typ.NewPage(d.column, d.Len(), encoding.ByteArrayValues(d.values, d.offsets))
}

// indexedType is the type of the column buffers of indexes into d.
type indexedType struct {
	parquet.Type
	d *Dict
}

// NewColumnBuffer implements parquet.Type. The writer asks for a new
// column buffer once at the start, and once more when the dictionary has
// outgrown DictionaryMaxBytes and the column goes on PLAIN: then the
// buffer is parquet-go's for the values themselves.
func (t indexedType) NewColumnBuffer(columnIndex, numValues int) parquet.ColumnBuffer {
	if t.d.maxBytes > 0 && t.d.Size() > t.d.maxBytes || t.d.Size() > hardMaxBytes {
		return t.Type.NewColumnBuffer(columnIndex, numValues)
	}
	return &columnBuffer{page: page{d: t.d, column: columnIndex, idx: make([]int32, 0, max(numValues, 0))}}
}

// NewPage implements parquet.Type: a page of indexes into t.d.
func (t indexedType) NewPage(columnIndex, numValues int, data encoding.Values) parquet.Page {
	idx := data.Int32()
	return &page{d: t.d, column: columnIndex, idx: idx[:min(len(idx), numValues)]}
}

// hardMaxBytes is the dictionary size past which parquet-go's writer
// goes on PLAIN whatever its DictionaryMaxBytes.
const hardMaxBytes = 1 << 30

// pageType is the type of a page of indexes, which are written as int32.
type pageType struct {
	parquet.Type
	d *Dict
}

func (pageType) NewValues(values []byte, _ []uint32) encoding.Values {
	return encoding.Int32ValuesFromBytes(values)
}

// Encode implements parquet.Type. A page of indexes to be written other
// than RLE_DICTIONARY (a writer whose DictionaryMaxBytes is not Node's
// went on PLAIN) is written as its values: the file holds what it should,
// not the indexes.
func (t pageType) Encode(dst []byte, src encoding.Values, enc encoding.Encoding) ([]byte, error) {
	// PLAIN_DICTIONARY is the older name of the same index encoding.
	if e := enc.Encoding(); e == format.RLEDictionary || e == format.PlainDictionary { //nolint:staticcheck // a writer may still ask for it
		return encoding.EncodeInt32(dst, src, enc)
	}
	var values []byte
	offsets := []uint32{0}
	for _, i := range src.Int32() {
		values = append(values, t.d.value(i)...)
		offsets = append(offsets, uint32(len(values)))
	}
	return encoding.EncodeByteArray(dst, encoding.ByteArrayValues(values, offsets), enc)
}

func (pageType) Decode(dst encoding.Values, src []byte, enc encoding.Encoding) (encoding.Values, error) {
	return encoding.DecodeInt32(dst, src, enc)
}

func (pageType) EstimateDecodeSize(numValues int, src []byte, enc encoding.Encoding) int {
	return parquet.Int32Type.EstimateDecodeSize(numValues, src, enc)
}

// page is a page of indexes into d (parquet.Page).
type page struct {
	d      *Dict
	column int
	idx    []int32
}

func (p *page) Type() parquet.Type             { return pageType{Type: p.d.Type(), d: p.d} }
func (p *page) Column() int                    { return p.column }
func (p *page) Dictionary() parquet.Dictionary { return p.d }
func (p *page) NumRows() int64                 { return int64(len(p.idx)) }
func (p *page) NumValues() int64               { return int64(len(p.idx)) }
func (p *page) NumNulls() int64                { return 0 }
func (p *page) Size() int64                    { return 4 * int64(len(p.idx)) }
func (p *page) RepetitionLevels() []byte       { return nil }
func (p *page) DefinitionLevels() []byte       { return nil }
func (p *page) Data() encoding.Values          { return encoding.Int32Values(p.idx) }
func (p *page) Values() parquet.ValueReader    { return &pageValues{p: p} }
func (p *page) Slice(i, j int64) parquet.Page {
	return &page{d: p.d, column: p.column, idx: p.idx[i:j]}
}
func (p *page) Bounds() (lo, hi parquet.Value, ok bool) {
	if len(p.idx) == 0 {
		return lo, hi, false
	}
	lo, hi = p.d.Bounds(p.idx)
	return lo, hi, true
}

type pageValues struct {
	p   *page
	off int
}

func (r *pageValues) ReadValues(values []parquet.Value) (int, error) {
	n := min(len(values), len(r.p.idx)-r.off)
	r.p.d.Lookup(r.p.idx[r.off:r.off+n], values[:n])
	r.off += n
	if r.off == len(r.p.idx) {
		return n, io.EOF
	}
	return n, nil
}

// columnBuffer is a column buffer of indexes into d
// (parquet.ColumnBuffer). Like Dict, it embeds a nil interface only for
// the unexported methods, which parquet-go's writer does not call on the
// base buffer of a column it writes from parquet.Values.
type columnBuffer struct {
	parquet.ColumnBuffer
	page
}

func (c *columnBuffer) Type() parquet.Type { return c.d.typ }
func (c *columnBuffer) Column() int        { return c.column }
func (c *columnBuffer) NumValues() int64   { return int64(len(c.idx)) }
func (c *columnBuffer) Size() int64        { return 4 * int64(len(c.idx)) }
func (c *columnBuffer) Dictionary() parquet.Dictionary {
	return c.d
}
func (c *columnBuffer) Page() parquet.Page               { return &c.page }
func (c *columnBuffer) Pages() parquet.Pages             { return &onePage{p: &c.page} }
func (c *columnBuffer) BloomFilter() parquet.BloomFilter { return nil }
func (c *columnBuffer) Reset()                           { c.idx = c.idx[:0] }
func (c *columnBuffer) Cap() int                         { return cap(c.idx) }
func (c *columnBuffer) Len() int                         { return len(c.idx) }
func (c *columnBuffer) Less(i, j int) bool {
	return bytes.Compare(c.d.value(c.idx[i]), c.d.value(c.idx[j])) < 0
}
func (c *columnBuffer) Swap(i, j int) { c.idx[i], c.idx[j] = c.idx[j], c.idx[i] }

func (c *columnBuffer) Clone() parquet.ColumnBuffer {
	return &columnBuffer{page: page{d: c.d, column: c.column, idx: append([]int32(nil), c.idx...)}}
}

var errNoIndex = errors.New("textdict: a column buffer has no page index")

func (c *columnBuffer) ColumnIndex() (parquet.ColumnIndex, error) { return nil, errNoIndex }
func (c *columnBuffer) OffsetIndex() (parquet.OffsetIndex, error) { return nil, errNoIndex }

// WriteValues implements parquet.ValueWriter: values are never NULL (the
// optional column buffer around this one keeps the NULLs).
func (c *columnBuffer) WriteValues(values []parquet.Value) (int, error) {
	n := len(c.idx)
	c.idx = slices.Grow(c.idx, len(values))[:n+len(values)]
	c.d.Insert(c.idx[n:], values)
	return len(values), nil
}

// ReadValuesAt implements parquet.ValueReaderAt.
func (c *columnBuffer) ReadValuesAt(values []parquet.Value, offset int64) (int, error) {
	if offset < 0 || offset > int64(len(c.idx)) {
		return 0, io.EOF
	}
	n := min(len(values), len(c.idx)-int(offset))
	c.d.Lookup(c.idx[offset:int(offset)+n], values[:n])
	if n < len(values) {
		return n, io.EOF
	}
	return n, nil
}

// onePage is the pages of a column buffer: its one page.
type onePage struct {
	p    parquet.Page
	done bool
}

func (o *onePage) ReadPage() (parquet.Page, error) {
	if o.done {
		return nil, io.EOF
	}
	o.done = true
	return o.p, nil
}

func (o *onePage) SeekToRow(row int64) error {
	if row != 0 {
		return errors.New("textdict: pages of a column buffer seek to row 0 only")
	}
	o.done = false
	return nil
}

func (o *onePage) Close() error { return nil }
