package merge

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/warehouse"
)

// TestKeyReaderIntKey checks keyReader's path for keys that end in an
// integer column (batches whose other key columns hold one value and
// whose integers are not NULL are not encoded: below compares integers,
// key and keyAt encode one key) against its general path (every key
// encoded, below comparing bytes), over files of one INT or BIGINT key,
// alone or after _source_db and _source_table, with and without NULL
// keys and with one or several sources per batch: below with limits at,
// between, below and above the keys, of other sources, NULL and none;
// key, keyAt and pos after runs of rows skipped.
func TestKeyReaderIntKey(t *testing.T) {
	for _, tc := range []struct {
		kind    schema.Kind
		source  bool
		nulls   int // in a thousand
		sources int
	}{
		{schema.Int, false, 0, 1}, {schema.Int, false, 20, 1}, {schema.BigInt, false, 0, 1}, {schema.BigInt, false, 400, 1},
		{schema.Int, true, 0, 1}, {schema.Int, true, 0, 2}, {schema.BigInt, true, 5, 3}, {schema.Int, true, 0, 300},
	} {
		t.Run(fmt.Sprintf("%s-source=%v-nulls=%d-sources=%d", tc.kind, tc.source, tc.nulls, tc.sources), func(t *testing.T) {
			for seed := range uint64(4) {
				testKeyReaderIntKey(t, tc.kind, tc.source, tc.nulls, tc.sources, seed)
			}
		})
	}
}

