package merge

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/warehouse"
)

// fileCol is a column of a Parquet file: its index and its schema type.
type fileCol struct {
	index int
	typ   schema.Type
	kind  parquet.Kind
	size  int // FIXED_LEN_BYTE_ARRAY length
	req   bool
}

// fileColumns maps the columns of a binlake Parquet file (binlog,
// snapshot or tombstone) to their types: the data columns of schema
// version cols, the bookkeeping columns as binlake writes them.
func fileColumns(pf *parquetFile, cols []warehouse.CatalogColumn, types []schema.Type) map[string]fileCol {
	m := map[string]fileCol{}
	leaves := pf.file.Schema().Columns()
	for i, path := range leaves {
		if len(path) != 1 {
			continue
		}
		leaf, _ := pf.file.Schema().Lookup(path...)
		fc := fileCol{index: i, kind: leaf.Node.Type().Kind(), size: leaf.Node.Type().Length(), req: leaf.Node.Required()}
		switch path[0] {
		case warehouse.ColSourceDB, warehouse.ColSourceTable, warehouse.ColOp, warehouse.ColKafkaTopic:
			fc.typ = sourceType
		default:
			fc.typ = schema.Type{Kind: schema.Unknown}
		}
		m[path[0]] = fc
	}
	for i, c := range cols {
		if fc, ok := m[c.Name]; ok {
			fc.typ = types[i]
			m[c.Name] = fc
		}
	}
	return m
}

// keyReader reads the keys and positions of one row group of a snapshot
// data or tombstone file, row by row (in batches underneath). Its
// columns are read as raw bytes (rawReader) where they are of a rawKind
// and need no conversion, as parquet.Values (the batcher) otherwise.
type keyReader struct {
	b       *batcher
	raw     []rawCol // by batcher column; r nil: read by the batcher
	keys    []keyCol
	convs   []converter
	hasKey  []bool
	n, i    int
	arena   []byte
	offs    []int
	scratch []byte
	// column positions in the batcher
	posCol, dbCol, tableCol int
	// checkPos says _pos's values are checked for their length: unless
	// its type already fixes it.
	checkPos bool
	// intKey is the encoding of the last key column when it is an
	// integer column read raw (encInt32 or encInt64; else 0), as
	// the id of (_source_db, _source_table, id) or a key of one column.
	// Then a batch whose other key columns hold one value throughout and
	// whose integers are not NULL is lazy: its keys are not encoded into arena
	// but are prefix (the other columns' encoding) and the integer; key
	// encodes the current row's into one, and below compares integers.
	intKey keyEnc
	lazy   bool
	prefix []byte
	one    []byte
}

// newKeyReader reads rg, whose columns fc describes, with the key
// columns of out. withSource also reads _source_db and _source_table.
func newKeyReader(rg parquet.RowGroup, fc map[string]fileCol, out *layout, withSource bool) (*keyReader, error) {
	r := &keyReader{keys: out.keys, dbCol: -1, tableCol: -1}
	var cols []int
	var kinds []physKind
	for _, k := range out.keys {
		c, ok := fc[k.name]
		idx := -1
		if ok {
			idx = c.index
			if c.typ.Kind == schema.Unknown {
				return nil, fmt.Errorf("key column %s: unknown type in the file", k.name)
			}
		}
		cols = append(cols, idx)
		r.hasKey = append(r.hasKey, ok)
		r.convs = append(r.convs, newConverter(k.name, c.typ, c.kind, k.typ, out.kinds[k.col], 0, false))
		kind := physKind{}
		if ok && r.convs[len(r.convs)-1].same {
			kind = physKind{kind: c.kind, size: c.size}
		}
		kinds = append(kinds, kind)
	}
	pc, ok := fc[warehouse.ColPos]
	if !ok {
		return nil, fmt.Errorf("no %s column", warehouse.ColPos)
	}
	r.posCol = len(cols)
	// A required FIXED_LEN_BYTE_ARRAY(16), as binlake writes _pos, has
	// the right length in every row; other columns are checked row by row.
	r.checkPos = !pc.req || pc.kind != parquet.FixedLenByteArray || pc.size != posLen
	cols = append(cols, pc.index)
	kinds = append(kinds, physKind{kind: pc.kind, size: pc.size})
	if withSource {
		for _, name := range []string{warehouse.ColSourceDB, warehouse.ColSourceTable} {
			c, ok := fc[name]
			if !ok {
				return nil, fmt.Errorf("no %s column", name)
			}
			if name == warehouse.ColSourceDB {
				r.dbCol = len(cols)
			} else {
				r.tableCol = len(cols)
			}
			cols = append(cols, c.index)
			kinds = append(kinds, physKind{kind: c.kind, size: c.size})
		}
	}
	chunks := rg.ColumnChunks()
	r.raw = make([]rawCol, len(cols))
	for i, c := range cols {
		if c >= 0 && rawKind(kinds[i].kind) {
			r.raw[i] = rawCol{file: c, kind: kinds[i], vals: make([][]byte, batchRows), r: newRawReader(chunks[c], kinds[i])}
			cols[i] = skipCol
		}
	}
	r.b = newBatcher(rg, cols, batchRows)
	if last := len(r.keys) - 1; r.raw[last].r != nil && (r.keys[last].enc == encInt32 || r.keys[last].enc == encInt64) {
		r.intKey = r.keys[last].enc
	}
	return r, nil
}

