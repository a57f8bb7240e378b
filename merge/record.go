package merge

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/parquet-go/parquet-go"
)

// A change record is one change row, encoded so that sorting records by
// bytes.Compare of their sort keys orders them by key, then position, then
// arrival (the order of files and of rows in each file):
//
//	uint16   len(key), big-endian
//	key      the key encoding (see keyEnc); prefix-free
//	pos      16 bytes, the _pos decimal (byte order is numeric order)
//	seq      8 bytes big-endian, the arrival number
//	op       one byte
//	flags    one byte
//	payload  the row's values of columns 1…n-1 (see rowCodec)
//
// Because key encodings are prefix-free, key‖pos‖seq compares as the tuple.
//
// When the key leads with _source_db and _source_table, records being
// sorted leave their values out of the payload (the key has them); such
// a record is compact, and rowCodec.appendFull puts them back.
type record []byte

// Change operations in records.
const (
	opUpsert byte = iota + 1
	opDelete
)

// Record flags.
const (
	// flagEarlier marks a change from an hour before the merged day: a
	// late change the previous merge did not have.
	flagEarlier byte = 1 << iota
)

const (
	posLen = 16
	seqLen = 8
)

// maxKeyLen is the longest key encoding a record holds.
const maxKeyLen = 1<<16 - 1

func (r record) keyLen() (n, klen int) {
	return 2, int(binary.BigEndian.Uint16(r))
}

// key returns the key encoding.
func (r record) key() []byte {
	w, k := r.keyLen()
	return r[w : w+k]
}

// sortKey is key‖pos‖seq.
func (r record) sortKey() []byte {
	w, k := r.keyLen()
	return r[w : w+k+posLen+seqLen]
}

func (r record) pos() []byte {
	w, k := r.keyLen()
	return r[w+k : w+k+posLen]
}

func (r record) op() byte {
	w, k := r.keyLen()
	return r[w+k+posLen+seqLen]
}

func (r record) flags() byte {
	w, k := r.keyLen()
	return r[w+k+posLen+seqLen+1]
}

func (r record) payload() []byte {
	w, k := r.keyLen()
	return r[w+k+posLen+seqLen+2:]
}

func compareRecords(a, b record) int { return bytes.Compare(a.sortKey(), b.sortKey()) }

// appendRecordHeader starts a record; the key must be at most maxKeyLen
// bytes.
func appendRecordHeader(dst, key, pos []byte, seq uint64, op, flags byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(key)))
	dst = append(dst, key...)
	dst = append(dst, pos...)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	return append(dst, op, flags)
}

// rowCodec encodes the values of columns 1…n-1 of a layout: a NULL bitmap,
// then each non-NULL value in its column's physical form (booleans one
// byte, INT32 and FLOAT 4 bytes, INT64 and DOUBLE 8, little-endian; fixed
// length byte arrays as is; byte arrays with a uvarint length).
type rowCodec struct {
	kinds  []physKind // of columns 1…n-1
	widths []int      // their encoded widths, varWidth for byte arrays
	// srcInKey says the key leads with _source_db and _source_table:
	// appendRow then leaves their non-NULL values out (compact records).
	srcInKey bool
}

// varWidth is the width of a value with a uvarint length.
const varWidth = -1

func newRowCodec(l *layout) rowCodec {
	c := rowCodec{kinds: l.kinds[1:], widths: make([]int, len(l.kinds)-1),
		srcInKey: len(l.keys) >= 2 && l.keys[0].col == colDB && l.keys[1].col == colTable}
	for i, k := range c.kinds {
		switch k.kind {
		case parquet.Boolean:
			c.widths[i] = 1
		case parquet.Int32, parquet.Float:
			c.widths[i] = 4
		case parquet.Int64, parquet.Double:
			c.widths[i] = 8
		case parquet.FixedLenByteArray:
			c.widths[i] = k.size
		default:
			c.widths[i] = varWidth
		}
	}
	return c
}

