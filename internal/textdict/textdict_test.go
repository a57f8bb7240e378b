package textdict

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// column is a column of the random files: its node, whether it is text
// written RLE_DICTIONARY (the nodes this package wraps), and how its
// values are drawn.
type column struct {
	name     string
	node     parquet.Node
	text     bool
	optional bool
	distinct int // text values drawn from this many (0: every value new)
	maxLen   int
}

func testColumns() []column {
	dict := func(optional bool) parquet.Node {
		n := parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
		if optional {
			return parquet.Optional(n)
		}
		return n
	}
	return []column{
		{name: "db", node: dict(false), text: true, distinct: 2, maxLen: 12},
		{name: "id", node: parquet.Int(64)},
		{name: "status", node: dict(true), text: true, optional: true, distinct: 5, maxLen: 10},
		{name: "note", node: dict(true), text: true, optional: true, distinct: 300, maxLen: 60},
		{name: "uniq", node: dict(true), text: true, optional: true, distinct: 0, maxLen: 40},
		{name: "empty", node: dict(true), text: true, optional: true, distinct: 1, maxLen: 0},
	}
}

// source hands out text values as slices of a shared buffer, as values
// read from a page refer to its memory, and rewrites the buffer now and
// then with other strings at the same addresses and lengths, as a reused
// page buffer does.
type source struct {
	rng  *rand.Rand
	buf  []byte
	offs []int // value k is buf[offs[k]:offs[k+1]]
}

func newSource(rng *rand.Rand, distinct, maxLen int) *source {
	s := &source{rng: rng}
	n := max(distinct, 64)
	s.offs = append(s.offs, 0)
	for range n {
		l := 0
		if maxLen > 0 {
			l = rng.IntN(maxLen + 1)
		}
		s.offs = append(s.offs, s.offs[len(s.offs)-1]+l)
	}
	s.buf = make([]byte, s.offs[len(s.offs)-1])
	s.rewrite()
	return s
}

// rewrite gives every value new content (from a small alphabet, so that
// values repeat and compare in interesting ways).
func (s *source) rewrite() {
	for i := range s.buf {
		s.buf[i] = "abcab"[s.rng.IntN(5)]
	}
}

func (s *source) value(distinct int) []byte {
	k := s.rng.IntN(len(s.offs) - 1)
	if distinct > 0 {
		k %= distinct
	}
	return s.buf[s.offs[k]:s.offs[k+1]]
}