// value is batch row row of batcher column i as a parquet.Value.
func (r *keyReader) value(i, row int) parquet.Value {
	if rc := &r.raw[i]; rc.r != nil {
		return rawValue(rc.kind, rc.vals[row])
	}
	return r.b.bufs[i][row]
}

// bytesAt is batch row row of batcher column i, a byte array column.
func (r *keyReader) bytesAt(i, row int) []byte {
	if rc := &r.raw[i]; rc.r != nil {
		return rc.vals[row]
	}
	return r.b.bufs[i][row].ByteArray()
}

// sameEnds reports whether batcher column i has the same value (or NULL)
// in the first and the last of the batch's n rows.
func (r *keyReader) sameEnds(i, n int) bool {
	if rc := &r.raw[i]; rc.r != nil {
		a, b := rc.vals[0], rc.vals[n-1]
		return (a == nil) == (b == nil) && bytes.Equal(a, b)
	}
	return parquet.Equal(r.b.bufs[i][0], r.b.bufs[i][n-1])
}

// next moves to the next row; false at the end.
func (r *keyReader) next() (bool, error) {
	r.i++
	if r.i < r.n {
		return true, nil
	}
	n, err := r.b.next()
	if err != nil || n == 0 {
		r.n, r.i = 0, 0
		return false, err
	}
	r.n, r.i = n, 0
	for i := range r.raw {
		if rc := &r.raw[i]; rc.r != nil {
			got, err := rc.r.read(rc.vals[:n])
			if err == nil && got != n {
				err = fmt.Errorf("%d values for %d rows", got, n)
			}
			if err != nil {
				return false, fmt.Errorf("column %d: %w", rc.file, err)
			}
		}
	}
	for row := 0; r.checkPos && row < n; row++ {
		if p := r.bytesAt(r.posCol, row); len(p) != posLen {
			return false, fmt.Errorf("%s: want %d bytes, got %d", warehouse.ColPos, posLen, len(p))
		}
	}
	last := len(r.keys) - 1
	r.lazy = r.intKey != 0 && !slices.ContainsFunc(r.raw[last].vals[:n], func(b []byte) bool { return b == nil })
	// The rows are in key order: when the first and the last have the
	// same value in the columns before the integer, so do all.
	for k := 0; k < last && r.lazy; k++ {
		r.lazy = !r.hasKey[k] || r.sameEnds(k, n)
	}
	if r.lazy {
		r.prefix = r.prefix[:0]
		for k := range last {
			if r.prefix, err = r.appendKey(r.prefix, k, 0); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	r.arena, r.offs = r.arena[:0], r.offs[:0]
	for row := 0; row < n; row++ {
		r.offs = append(r.offs, len(r.arena))
		for k := range r.keys {
			if r.arena, err = r.appendKey(r.arena, k, row); err != nil {
				return false, err
			}
		}
	}
	r.offs = append(r.offs, len(r.arena))
	return true, nil
}

// appendKey appends the encoding of key column k of row row of the batch.
func (r *keyReader) appendKey(dst []byte, k, row int) ([]byte, error) {
	pv := r.value(k, row)
	if !r.hasKey[k] {
		pv = parquet.NullValue()
	}
	if !r.convs[k].same && !pv.IsNull() {
		r.scratch = r.scratch[:0]
		var err error
		if pv, err = r.convs[k].convert(pv, &r.scratch); err != nil {
			return dst, err
		}
	}
	return appendKeyValue(dst, r.keys[k].enc, pv), nil
}

// key is the current row's key. It is valid until the next call of key,
// keyAt, next or skip.
func (r *keyReader) key() []byte { return r.keyAt(r.i) }

// keyAt is the key of row j of the current batch (j >= r.i), valid as
// key's.
func (r *keyReader) keyAt(j int) []byte {
	if r.lazy {
		last := &r.raw[len(r.keys)-1]
		r.one = appendKeyValue(append(r.one[:0], r.prefix...), r.intKey, rawValue(last.kind, last.vals[j]))
		return r.one
	}
	return r.arena[r.offs[j]:r.offs[j+1]]
}

// below returns how many rows of the current batch, from the current
// one on, have keys below limit (nil: no bound), at least 0.
func (r *keyReader) below(limit []byte) int {
	if limit == nil {
		return r.n - r.i
	}
	if r.lazy {
		// Keys of the batch are prefix and an integer: those of a limit
		// of another prefix are all below it or none.
		if !bytes.HasPrefix(limit, r.prefix) {
			if bytes.Compare(limit, r.prefix) < 0 {
				return 0
			}
			return r.n - r.i
		}
		if v, ok := intKeyOf(limit[len(r.prefix):], r.intKey); ok {
			// Raw integers, little-endian.
			vs := r.raw[len(r.keys)-1].vals[r.i:r.n]
			if r.intKey == encInt32 {
				for j, b := range vs {
					if int64(int32(binary.LittleEndian.Uint32(b))) >= v {
						return j
					}
				}
			} else {
				for j, b := range vs {
					if int64(binary.LittleEndian.Uint64(b)) >= v {
						return j
					}
				}
			}
			return len(vs)
		}
	}
	for j := r.i; j < r.n; j++ {
		if bytes.Compare(r.keyAt(j), limit) >= 0 {
			return j - r.i
		}
	}
	return r.n - r.i
}

// intKeyOf decodes the key encoding of one non-NULL integer of encoding
// enc (encInt32 or encInt64); false for another encoding.
func intKeyOf(key []byte, enc keyEnc) (int64, bool) {
	switch {
	case enc == encInt32 && len(key) == 5 && key[0] == 1:
		return int64(int32Key(key[1:])), true
	case enc == encInt64 && len(key) == 9 && key[0] == 1:
		return int64Key(key[1:]), true
	}
	return 0, false
}

// skip moves n rows on (n >= 1, at most the rows of the current batch
// from the current one); false at the end.
func (r *keyReader) skip(n int) (bool, error) {
	r.i += n - 1
	return r.next()
}
func (r *keyReader) pos() []byte { return r.bytesAt(r.posCol, r.i) }

// appendPos appends the _pos of rows from…from+n-1 of the batch to dst,
// posLen bytes each (next made sure of their length). _pos is read raw:
// a column of a kind that is not (BOOLEAN, INT96) fails next's check of
// the length.
func (r *keyReader) appendPos(dst []byte, from, n int) []byte {
	o := len(dst)
	dst = slices.Grow(dst, n*posLen)[:o+n*posLen]
	d := dst[o:]
	for _, p := range r.raw[r.posCol].vals[from : from+n] {
		*(*[posLen]byte)(d) = *(*[posLen]byte)(p)
		d = d[posLen:]
	}
	return dst
}

// db and table are the row's _source_db and _source_table; nil unless the
// reader was made withSource.
func (r *keyReader) db() []byte {
	if r.dbCol < 0 {
		return nil
	}
	return r.bytesAt(r.dbCol, r.i)
}

func (r *keyReader) table() []byte {
	if r.tableCol < 0 {
		return nil
	}
	return r.bytesAt(r.tableCol, r.i)
}

func (r *keyReader) close() {
	r.b.close()
	for _, rc := range r.raw {
		if rc.r != nil {
			rc.r.close()
		}
	}
}