func testKeyReaderIntKey(t *testing.T, kind schema.Kind, source bool, nulls, sources int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	types := []schema.Type{{Kind: kind}}
	out, err := newLayout(1, []warehouse.CatalogColumn{{Name: "id", Type: types[0].String()}}, types, []string{"id"}, source, false)
	if err != nil {
		t.Fatal(err)
	}
	enc := out.keys[len(out.keys)-1].enc
	lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
	if kind == schema.BigInt {
		lo, hi = math.MinInt64, math.MaxInt64
	}
	value := func(k int64) parquet.Value {
		if kind == schema.Int {
			return parquet.Int32Value(int32(k))
		}
		return parquet.Int64Value(k)
	}
	// Rows are (db, table, id), in the order of their keys.
	type krow struct {
		db, table string
		id        parquet.Value
		key       []byte
	}
	keyOf := func(db, table string, id parquet.Value) []byte {
		var k []byte
		if source {
			k = appendKeyValue(k, encBytes, parquet.ByteArrayValue([]byte(db)))
			k = appendKeyValue(k, encBytes, parquet.ByteArrayValue([]byte(table)))
		}
		return appendKeyValue(k, enc, id)
	}
	randSource := func() (string, string) {
		i := rng.IntN(sources)
		return fmt.Sprint("db", i%7), fmt.Sprint("t", i)
	}
	var rows []krow
	for _, k := range []int64{lo, hi, -1, 0, 1} {
		db, table := randSource()
		rows = append(rows, krow{db: db, table: table, id: value(k)})
	}
	for len(rows) < 3000 { // three batches
		db, table := randSource()
		id := parquet.NullValue()
		switch r := rng.IntN(1000); {
		case r < nulls:
		case r%3 == 0: // small, with neighbours
			id = value(rng.Int64N(200) - 100)
		default:
			id = value(lo + int64(rng.Uint64N(uint64(hi-lo))))
		}
		rows = append(rows, krow{db: db, table: table, id: id})
	}
	for i := range rows {
		rows[i].key = keyOf(rows[i].db, rows[i].table, rows[i].id)
	}
	slices.SortFunc(rows, func(a, b krow) int { return bytes.Compare(a.key, b.key) })
	rows = slices.CompactFunc(rows, func(a, b krow) bool { return bytes.Equal(a.key, b.key) })

	var buf bytes.Buffer
	w := parquet.NewGenericWriter[any](&buf, out.schema, parquet.PageBufferSize(2048))
	prows := make([]parquet.Row, len(rows))
	for r, kr := range rows {
		pos := make([]byte, posLen)
		pos[posLen-1], pos[posLen-2] = byte(r), byte(r>>8)
		id := kr.id.Level(0, 1, nMeta)
		if kr.id.IsNull() {
			id = parquet.Value{}.Level(0, 0, nMeta)
		}
		prows[r] = parquet.Row{
			parquet.FixedLenByteArrayValue(pos).Level(0, 0, 0),
			parquet.ByteArrayValue([]byte(kr.db)).Level(0, 0, colDB),
			parquet.ByteArrayValue([]byte(kr.table)).Level(0, 0, colTable),
			id,
		}
	}
	f := writeAndOpen(t, w, &buf, prows)
	pf := &parquetFile{file: f}
	fc := fileColumns(pf, out.cols, out.types)
	rg := f.RowGroups()[0]
	fast, err := newKeyReader(rg, fc, out, false)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.close()
	if fast.intKey != enc {
		t.Fatalf("intKey %d, want %d", fast.intKey, enc)
	}
	slow, err := newKeyReader(rg, fc, out, false)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.close()
	slow.intKey = 0

	limit := func() []byte {
		kr := rows[rng.IntN(len(rows))]
		switch rng.IntN(10) {
		case 0:
			return nil
		case 1:
			return keyOf(kr.db, kr.table, parquet.NullValue())
		case 2:
			return keyOf(kr.db, kr.table, value([]int64{lo, hi}[rng.IntN(2)]))
		case 3:
			db, table := randSource()
			return keyOf(db, table, value(rng.Int64N(200)-100))
		}
		if kr.id.IsNull() {
			return kr.key
		}
		k := kr.id.Int64()
		if kind == schema.Int {
			k = int64(kr.id.Int32())
		}
		if d := rng.Int64N(3) - 1; (d < 0 && k > lo) || (d > 0 && k < hi) {
			k += d
		}
		return keyOf(kr.db, kr.table, value(k))
	}
	okF, errF := fast.next()
	okS, errS := slow.next()
	lazy, row := 0, 0
	for okF && okS {
		if fast.lazy && fast.i == 0 {
			lazy++
		}
		pos := make([]byte, posLen)
		pos[posLen-1], pos[posLen-2] = byte(row), byte(row>>8)
		if !bytes.Equal(fast.key(), rows[row].key) || !bytes.Equal(fast.key(), slow.key()) || !bytes.Equal(fast.pos(), pos) || !bytes.Equal(slow.pos(), pos) {
			t.Fatalf("seed %d row %d: key %x pos %x, want %x %x (%x)", seed, row, fast.key(), fast.pos(), slow.key(), slow.pos(), rows[row].key)
		}
		l := limit()
		n := fast.below(l)
		if want := slow.below(l); n != want {
			t.Fatalf("seed %d row %d: %d rows below %x, want %d", seed, row, n, l, want)
		}
		left := fast.n - fast.i
		if n < left && bytes.Compare(fast.keyAt(fast.i+n), l) < 0 || n > 0 && l != nil && bytes.Compare(fast.keyAt(fast.i+n-1), l) >= 0 {
			t.Fatalf("seed %d row %d: %d rows below %x is not where the keys reach it", seed, row, n, l)
		}
		j := fast.i + rng.IntN(left)
		if !bytes.Equal(fast.keyAt(j), slow.keyAt(j)) {
			t.Fatalf("seed %d row %d: key of row %d %x, want %x", seed, row, j, fast.keyAt(j), slow.keyAt(j))
		}
		// The positions of the next rows of the batch, after what dst holds.
		k := rng.IntN(left + 1)
		wantPos := []byte("dst")
		for r := row; r < row+k; r++ {
			wantPos = append(wantPos, make([]byte, posLen-2)...)
			wantPos = append(wantPos, byte(r>>8), byte(r))
		}
		if got := fast.appendPos([]byte("dst"), fast.i, k); !bytes.Equal(got, wantPos) {
			t.Fatalf("seed %d row %d: positions of %d rows %x, want %x", seed, row, k, got, wantPos)
		}
		skip := 1 + rng.IntN(left)
		if rng.IntN(2) == 0 && n > 0 {
			skip = n
		}
		row += skip
		okF, errF = fast.skip(skip)
		okS, errS = slow.skip(skip)
	}
	if errF != nil || errS != nil || okF || okS {
		t.Fatalf("seed %d: end at row %d: %v %v, %v %v", seed, row, okF, errF, okS, errS)
	}
	if row != len(rows) {
		t.Fatalf("seed %d: %d rows read, want %d", seed, row, len(rows))
	}
	// Lazy batches need one source per batch and NULLs only in some.
	if sources < 3 && nulls < 100 && lazy == 0 {
		t.Fatalf("seed %d: no batch read without encoding its keys", seed)
	}
}