// appendRow encodes row r of cols, the values of columns 1…n-1 (one
// slice per column): a compact payload if c.srcInKey. A column i with
// raw[i] != nil (raw may be shorter than cols) takes its value from
// raw[i][r] instead: the value's encoding without its length, as a
// rawReader reads it, nil for NULL.
func (c rowCodec) appendRow(dst []byte, cols [][]parquet.Value, raw [][][]byte, r int) ([]byte, error) {
	kinds := c.kinds
	nb := (len(kinds) + 7) / 8
	start := len(dst)
	dst = append(dst, make([]byte, nb)...)
	for i := range kinds {
		if i < len(raw) && raw[i] != nil {
			b := raw[i][r]
			switch {
			case b == nil:
				dst[start+i/8] |= 1 << (i % 8)
				continue
			case i < colTable && c.srcInKey:
				continue
			}
			// Copied as numbers, not through memmove, when they are.
			switch c.widths[i] {
			case varWidth:
				if len(b) < 0x80 {
					dst = append(dst, byte(len(b)))
				} else {
					dst = binary.AppendUvarint(dst, uint64(len(b)))
				}
				dst = append(dst, b...)
			case 4:
				dst = binary.LittleEndian.AppendUint32(dst, binary.LittleEndian.Uint32(b))
			case 8:
				dst = binary.LittleEndian.AppendUint64(dst, binary.LittleEndian.Uint64(b))
			default:
				dst = append(dst, b...)
			}
			continue
		}
		v := &cols[i][r] // not copied: only the fields the kind needs are read
		k := &kinds[i]
		// One comparison in the common case: a NULL's Kind is no kind.
		if v.Kind() != k.kind {
			if v.IsNull() {
				dst[start+i/8] |= 1 << (i % 8)
				continue
			}
			return dst, fmt.Errorf("column %d: %s value for a %s column", i+1, v.Kind(), k.kind)
		}
		if i < colTable && c.srcInKey {
			continue // columns colDB and colTable: the key has them
		}
		switch k.kind {
		case parquet.Boolean:
			if v.Boolean() {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		case parquet.Int32:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(v.Int32()))
		case parquet.Int64:
			dst = binary.LittleEndian.AppendUint64(dst, uint64(v.Int64()))
		case parquet.Float:
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v.Float()))
		case parquet.Double:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Double()))
		case parquet.FixedLenByteArray:
			b := v.ByteArray()
			if len(b) != k.size {
				return dst, fmt.Errorf("column %d: %d bytes for a FIXED_LEN_BYTE_ARRAY(%d)", i+1, len(b), k.size)
			}
			dst = append(dst, b...)
		default:
			b := v.ByteArray()
			dst = binary.AppendUvarint(dst, uint64(len(b)))
			dst = append(dst, b...)
		}
	}
	return dst, nil
}

var errCorrupt = fmt.Errorf("corrupt change record")

// sourceCache holds the source columns of the last record appendFull
// completed, which the next ones mostly share.
type sourceCache struct {
	key  []byte // their key encoding
	vals []byte // their values, as a full payload holds them
}

// appendFull appends rec with a full payload: if c.srcInKey, the values
// of _source_db and _source_table that appendRow left out are put back
// from the key.
func (c rowCodec) appendFull(dst []byte, rec record, cache *sourceCache) ([]byte, error) {
	if !c.srcInKey {
		return append(dst, rec...), nil
	}
	w, k := rec.keyLen()
	hdr := w + k + posLen + seqLen + 2
	nb := (len(c.kinds) + 7) / 8
	if len(rec) < hdr+nb {
		return dst, errCorrupt
	}
	// Key encodings are prefix-free: a key that starts with the cached
	// encoding has the cached values.
	if key := rec.key(); len(cache.key) == 0 || !bytes.HasPrefix(key, cache.key) {
		cache.key, cache.vals = cache.key[:0], cache.vals[:0]
		rest := key
		for range colTable {
			v, n, ok := keyBytes(rest)
			if !ok {
				cache.key = cache.key[:0]
				return dst, errCorrupt
			}
			rest = rest[n:]
			if v != nil { // not NULL (then the payload's bit says NULL too)
				cache.vals = binary.AppendUvarint(cache.vals, uint64(unescapedLen(v)))
				cache.vals = appendUnescaped(cache.vals, v)
			}
		}
		cache.key = append(cache.key, key[:len(key)-len(rest)]...)
	}
	dst = append(dst, rec[:hdr+nb]...)
	dst = append(dst, cache.vals...)
	return append(dst, rec[hdr+nb:]...), nil
}

