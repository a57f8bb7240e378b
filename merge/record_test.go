package merge

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestCompactRecords checks that a compact record (the source columns
// left out of the payload, as the key has them) comes back as the full
// record through appendFull, for sources with escaped bytes, empty and
// NULL ones, and that sourceOf reads the source of either form.
func TestCompactRecords(t *testing.T) {
	kinds := []physKind{{kind: parquet.ByteArray}, {kind: parquet.ByteArray}, {kind: parquet.Int64}, {kind: parquet.ByteArray}}
	full := rowCodec{kinds: kinds, widths: []int{varWidth, varWidth, 8, varWidth}}
	compact := full
	compact.srcInKey = true
	bytesOrNull := func(s *string) parquet.Value {
		if s == nil {
			return parquet.Value{}
		}
		return parquet.ByteArrayValue([]byte(*s))
	}
	str := func(s string) *string { return &s }
	var cache sourceCache // shared, as by the records of a merge
	for _, c := range []struct{ db, table *string }{
		{str("shop"), str("orders")},
		{str("a\x00b\x00"), str("\x00")},
		{str(""), str("t")},
		{str("db"), nil},
		{str("shop"), str("orders")},
		{str("shop"), str("orders2")},
	} {
		cols := [][]parquet.Value{{bytesOrNull(c.db)}, {bytesOrNull(c.table)}, {parquet.Int64Value(42)}, {parquet.ByteArrayValue([]byte("note\x00x"))}}
		key := appendKeyValue(nil, encBytes, cols[0][0])
		key = appendKeyValue(key, encBytes, cols[1][0])
		key = appendKeyValue(key, encInt64, cols[2][0])
		pos := make([]byte, posLen)
		want, err := full.appendRow(appendRecordHeader(nil, key, pos, 7, opUpsert, 0), cols, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := compact.appendRow(appendRecordHeader(nil, key, pos, 7, opUpsert, 0), cols, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if c.db != nil && c.table != nil && len(rec) >= len(want) {
			t.Errorf("%q/%q: compact record of %d bytes, full one of %d", *c.db, *c.table, len(rec), len(want))
		}
		got, err := compact.appendFull([]byte("x"), rec, &cache)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[1:], want) {
			t.Errorf("%v/%v: appendFull gives\n%q, want\n%q", c.db, c.table, got[1:], want)
		}
		if same, err := full.appendFull(nil, want, &cache); err != nil || !bytes.Equal(same, want) {
			t.Errorf("appendFull of a codec without srcInKey changes the record: %q, %v", same, err)
		}
		if c.table == nil {
			continue
		}
		for _, f := range []struct {
			codec rowCodec
			rec   record
		}{{full, want}, {compact, rec}, {compact, want}} {
			db, table := f.codec.sourceOf(f.rec)
			if string(db) != *c.db || string(table) != *c.table {
				t.Errorf("sourceOf gives %q/%q, want %q/%q", db, table, *c.db, *c.table)
			}
		}
	}
}

// TestDecodeKeyBytes: byte string key values come back from their key
// encoding as they went in — with 0x00 bytes, empty, NULL — as do the
// values after them, in new memory or in a scratch buffer; a cut key is
// an error.
func TestDecodeKeyBytes(t *testing.T) {
	keys := []keyCol{{col: 0, enc: encBytes}, {col: 1, enc: encInt64}, {col: 2, enc: encBytes}}
	kinds := []physKind{{kind: parquet.ByteArray}, {kind: parquet.Int64}, {kind: parquet.ByteArray}}
	val := func(s *string) parquet.Value {
		if s == nil {
			return parquet.Value{}
		}
		return parquet.ByteArrayValue([]byte(*s))
	}
	str := func(s string) *string { return &s }
	for _, c := range []struct{ a, b *string }{
		{str("plain"), str("x")},
		{str("a\x00b\x00"), str("\x00")},
		{str(""), str("")},
		{nil, str("\x00\x01\x00\xff")},
		{str("tail\x00"), nil},
	} {
		want := []parquet.Value{val(c.a), parquet.Int64Value(-7), val(c.b)}
		var key []byte
		for i, v := range want {
			key = appendKeyValue(key, keys[i].enc, v)
		}
		var scratch []byte
		for _, sc := range []*[]byte{nil, &scratch} {
			got, err := appendDecodedKey(nil, sc, key, keys, kinds)
			if err != nil {
				t.Fatalf("%q: %v", key, err)
			}
			for i := range want {
				if got[i].IsNull() != want[i].IsNull() || !bytes.Equal(got[i].Bytes(), want[i].Bytes()) {
					t.Errorf("%q column %d: got %v, want %v", key, i, got[i], want[i])
				}
			}
		}
		for n := range len(key) - 1 {
			if _, err := decodeKey(key[:n], keys, kinds); err == nil {
				t.Errorf("%q cut to %d bytes decodes", key, n)
			}
		}
	}
}

// TestAppendColumn checks that the values appendColumn decodes from change
// records are those the records were encoded from, of every physical kind,
// NULLs included, with their column index and definition level, for
// change rows named in any order; and that appendChange finds a cut
// record corrupt and adds nothing of it.
func TestAppendColumn(t *testing.T) {
	kinds := []physKind{{kind: parquet.ByteArray}, {kind: parquet.Int32}, {kind: parquet.Boolean},
		{kind: parquet.Int64}, {kind: parquet.Float}, {kind: parquet.Double},
		{kind: parquet.FixedLenByteArray, size: 3}, {kind: parquet.ByteArray}}
	codec := rowCodec{kinds: kinds, widths: []int{varWidth, 4, 1, 8, 4, 8, 3, varWidth}}
	rows := [][]parquet.Value{
		{parquet.ByteArrayValue([]byte("db")), parquet.Int32Value(-5), parquet.BooleanValue(true),
			parquet.Int64Value(1 << 40), parquet.FloatValue(1.5), parquet.DoubleValue(-2.25),
			parquet.FixedLenByteArrayValue([]byte("abc")), parquet.ByteArrayValue([]byte("note"))},
		{{}, {}, {}, {}, {}, {}, {}, {}},
		{parquet.ByteArrayValue(nil), parquet.Int32Value(7), parquet.BooleanValue(false),
			parquet.Int64Value(-1), parquet.FloatValue(-0.5), parquet.DoubleValue(3),
			parquet.FixedLenByteArrayValue([]byte{0, 1, 2}), parquet.ByteArrayValue(bytes.Repeat([]byte("x"), 300))},
	}
	ch := newTestChunk(codec)
	for r, row := range rows {
		rec := addChangeRecord(t, codec, ch, r, row)
		if r != 1 { // its last value ends the record: a cut record is corrupt
			ends := make([]int, len(ch.cols))
			for c, cc := range ch.cols {
				ends[c] = cc.end
			}
			hdr := len(rec) - len(record(rec).payload())
			for n := hdr; n < len(rec); n++ {
				if err := codec.appendChange(ch, rec[:n]); err == nil {
					t.Errorf("row %d cut to %d of its %d bytes: no error", r, n, len(rec))
				}
				for c, cc := range ch.cols {
					if cc.end != ends[c] {
						t.Fatalf("row %d cut to %d bytes: column %d holds %d bytes, want %d", r, n, c, cc.end, ends[c])
					}
				}
			}
			if ch.nrecs != r+1 {
				t.Fatalf("row %d: %d change rows", r, ch.nrecs)
			}
		}
	}
	plan := []int64{-3, -1, -2, -1}
	for col := 1; col <= len(kinds); col++ {
		got := codec.appendColumn([]parquet.Value{{}}, ch, plan, col)[1:]
		if len(got) != len(plan) {
			t.Fatalf("column %d: %d values for %d rows", col, len(got), len(plan))
		}
		for i, e := range plan {
			want := rows[-1-e][col-1]
			g := got[i]
			def := 1
			if want.IsNull() || col < nMeta {
				def = 0
			}
			if g.IsNull() != want.IsNull() || g.Kind() != want.Kind() || !bytes.Equal(g.Bytes(), want.Bytes()) ||
				g.Column() != col || g.DefinitionLevel() != def {
				t.Errorf("column %d, row %d: got %v (column %d, level %d), want %v (level %d)", col, -1-e, g, g.Column(), g.DefinitionLevel(), want, def)
			}
		}
	}
}

// TestAppendColumnKinds compares appendColumn, which has a loop of its
// own for the usual kinds, with appendColumnValues, which decodes any
// kind value by value, on random records (NULLs, empty and long byte
// arrays among them) and random plans: rows in any order, repeated, runs
// of any length, appended after values already in dst.
func TestAppendColumnKinds(t *testing.T) {
	kinds := []physKind{{kind: parquet.ByteArray}, {kind: parquet.ByteArray}, {kind: parquet.Int64},
		{kind: parquet.Int32}, {kind: parquet.FixedLenByteArray, size: 16}, {kind: parquet.ByteArray},
		{kind: parquet.Boolean}, {kind: parquet.Double}, {kind: parquet.FixedLenByteArray, size: 1}}
	codec := rowCodec{kinds: kinds, widths: []int{varWidth, varWidth, 8, 4, 16, varWidth, 1, 8, 1}}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		ch := newTestChunk(codec)
		nrows := 1 + rng.IntN(300)
		if round%8 == 0 {
			nrows = 1000 + rng.IntN(3000) // the columns grow a few times
		}
		for r := range nrows {
			row := make([]parquet.Value, len(kinds))
			for i, k := range kinds {
				var v parquet.Value // NULL one time in five
				if rng.IntN(5) > 0 {
					v = randomValue(rng, k)
				}
				row[i] = v
			}
			addChangeRecord(t, codec, ch, r, row)
		}
		for r := range nrows {
			if p := ch.pos(r); binary.BigEndian.Uint64(p[8:]) != uint64(r) {
				t.Fatalf("round %d: change row %d has _pos %x", round, r, p)
			}
		}
		plan := make([]int64, rng.IntN(2*nrows))
		for i := range plan {
			plan[i] = -1 - int64(rng.IntN(nrows))
			if i > 0 && rng.IntN(2) == 0 && plan[i-1] > -int64(nrows) {
				plan[i] = plan[i-1] - 1 // the next row: runs as the merger's
			}
		}
		for col := 1; col <= len(kinds); col++ {
			pre := []parquet.Value{parquet.Int64Value(9)}
			got := codec.appendColumn(slices.Clone(pre), ch, plan, col)
			want := codec.appendColumnValues(slices.Clone(pre), ch, plan, col)
			if len(got) != len(want) {
				t.Fatalf("round %d column %d: %d values, want %d", round, col, len(got), len(want))
			}
			for i := range want {
				if !sameValue(got[i], want[i]) {
					t.Fatalf("round %d column %d value %d: got %v (column %d, level %d), want %v (column %d, level %d)",
						round, col, i, got[i], got[i].Column(), got[i].DefinitionLevel(), want[i], want[i].Column(), want[i].DefinitionLevel())
				}
			}
			// A column's block of change rows from a random one on
			// (colSource.decodeChanges), as the short runs of a chunk
			// take their values from.
			s := &colSource{col: col, codec: codec}
			r := rng.IntN(nrows)
			s.decodeChanges(ch, r)
			if s.chgLo != r || len(s.chg) != min(changeBlock, nrows-r) {
				t.Fatalf("round %d column %d: rows %d… decoded as %d rows from %d", round, col, r, len(s.chg), s.chgLo)
			}
			for k, g := range s.chg {
				w := codec.appendColumnValues(nil, ch, []int64{int64(-1 - r - k)}, col)[0]
				if !sameValue(g, w) {
					t.Fatalf("round %d column %d: row %d decoded as %v, want %v", round, col, r+k, g, w)
				}
			}
		}
	}
}

// sameValue reports whether two values are the same, levels and column
// index included.
func sameValue(g, w parquet.Value) bool {
	return g.Kind() == w.Kind() && g.IsNull() == w.IsNull() && bytes.Equal(g.Bytes(), w.Bytes()) &&
		g.Column() == w.Column() && g.DefinitionLevel() == w.DefinitionLevel() && g.RepetitionLevel() == w.RepetitionLevel()
}

// TestShortChangeRuns checks which plans count as of short runs of
// change rows.
func TestShortChangeRuns(t *testing.T) {
	for _, c := range []struct {
		plan  []int64
		short bool
	}{
		{[]int64{0, 1, 2}, false}, // no change rows
		{[]int64{0, -1, 1, -2, 2, -3}, true},
		{[]int64{-1, -2, -3, -4, 0, 1}, false},
		{[]int64{-1, -2, -3, 0, -4, -5, -6, 1}, true}, // 3 a run on average
		{[]int64{-1, -2, -3, -4, -5, 0, -6, -7, -8}, false},
	} {
		if got := shortChangeRuns(c.plan, planRuns(nil, c.plan)); got != c.short {
			t.Errorf("%v: short %v, want %v", c.plan, got, c.short)
		}
	}
}

// newTestChunk returns an empty chunk of codec's columns, with room for
// one change row: appendChange makes more as it goes.
func newTestChunk(codec rowCodec) *chunk {
	ch := &chunk{cols: make([]chgCol, len(codec.kinds)+1)}
	ch.makeRows(1)
	return ch
}

// TestChunkRoom fills a chunk of maxRows rows with change rows, then,
// reset, with other rows, change rows among base rows: change rows are
// never made room for past the rows the chunk can take, fixed-width
// columns not past an eighth more than they need, and the chunk filled
// again holds the new values, in the room it had (none of it made
// anew).
func TestChunkRoom(t *testing.T) {
	kinds := []physKind{{kind: parquet.ByteArray}, {kind: parquet.Int64}, {kind: parquet.Int32}, {kind: parquet.ByteArray}}
	codec := rowCodec{kinds: kinds, widths: []int{varWidth, 8, 4, varWidth}}
	rng := rand.New(rand.NewPCG(7, 8))
	row := func(r, n int) []parquet.Value {
		return []parquet.Value{parquet.ByteArrayValue(bytes.Repeat([]byte{byte(r)}, n)), parquet.Int64Value(int64(r) << 33),
			parquet.Int32Value(int32(-r)), parquet.ByteArrayValue([]byte(strconv.Itoa(r)))}
	}
	const maxRows = 3000
	ch := &chunk{cols: make([]chgCol, len(codec.kinds)+1), maxRows: maxRows}
	ch.makeRows(100)
	for r := range maxRows {
		addChangeRecord(t, codec, ch, r, row(r, 20))
		ch.plan = append(ch.plan, -int64(ch.nrecs))
	}
	if ch.room > maxRows {
		t.Errorf("room for %d change rows in a chunk of %d rows", ch.room, maxRows)
	}
	for c, w := range codec.widths {
		if n := len(ch.cols[1+c].data); w != varWidth && n > maxRows*w*9/8+w {
			t.Errorf("column %d: %d bytes of room for %d values of %d bytes", 1+c, n, maxRows, w)
		}
	}
	before := make([]*byte, len(ch.cols))
	for c := range ch.cols {
		before[c] = &ch.cols[c].data[0]
	}
	ch.reset()
	var want [][]parquet.Value
	for len(ch.plan) < maxRows {
		if rng.IntN(3) == 0 {
			ch.plan = append(ch.plan, int64(len(ch.plan))) // a base row
			continue
		}
		r := 1000 + len(want)
		want = append(want, row(r, rng.IntN(21)))
		addChangeRecord(t, codec, ch, r, want[len(want)-1])
		ch.plan = append(ch.plan, -int64(ch.nrecs))
	}
	for c := range ch.cols {
		if &ch.cols[c].data[0] != before[c] {
			t.Errorf("column %d: room made anew", c)
		}
	}
	plan := make([]int64, len(want))
	for k := range plan {
		plan[k] = -1 - int64(k)
	}
	for col := 1; col <= len(kinds); col++ {
		got := codec.appendColumn(nil, ch, plan, col)
		for k, g := range got {
			if w := want[k][col-1]; !bytes.Equal(g.Bytes(), w.Bytes()) {
				t.Fatalf("column %d, change row %d: %v, want %v", col, k, g, w)
			}
		}
	}
}

// addChangeRecord encodes row as change row r (key r, position r) and
// adds it to ch's change rows; it returns the record.
func addChangeRecord(t *testing.T, codec rowCodec, ch *chunk, r int, row []parquet.Value) []byte {
	t.Helper()
	cols := make([][]parquet.Value, len(row))
	for i, v := range row {
		cols[i] = []parquet.Value{v}
	}
	key := appendKeyValue(nil, encInt64, parquet.Int64Value(int64(r)))
	pos := make([]byte, posLen)
	binary.BigEndian.PutUint64(pos[8:], uint64(r))
	rec, err := codec.appendRow(appendRecordHeader(nil, key, pos, uint64(r), opUpsert, 0), cols, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err = codec.appendChange(ch, rec); err != nil {
		t.Fatal(err)
	}
	if got := ch.pos(ch.nrecs - 1); !bytes.Equal(got, pos) {
		t.Fatalf("change row %d: _pos %x, want %x", r, got, pos)
	}
	return rec
}

// TestBatchEncoder compares the payloads batchEncoder encodes a column at
// a time with appendRow's, row by row, on random batches: every kind,
// columns raw (as rawReader reads them) or as values, NULLs, empty and
// long byte arrays, compact codecs (srcInKey) and full ones; and checks
// that a value of the wrong kind or size fails the batch.
func TestBatchEncoder(t *testing.T) {
	all := []physKind{{kind: parquet.Boolean}, {kind: parquet.Int32}, {kind: parquet.Int64}, {kind: parquet.Float},
		{kind: parquet.Double}, {kind: parquet.ByteArray}, {kind: parquet.FixedLenByteArray, size: 5},
		{kind: parquet.FixedLenByteArray, size: 16}}
	rng := rand.New(rand.NewPCG(5, 6))
	var e batchEncoder // reused, as by readChangeFile
	for round := range 300 {
		// Columns colDB and colTable are byte arrays, as in a layout.
		kinds := []physKind{{kind: parquet.ByteArray}, {kind: parquet.ByteArray}}
		for range 1 + rng.IntN(12) {
			kinds = append(kinds, all[rng.IntN(len(all))])
		}
		l := &layout{kinds: append([]physKind{{kind: parquet.FixedLenByteArray, size: posLen}}, kinds...)}
		if rng.IntN(2) == 0 {
			l.keys = []keyCol{{col: colDB}, {col: colTable}}
		}
		codec := newRowCodec(l)
		n := 1 + rng.IntN(changeBatchRows)
		cols := make([][]parquet.Value, len(kinds))
		raw := make([][][]byte, len(kinds)-rng.IntN(2)) // may be shorter
		for i, k := range kinds {
			asRaw := i < len(raw) && k.kind != parquet.Boolean && rng.IntN(3) > 0
			if asRaw {
				raw[i] = make([][]byte, changeBatchRows) // longer than the batch
			} else {
				cols[i] = make([]parquet.Value, n)
			}
			for r := range n {
				if rng.IntN(5) == 0 {
					continue // NULL
				}
				v := randomValue(rng, k)
				if !asRaw {
					cols[i][r] = v
					continue
				}
				switch k.kind {
				case parquet.Int32, parquet.Float:
					raw[i][r] = binary.LittleEndian.AppendUint32(nil, binary.LittleEndian.Uint32(v.Bytes()))
				case parquet.Int64, parquet.Double:
					raw[i][r] = binary.LittleEndian.AppendUint64(nil, binary.LittleEndian.Uint64(v.Bytes()))
				default:
					raw[i][r] = append([]byte{}, v.ByteArray()...) // not nil: empty is not NULL
				}
			}
		}
		if err := e.encode(codec, cols, raw, n); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for r := range n {
			want, err := codec.appendRow(nil, cols, raw, r)
			if err != nil {
				t.Fatalf("round %d row %d: %v", round, r, err)
			}
			if got := e.row(r); !bytes.Equal(got, want) {
				t.Fatalf("round %d row %d (compact %v): got\n%x, want\n%x", round, r, codec.srcInKey, got, want)
			}
		}
		// A value column with a value of another kind, or a FIXED_LEN_BYTE_ARRAY of
		// another size, fails the batch, as appendRow fails its row.
		for i, k := range kinds {
			if cols[i] == nil || i < colTable {
				continue
			}
			r := rng.IntN(n)
			old := cols[i][r]
			switch k.kind {
			case parquet.ByteArray:
				cols[i][r] = parquet.Int32Value(1)
			case parquet.FixedLenByteArray:
				cols[i][r] = parquet.FixedLenByteArrayValue(make([]byte, k.size+1))
			default:
				cols[i][r] = parquet.ByteArrayValue([]byte("x"))
			}
			_, rowErr := codec.appendRow(nil, cols, raw, r)
			if err := e.encode(codec, cols, raw, n); err == nil || rowErr == nil {
				t.Fatalf("round %d: column %d with %v: batch error %v, row error %v", round, i+1, cols[i][r], err, rowErr)
			}
			cols[i][r] = old
			break
		}
	}
}

// randomValue returns a random value of kind k: byte arrays of up to 20
// bytes, or one time in four of 100 to 400 (lengths of two uvarint
// bytes).
func randomValue(rng *rand.Rand, k physKind) parquet.Value {
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	switch k.kind {
	case parquet.Boolean:
		return parquet.BooleanValue(rng.IntN(2) == 0)
	case parquet.Int32:
		return parquet.Int32Value(int32(rng.Uint32()))
	case parquet.Int64:
		return parquet.Int64Value(int64(rng.Uint64()))
	case parquet.Float:
		return parquet.FloatValue(rng.Float32())
	case parquet.Double:
		return parquet.DoubleValue(rng.Float64())
	case parquet.FixedLenByteArray:
		return parquet.FixedLenByteArrayValue(randBytes(k.size))
	}
	n := rng.IntN(20)
	if rng.IntN(4) == 0 {
		n = 100 + rng.IntN(300)
	}
	return parquet.ByteArrayValue(randBytes(n))
}

// TestAppendChangeSlow compares the change rows appendChange adds with
// those appendChangeSlow (which makes room value by value) adds, from
// random records: every width the fast loop copies in its own way, byte
// arrays of one-byte and longer lengths, NULLs, cut records (which must
// add nothing), columns near and past their room, and a codec of more
// than 64 columns (left to appendChangeSlow).
func TestAppendChangeSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	kinds := []physKind{{kind: parquet.ByteArray}, {kind: parquet.ByteArray}, {kind: parquet.Int64},
		{kind: parquet.Int32}, {kind: parquet.FixedLenByteArray, size: 16}, {kind: parquet.ByteArray},
		{kind: parquet.Boolean}, {kind: parquet.Double}, {kind: parquet.FixedLenByteArray, size: 3},
		{kind: parquet.FixedLenByteArray, size: 32}, {kind: parquet.FixedLenByteArray, size: 40}, {kind: parquet.Float}}
	wide := make([]physKind, 70)
	for i := range wide {
		wide[i] = kinds[i%len(kinds)]
	}
	for round := range 40 {
		ks := kinds[:1+rng.IntN(len(kinds))]
		if round%10 == 9 {
			ks = wide
		}
		codec := newRowCodec(&layout{kinds: append([]physKind{{kind: parquet.ByteArray}}, ks...)})
		fast, slow := newTestChunk(codec), newTestChunk(codec)
		for r := range 1 + rng.IntN(3000) {
			row := make([]parquet.Value, len(ks))
			for i, k := range ks {
				switch {
				case rng.IntN(5) == 0: // NULL
				case k.kind == parquet.ByteArray:
					n := rng.IntN(40)
					if rng.IntN(10) == 0 {
						n = 100 + rng.IntN(300)
					}
					row[i] = parquet.ByteArrayValue(bytes.Repeat([]byte{byte(r)}, n))
				default:
					row[i] = randomValue(rng, k)
				}
			}
			cols := make([][]parquet.Value, len(row))
			for i, v := range row {
				cols[i] = []parquet.Value{v}
			}
			pos := make([]byte, posLen)
			binary.BigEndian.PutUint64(pos[8:], uint64(r))
			key := appendKeyValue(nil, encInt64, parquet.Int64Value(int64(r)))
			rec, err := codec.appendRow(appendRecordHeader(nil, key, pos, uint64(r), opUpsert, 0), cols, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			if rng.IntN(20) == 0 {
				rec = rec[:len(rec)-1-rng.IntN(len(record(rec).payload()))]
			}
			errF, errS := codec.appendChange(fast, rec), codec.appendChangeSlow(slow, rec)
			if (errF == nil) != (errS == nil) {
				t.Fatalf("round %d record %d: appendChange: %v, appendChangeSlow: %v", round, r, errF, errS)
			}
			if fast.nrecs != slow.nrecs {
				t.Fatalf("round %d record %d: %d change rows, appendChangeSlow %d", round, r, fast.nrecs, slow.nrecs)
			}
		}
		for c := range fast.cols {
			f, s := fast.cols[c], slow.cols[c]
			if c == colPos {
				f.end, s.end = fast.nrecs*posLen, slow.nrecs*posLen
			}
			if !bytes.Equal(f.data[:f.end], s.data[:s.end]) || (c != colPos && !slices.Equal(f.offs[:fast.nrecs], s.offs[:slow.nrecs])) {
				t.Fatalf("round %d: column %d differs from appendChangeSlow's", round, c)
			}
		}
	}
}