// TestPlanRuns checks that planRuns cuts random plans into maximal runs
// of change rows or of consecutive base ordinals.
func TestPlanRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var plan []int64
		ord, rec := int64(rng.IntN(3)), int64(0)
		for range rng.IntN(60) {
			switch rng.IntN(4) {
			case 0:
				rec++
				plan = append(plan, -rec)
			case 1:
				ord += int64(rng.IntN(3)) // a gap, or none
				fallthrough
			default:
				plan = append(plan, ord)
				ord++
			}
		}
		runs := planRuns(nil, plan)
		i := 0
		for r, j := range runs {
			if j <= i || j > len(plan) {
				t.Fatalf("plan %v: runs %v: run %d ends at %d after %d", plan, runs, r, j, i)
			}
			for k := i + 1; k < j; k++ {
				if (plan[i] < 0) != (plan[k] < 0) || plan[k] >= 0 && plan[k] != plan[k-1]+1 {
					t.Fatalf("plan %v: runs %v: run %d [%d, %d) is not one run", plan, runs, r, i, j)
				}
			}
			if j < len(plan) && (plan[j] < 0 && plan[j-1] < 0 || plan[j-1] >= 0 && plan[j] == plan[j-1]+1) {
				t.Fatalf("plan %v: runs %v: run %d [%d, %d) goes on", plan, runs, r, i, j)
			}
			i = j
		}
		if i != len(plan) {
			t.Fatalf("plan %v: runs %v end at %d", plan, runs, i)
		}
	}
}

// A base file whose _pos is not binlake's FIXED_LEN_BYTE_ARRAY(16) has
// its values' lengths checked row by row: one of 3 bytes is refused.
func TestKeyReaderChecksPosLength(t *testing.T) {
	types := []schema.Type{{Kind: schema.Int}}
	out, err := newLayout(1, []warehouse.CatalogColumn{{Name: "id", Type: types[0].String()}}, types, []string{"id"}, false, false)
	if err != nil {
		t.Fatal(err)
	}
	sch := parquet.NewSchema("odd", parquet.Group{
		warehouse.ColPos: parquet.Leaf(parquet.ByteArrayType),
		"id":             parquet.Optional(parquet.Int(32)),
	})
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[any](&buf, sch)
	f := writeAndOpen(t, w, &buf, []parquet.Row{
		{parquet.ByteArrayValue(make([]byte, posLen)).Level(0, 0, 0), parquet.Int32Value(1).Level(0, 1, 1)},
		{parquet.ByteArrayValue([]byte{1, 2, 3}).Level(0, 0, 0), parquet.Int32Value(2).Level(0, 1, 1)},
	})
	kr, err := newKeyReader(f.RowGroups()[0], fileColumns(&parquetFile{file: f}, out.cols, out.types), out, false)
	if err != nil {
		t.Fatal(err)
	}
	defer kr.close()
	if !kr.checkPos {
		t.Fatal("a BYTE_ARRAY _pos is not checked")
	}
	if _, err := kr.next(); err == nil || err.Error() != "_pos: want 16 bytes, got 3" {
		t.Errorf("err %v, want the 3-byte _pos refused", err)
	}
}