// sourceOf returns a change's _source_db and _source_table, never NULL:
// from its key if c.srcInKey (rec may be compact or full), else the first
// two values of its payload.
func (c rowCodec) sourceOf(rec record) (db, table []byte) {
	var out [2][]byte
	if c.srcInKey {
		key := rec.key()
		for i := range out {
			v, n, ok := keyBytes(key)
			if !ok {
				return nil, nil
			}
			out[i], key = v, key[n:]
			if indexZero(v) >= 0 {
				out[i] = appendUnescaped(nil, v)
			}
		}
		return out[0], out[1]
	}
	p := rec.payload()
	nb := (len(c.kinds) + 7) / 8
	if len(p) < nb {
		return nil, nil
	}
	p = p[nb:]
	for i := range out {
		n, w := binary.Uvarint(p)
		if w <= 0 || uint64(len(p)-w) < n {
			return nil, nil
		}
		out[i], p = p[w:w+int(n)], p[w+int(n):]
	}
	return out[0], out[1]
}

// nullOffset marks a NULL value in chgCol.offs.
const nullOffset = ^uint32(0)

// appendChange adds change record rec, with a full payload, to the
// change rows of ch: its _pos to column 0, and each value of its payload
// to its column. A corrupt record adds nothing.
//
// It is the loop that adds every change value of the clustered shape,
// written for the usual record: one that fits in ch.slack (with 32 bytes
// to spare) and in the change rows' room, of at most 64 columns, whose
// byte arrays have a length of one byte. It calls nothing in the loop (a
// call would keep its variables on the stack), tests no column's room,
// and copies any value of up to 32 bytes as one array of 16 or 32 bytes.
// Any other record it leaves to appendChangeSlow.
func (c rowCodec) appendChange(ch *chunk, rec record) error {
	p := rec.payload()
	nb := (len(c.widths) + 7) / 8
	k := ch.nrecs
	if len(p) < nb || nb > 8 || k >= ch.room || len(p)+32 > ch.slack {
		return c.appendChangeSlow(ch, rec)
	}
	var nulls uint64 // bit i: column 1+i is NULL
	for j, b := range p[:nb] {
		nulls |= uint64(b) << (8 * j)
	}
	widths := c.widths
	cols := ch.cols[1:][:len(widths)]
	off := nb
	for i, n := range widths {
		cc := &cols[i]
		null := nulls&1 != 0
		nulls >>= 1
		if null {
			cc.offs[k] = nullOffset
			continue
		}
		// n is the value's bytes, its length included.
		if n == varWidth {
			if off >= len(p) || p[off] >= 0x80 {
				ch.dropChange(i)
				return c.appendChangeSlow(ch, rec)
			}
			n = 1 + int(p[off])
		}
		start := off
		if off += n; off > len(p) {
			ch.dropChange(i)
			return c.appendChangeSlow(ch, rec)
		}
		// The column has room for the record and 32 bytes more (slack):
		// bytes copied past the value are overwritten by the next one.
		end := cc.end
		cc.offs[k] = uint32(end)
		cc.end = end + n
		switch {
		case n <= 16 && len(p)-start >= 16:
			*(*[16]byte)(cc.data[end : end+16 : end+16]) = *(*[16]byte)(p[start : start+16 : start+16])
		case n <= 32 && len(p)-start >= 32:
			*(*[32]byte)(cc.data[end : end+32 : end+32]) = *(*[32]byte)(p[start : start+32 : start+32])
		case n == 8:
			*(*[8]byte)(cc.data[end : end+8 : end+8]) = *(*[8]byte)(p[start : start+8 : start+8])
		case n == 4:
			*(*[4]byte)(cc.data[end : end+4 : end+4]) = *(*[4]byte)(p[start : start+4 : start+4])
		default:
			copy(cc.data[end:], p[start:off])
		}
	}
	ch.slack -= len(p)
	*(*[posLen]byte)(ch.cols[colPos].data[k*posLen:]) = *(*[posLen]byte)(rec.pos())
	ch.nrecs++
	return nil
}