// writeFile writes rows of random columns (seed) through parquet-go's
// writer, column by column in random batches as merge does, with the
// text columns' nodes wrapped by Node when wrap is set, and returns the
// file.
func writeFile(t *testing.T, seed uint64, wrap bool) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	cols := testColumns()
	maxBytes := int64(64 << rng.IntN(8)) // 64 B - 8 KiB: some chunks go PLAIN
	if rng.IntN(8) == 0 {
		maxBytes = 0 // the writer's default: no limit
	}
	group := parquet.Group{}
	for _, c := range cols {
		n := c.node
		if wrap && c.text {
			n = Node(n, maxBytes)
		}
		group[c.name] = n
	}
	schema := parquet.NewSchema("t", group)
	var out bytes.Buffer
	w := parquet.NewGenericWriter[any](&out, schema,
		parquet.DictionaryMaxBytes(maxBytes),
		parquet.PageBufferSize(256<<rng.IntN(8)),
		parquet.DataPageStatistics(rng.IntN(2) == 0),
		parquet.Compression(&parquet.Uncompressed))
	// The schema orders the group's fields by name.
	byName := map[string]column{}
	for _, c := range cols {
		byName[c.name] = c
	}
	srcs := make([]*source, len(schema.Fields()))
	order := make([]column, len(schema.Fields()))
	for i, f := range schema.Fields() {
		order[i] = byName[f.Name()]
		srcs[i] = newSource(rng, order[i].distinct, order[i].maxLen)
	}
	value := func(i int) parquet.Value {
		c := order[i]
		if rng.IntN(50) == 0 {
			srcs[i].rewrite()
		}
		switch {
		case c.optional && rng.IntN(4) == 0:
			return parquet.Value{}.Level(0, 0, i)
		case !c.text:
			return parquet.Int64Value(rng.Int64()).Level(0, 0, i)
		case c.optional:
			return parquet.ByteArrayValue(srcs[i].value(c.distinct)).Level(0, 1, i)
		}
		return parquet.ByteArrayValue(srcs[i].value(c.distinct)).Level(0, 0, i)
	}
	for range 1 + rng.IntN(4) { // row groups
		rows := rng.IntN(3000)
		if rng.IntN(3) == 0 {
			// Whole rows (as tombstones are written).
			for r := 0; r < rows; r++ {
				row := make(parquet.Row, len(order))
				for i := range order {
					row[i] = value(i)
				}
				if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
					t.Fatal(err)
				}
				// The next row's values may be where this one's were.
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		cws := w.ColumnWriters()
		for i := range order {
			var vals []parquet.Value
			for r := 0; r < rows; r++ {
				vals = append(vals, value(i))
				if len(vals) == cap(vals) || rng.IntN(40) == 0 {
					if _, err := cws[i].WriteRowValues(vals); err != nil {
						t.Fatal(err)
					}
					vals = vals[:0]
				}
			}
			if _, err := cws[i].WriteRowValues(vals); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestFilesAreParquetGos writes random files with and without the
// package's type: the bytes must be the same, PLAIN fall back, NULLs,
// empty strings and reused value addresses included.
func TestFilesAreParquetGos(t *testing.T) {
	n := 200
	if raceEnabled {
		n = 20
	}
	plain := 0
	for seed := range uint64(n) {
		want := writeFile(t, seed, false)
		got := writeFile(t, seed, true)
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %d: the file differs from parquet-go's (%d vs %d bytes)", seed, len(got), len(want))
		}
		f, err := parquet.OpenFile(bytes.NewReader(got), int64(len(got)))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, rg := range f.Metadata().RowGroups {
			for _, c := range rg.Columns {
				for _, e := range c.MetaData.EncodingStats {
					if e.PageType != format.DictionaryPage && e.Encoding == format.Plain {
						plain++
					}
				}
			}
		}
	}
	if plain == 0 {
		t.Fatal("no column chunk fell back to PLAIN: the test does not cover it")
	}
}

// TestBounds compares Dict.Bounds with the least and greatest values found
// by comparing every one.
func TestBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d := newDict(parquet.String().Type(), 0, 1<<20)
	for round := range 500 {
		if round%50 == 0 {
			d.Reset()
		}
		var idx []int32
		for range 1 + rng.IntN(300) {
			v := fmt.Appendf(nil, "%x", rng.IntN(1+rng.IntN(1000)))[:rng.IntN(3)+1]
			var i [1]int32
			d.Insert(i[:], []parquet.Value{parquet.ByteArrayValue(v)})
			idx = append(idx, i[0])
		}
		lo, hi := d.Bounds(idx)
		wantLo, wantHi := d.value(idx[0]), d.value(idx[0])
		for _, i := range idx {
			v := d.value(i)
			if bytes.Compare(v, wantLo) < 0 {
				wantLo = v
			}
			if bytes.Compare(v, wantHi) > 0 {
				wantHi = v
			}
		}
		if !bytes.Equal(lo.ByteArray(), wantLo) || !bytes.Equal(hi.ByteArray(), wantHi) {
			t.Fatalf("round %d: bounds %q..%q, want %q..%q", round, lo.ByteArray(), hi.ByteArray(), wantLo, wantHi)
		}
	}
}

// TestInsertTrustsNoAddress inserts two different values at the same
// address and length: the second must not get the first's index.
func TestInsertTrustsNoAddress(t *testing.T) {
	d := newDict(parquet.String().Type(), 0, 1<<20)
	buf := []byte("first")
	var i [2]int32
	d.Insert(i[:1], []parquet.Value{parquet.ByteArrayValue(buf)})
	copy(buf, "other")
	d.Insert(i[1:], []parquet.Value{parquet.ByteArrayValue(buf)})
	if i[0] == i[1] || string(d.value(i[1])) != "other" || string(d.value(i[0])) != "first" {
		t.Fatalf("indexes %v, values %q %q", i, d.value(i[0]), d.value(i[1]))
	}
}

// TestInsertRepeatsInOneCall inserts the same bytes at one address many
// times in one call, between other values: one index for all.
func TestInsertRepeatsInOneCall(t *testing.T) {
	d := newDict(parquet.String().Type(), 0, 1<<20)
	a, b := []byte("same"), []byte("else")
	var vals []parquet.Value
	for k := range 100 {
		if k%3 == 0 {
			vals = append(vals, parquet.ByteArrayValue(b))
		}
		vals = append(vals, parquet.ByteArrayValue(a))
	}
	idx := make([]int32, len(vals))
	d.Insert(idx, vals)
	for k, i := range idx {
		if string(d.value(i)) != string(vals[k].ByteArray()) {
			t.Fatalf("value %d: index %d holds %q, want %q", k, i, d.value(i), vals[k].ByteArray())
		}
	}
	if d.Len() != 2 {
		t.Fatalf("%d values in the dictionary, want 2", d.Len())
	}
}

// TestWriterLimitNotNodes writes with a DictionaryMaxBytes other than the
// one Node was given: the column goes on PLAIN where the type does not
// expect it, and must still hold its values.
func TestWriterLimitNotNodes(t *testing.T) {
	n := Node(parquet.Optional(parquet.Encoded(parquet.String(), &parquet.RLEDictionary)), 0)
	schema := parquet.NewSchema("t", parquet.Group{"s": n})
	var out bytes.Buffer
	w := parquet.NewGenericWriter[any](&out, schema, parquet.DictionaryMaxBytes(64), parquet.PageBufferSize(512))
	var want []string
	for g := range 3 {
		var vals []parquet.Value
		for k := range 2000 {
			v := fmt.Sprintf("value %d of group %d", k%700, g)
			want = append(want, v)
			vals = append(vals, parquet.ByteArrayValue([]byte(v)).Level(0, 1, 0))
			if len(vals) == 50 { // pages end between calls
				if _, err := w.ColumnWriters()[0].WriteRowValues(vals); err != nil {
					t.Fatal(err)
				}
				vals = vals[:0]
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 100)
		for {
			k, err := rows.ReadRows(buf)
			for _, r := range buf[:k] {
				got = append(got, string(r[0].ByteArray()))
			}
			if err != nil {
				break
			}
		}
		rows.Close()
	}
	if len(got) != len(want) {
		t.Fatalf("%d values read, %d written", len(got), len(want))
	}
	for k := range want {
		if got[k] != want[k] {
			t.Fatalf("value %d: %q, want %q", k, got[k], want[k])
		}
	}
}