// appendChangeSlow is appendChange for any record: it makes room as it
// goes, then measures ch.slack anew.
func (c rowCodec) appendChangeSlow(ch *chunk, rec record) error {
	p := rec.payload()
	nb := (len(c.widths) + 7) / 8
	if len(p) < nb {
		return errCorrupt
	}
	k := ch.nrecs
	if k == ch.room {
		ch.makeRows(max(2*k, 1024))
	}
	cols := ch.cols[1:]
	widths := c.widths[:len(cols)]
	nulls := p[:nb]
	off := nb
	for i := range cols {
		cc := &cols[i]
		if nulls[uint(i)/8]&(1<<(uint(i)%8)) != 0 {
			cc.offs[k] = nullOffset
			continue
		}
		// n is the value's bytes, its length included.
		n := widths[i]
		if n == varWidth {
			if n = uvarintValueLen(p[off:]); n < 0 {
				ch.dropChange(i)
				return errCorrupt
			}
		}
		start := off
		if off += n; off > len(p) {
			ch.dropChange(i)
			return errCorrupt
		}
		if cc.end+n > len(cc.data) {
			ch.makeRoom(1+i, n)
		}
		cc.offs[k] = uint32(cc.end)
		cc.end += copy(cc.data[cc.end:], p[start:off])
	}
	copy(ch.cols[colPos].data[k*posLen:], rec.pos())
	ch.nrecs++
	ch.slack = math.MaxInt
	for _, cc := range cols {
		ch.slack = min(ch.slack, len(cc.data)-cc.end)
	}
	return nil
}

// uvarintValueLen is the bytes of a byte array value at the start of b,
// its uvarint length included, or -1 if b is too short for it.
// Out of line: a rare path, kept out of the loops that add values.
//
//go:noinline
func uvarintValueLen(b []byte) int {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return -1
	}
	return w + int(n)
}

// dropChange removes what appendChange added to columns 1…n of ch for
// a change row it did not finish.
// Out of line: a rare path, kept out of the loops that add values.
//
//go:noinline
func (ch *chunk) dropChange(n int) {
	for i := range n {
		cc := &ch.cols[1+i]
		if off := cc.offs[ch.nrecs]; off != nullOffset {
			cc.end = int(off)
		}
	}
}

// appendColumn appends to dst the values of column col (>= 1) of the
// change rows of ch that plan names (entries < 0: change row -1-e), with
// their column index and definition level. The values refer to the
// chunk's bytes.
//
// It is called for every run of change rows, in the uniform shape mostly
// of one row, and decodes every change value in the clustered shape: the
// usual kinds have loops of their own, which store each value in room
// made once, without a switch on the kind per value.
func (c rowCodec) appendColumn(dst []parquet.Value, ch *chunk, plan []int64, col int) []parquet.Value {
	k := c.kinds[col-1]
	switch k.kind {
	case parquet.Int64, parquet.Int32, parquet.ByteArray, parquet.FixedLenByteArray:
	default:
		return c.appendColumnValues(dst, ch, plan, col)
	}
	def := 1
	if col < nMeta {
		def = 0
	}
	if uint(col) > parquet.MaxColumnIndex {
		panic("merge: column index out of range")
	}
	offs, data := ch.cols[col].offs, ch.cols[col].data
	var null parquet.Value
	null.SetColumnIndex(col)
	start := len(dst)
	dst = slices.Grow(dst, len(plan))[:start+len(plan)]
	out := dst[start:]
	out = out[:len(plan)]
	switch k.kind {
	case parquet.Int64:
		for i, e := range plan {
			off := offs[-1-e]
			if off == nullOffset {
				out[i] = null
				continue
			}
			out[i] = parquet.Int64Value(int64(binary.LittleEndian.Uint64(data[off:])))
			out[i].SetDefinitionLevel(def)
			out[i].SetColumnIndex(col)
		}
	case parquet.Int32:
		for i, e := range plan {
			off := offs[-1-e]
			if off == nullOffset {
				out[i] = null
				continue
			}
			out[i] = parquet.Int32Value(int32(binary.LittleEndian.Uint32(data[off:])))
			out[i].SetDefinitionLevel(def)
			out[i].SetColumnIndex(col)
		}
	case parquet.FixedLenByteArray:
		size := uint32(k.size)
		for i, e := range plan {
			off := offs[-1-e]
			if off == nullOffset {
				out[i] = null
				continue
			}
			out[i] = parquet.FixedLenByteArrayValue(data[off : off+size : off+size])
			out[i].SetDefinitionLevel(def)
			out[i].SetColumnIndex(col)
		}
	default: // parquet.ByteArray
		for i, e := range plan {
			off := offs[-1-e]
			if off == nullOffset {
				out[i] = null
				continue
			}
			b := data[off:]
			var n, w uint64 = uint64(b[0]), 1 // a length of one byte, mostly
			if n >= 0x80 {
				var m int
				n, m = binary.Uvarint(b)
				w = uint64(m)
			}
			out[i] = parquet.ByteArrayValue(b[w : w+n : w+n])
			out[i].SetDefinitionLevel(def)
			out[i].SetColumnIndex(col)
		}
	}
	return dst
}

// appendColumnValues is appendColumn for any kind, one value after the
// other.
func (c rowCodec) appendColumnValues(dst []parquet.Value, ch *chunk, plan []int64, col int) []parquet.Value {
	def := 1
	if col < nMeta {
		def = 0
	}
	offs, data := ch.cols[col].offs, ch.cols[col].data
	k := c.kinds[col-1]
	var null parquet.Value
	null.SetColumnIndex(col)
	for _, e := range plan {
		off := offs[-1-e]
		if off == nullOffset {
			dst = append(dst, null)
			continue
		}
		b := data[off:]
		var v parquet.Value
		switch k.kind {
		case parquet.Boolean:
			v = parquet.BooleanValue(b[0] != 0)
		case parquet.Int32:
			v = parquet.Int32Value(int32(binary.LittleEndian.Uint32(b)))
		case parquet.Int64:
			v = parquet.Int64Value(int64(binary.LittleEndian.Uint64(b)))
		case parquet.Float:
			v = parquet.FloatValue(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		case parquet.Double:
			v = parquet.DoubleValue(math.Float64frombits(binary.LittleEndian.Uint64(b)))
		case parquet.FixedLenByteArray:
			v = parquet.FixedLenByteArrayValue(b[:k.size:k.size])
		default:
			n, w := binary.Uvarint(b)
			v = parquet.ByteArrayValue(b[w : w+int(n) : w+int(n)])
		}
		// Levels set in place: Value.Level copies the value in and out.
		dst = append(dst, v)
		p := &dst[len(dst)-1]
		p.SetDefinitionLevel(def)
		p.SetColumnIndex(col)
	}
	return dst
}

// batchEncoder encodes the payloads of a batch of rows as appendRow does,
// a column at a time: first each row's length, then each column's values
// into every row's place. appendRow goes row by row through every column
// (its raw values, NULL bits and width) and costs about three times as
// much per value.
type batchEncoder struct {
	buf   []byte
	start []int // row r's payload is buf[start[r]:start[r+1]]
	cur   []int // where each row's next value goes
}

// encode encodes rows 0…n-1 of cols and raw (as appendRow takes them).
// An error (a value of the wrong kind or size) leaves the batch to
// appendRow, which names the column of the row that has it.
func (e *batchEncoder) encode(c rowCodec, cols [][]parquet.Value, raw [][][]byte, n int) error {
	kinds := c.kinds
	nb := (len(kinds) + 7) / 8
	e.start = slices.Grow(e.start[:0], n+1)[:n+1]
	e.cur = slices.Grow(e.cur[:0], n)[:n]
	size := e.start[:n]
	for r := range size {
		size[r] = nb
	}
	for i := range kinds {
		skip := i < colTable && c.srcInKey
		if i < len(raw) && raw[i] != nil {
			vals := raw[i][:n]
			switch w := c.widths[i]; {
			case skip:
			case w == varWidth:
				for r, b := range vals {
					if b != nil {
						size[r] += uvarintLen(len(b)) + len(b)
					}
				}
			default:
				for r, b := range vals {
					if b != nil {
						size[r] += w
					}
				}
			}
			continue
		}
		k := kinds[i]
		for r := range size {
			v := &cols[i][r]
			if v.Kind() != k.kind {
				if v.IsNull() {
					continue
				}
				return errCorrupt
			}
			switch w := c.widths[i]; {
			case skip:
			case w == varWidth:
				size[r] += uvarintLen(len(v.ByteArray())) + len(v.ByteArray())
			case k.kind == parquet.FixedLenByteArray && len(v.ByteArray()) != k.size:
				return errCorrupt
			default:
				size[r] += w
			}
		}
	}
	total := 0
	for r, s := range size {
		e.start[r], e.cur[r] = total, total+nb
		total += s
	}
	e.start[n] = total
	e.buf = slices.Grow(e.buf[:0], total)[:total]
	buf := e.buf
	for _, s := range e.start[:n] {
		for j := range nb {
			buf[s+j] = 0
		}
	}
	for i := range kinds {
		if i < len(raw) && raw[i] != nil {
			e.rawColumn(raw[i][:n], i, c.widths[i], i < colTable && c.srcInKey)
		} else {
			e.valueColumn(cols[i][:n], i, kinds[i].kind, i < colTable && c.srcInKey)
		}
	}
	return nil
}

// rawColumn writes column i's raw values (of width w) into their rows'
// payloads; skip: only their NULL bits.
func (e *batchEncoder) rawColumn(vals [][]byte, i, w int, skip bool) {
	buf, cur, start := e.buf, e.cur[:len(vals)], e.start[:len(vals)]
	bit, nbyte := byte(1)<<(i%8), i/8
	switch {
	case skip:
		for r, b := range vals {
			if b == nil {
				buf[start[r]+nbyte] |= bit
			}
		}
	case w == varWidth:
		for r, b := range vals {
			if b == nil {
				buf[start[r]+nbyte] |= bit
				continue
			}
			o := cur[r]
			if len(b) < 0x80 {
				buf[o] = byte(len(b))
				o++
			} else {
				o += binary.PutUvarint(buf[o:], uint64(len(b)))
			}
			cur[r] = o + copy(buf[o:], b)
		}
	case w == 4:
		for r, b := range vals {
			if b == nil {
				buf[start[r]+nbyte] |= bit
				continue
			}
			binary.LittleEndian.PutUint32(buf[cur[r]:], binary.LittleEndian.Uint32(b))
			cur[r] += 4
		}
	case w == 8:
		for r, b := range vals {
			if b == nil {
				buf[start[r]+nbyte] |= bit
				continue
			}
			binary.LittleEndian.PutUint64(buf[cur[r]:], binary.LittleEndian.Uint64(b))
			cur[r] += 8
		}
	default:
		for r, b := range vals {
			if b == nil {
				buf[start[r]+nbyte] |= bit
				continue
			}
			cur[r] += copy(buf[cur[r]:], b)
		}
	}
}

// valueColumn writes column i's values (of kind k, checked by encode)
// into their rows' payloads; skip: only their NULL bits.
func (e *batchEncoder) valueColumn(vals []parquet.Value, i int, k parquet.Kind, skip bool) {
	buf, cur, start := e.buf, e.cur[:len(vals)], e.start[:len(vals)]
	bit := byte(1) << (i % 8)
	for r := range vals {
		v := &vals[r]
		if v.IsNull() {
			buf[start[r]+i/8] |= bit
			continue
		}
		if skip {
			continue
		}
		o := cur[r]
		switch k {
		case parquet.Boolean:
			buf[o] = 0
			if v.Boolean() {
				buf[o] = 1
			}
			o++
		case parquet.Int32:
			binary.LittleEndian.PutUint32(buf[o:], uint32(v.Int32()))
			o += 4
		case parquet.Int64:
			binary.LittleEndian.PutUint64(buf[o:], uint64(v.Int64()))
			o += 8
		case parquet.Float:
			binary.LittleEndian.PutUint32(buf[o:], math.Float32bits(v.Float()))
			o += 4
		case parquet.Double:
			binary.LittleEndian.PutUint64(buf[o:], math.Float64bits(v.Double()))
			o += 8
		case parquet.FixedLenByteArray:
			o += copy(buf[o:], v.ByteArray())
		default:
			b := v.ByteArray()
			o += binary.PutUvarint(buf[o:], uint64(len(b)))
			o += copy(buf[o:], b)
		}
		cur[r] = o
	}
}

// row returns row r's payload, which encode encoded last.
func (e *batchEncoder) row(r int) []byte { return e.buf[e.start[r]:e.start[r+1]] }

// uvarintLen is the bytes of n's uvarint encoding.
func uvarintLen(n int) int {
	w := 1
	for ; n >= 0x80; n >>= 7 {
		w++
	}
	return w
}
