package merge

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestRawReaderRecords checks that records built from rawReaders' bytes
// are the records built from parquet.Values, over a file with a column of
// every kind rawReader reads, required and optional (with NULLs and empty
// byte arrays), plain and dictionary-encoded, several pages per chunk and
// two row groups, read in batches that cross pages.
func TestRawReaderRecords(t *testing.T) {
	// NULLs spread over the rows, and in runs: batches of optional
	// columns with NULLs and without (read without testing levels).
	for _, null := range []func(c, r int) bool{
		func(c, r int) bool { return (r*7+c)%5 == 0 },
		func(c, r int) bool { return (r/60+c)%3 == 0 },
	} {
		testRawReaderRecords(t, null)
	}
}

func testRawReaderRecords(t *testing.T, null func(c, r int) bool) {
	nodes := rawTestNodes()
	const rows = 1000
	words := []string{"", "a", "gift wrap please", "second floor, blue door", "x\x00y"}
	value := func(c, r int) parquet.Value {
		if nodes[c].Optional() && null(c, r) {
			return parquet.Value{}.Level(0, 0, c)
		}
		var v parquet.Value
		switch k := nodes[c].Type().Kind(); k {
		case parquet.Int32:
			v = parquet.Int32Value(int32(r*r*31 - r%9))
		case parquet.Int64:
			v = parquet.Int64Value(int64(r%13) << 40 * int64(1-2*(r%2)))
		case parquet.Float:
			v = parquet.FloatValue(float32(r) / 3)
		case parquet.Double:
			v = parquet.DoubleValue(math.Sqrt(float64(r % 17)))
		case parquet.ByteArray:
			v = parquet.ByteArrayValue([]byte(words[(r+c)%len(words)]))
		case parquet.FixedLenByteArray:
			b := make([]byte, nodes[c].Type().Length())
			for i := range b {
				b[i] = byte(r%11 + i)
			}
			v = parquet.FixedLenByteArrayValue(b)
		default:
			t.Fatalf("column %d: kind %s", c, k)
		}
		def := 0
		if nodes[c].Optional() {
			def = 1
		}
		return v.Level(0, def, c)
	}
	pages, dictPages := rawRecords(t, nodes, rows, value, 512, 37) // batches cross pages
	if pages < 4*len(nodes) || dictPages < 4 {
		t.Fatalf("%d pages, %d of them dictionary-encoded: the file does not test several pages per chunk and dictionaries", pages, dictPages)
	}
}

// rawTestNodes are columns of every kind rawReader reads, required and
// optional, plain and dictionary-encoded.
func rawTestNodes() []parquet.Node {
	dict := func(n parquet.Node) parquet.Node { return parquet.Encoded(n, &parquet.RLEDictionary) }
	plain := func(n parquet.Node) parquet.Node { return parquet.Encoded(n, &parquet.Plain) }
	return []parquet.Node{
		plain(parquet.Leaf(parquet.Int32Type)),
		parquet.Optional(plain(parquet.Leaf(parquet.Int32Type))),
		parquet.Optional(dict(parquet.Leaf(parquet.Int32Type))),
		plain(parquet.Leaf(parquet.Int64Type)),
		parquet.Optional(plain(parquet.Leaf(parquet.Int64Type))),
		parquet.Optional(dict(parquet.Leaf(parquet.Int64Type))),
		parquet.Optional(plain(parquet.Uint(64))),
		parquet.Optional(plain(parquet.Leaf(parquet.FloatType))),
		parquet.Optional(dict(parquet.Leaf(parquet.DoubleType))),
		plain(parquet.Leaf(parquet.ByteArrayType)),
		parquet.Optional(plain(parquet.Leaf(parquet.ByteArrayType))),
		parquet.Optional(dict(parquet.String())),
		dict(parquet.String()),
		parquet.Optional(plain(parquet.Leaf(parquet.FixedLenByteArrayType(16)))),
		parquet.Optional(dict(parquet.Leaf(parquet.FixedLenByteArrayType(3)))),
	}
}

// FuzzRawReaderRecords checks rawRecords over the columns of
// rawTestNodes, with values, NULLs, the number of rows, page and batch
// sizes taken from the input.
func FuzzRawReaderRecords(f *testing.F) {
	f.Add([]byte("\x05\x10gift wrap please"), uint16(300))
	f.Add([]byte{0, 0, 0}, uint16(1))
	f.Add(bytes.Repeat([]byte{0xff, 0x01, 0x80, 0x00}, 40), uint16(700))
	nodes := rawTestNodes()
	f.Fuzz(func(t *testing.T, data []byte, n uint16) {
		if len(data) == 0 {
			return
		}
		rows := int(n%2000) + 1
		pageSize := 64 + int(data[0])*8
		batch := 1 + int(data[len(data)-1])%300
		value := func(c, r int) parquet.Value {
			k := r*len(nodes) + c
			b := data[k%len(data)] ^ byte(k/len(data))
			def := 0
			if nodes[c].Optional() {
				if b%4 == 0 {
					return parquet.Value{}.Level(0, 0, c)
				}
				def = 1
			}
			var v parquet.Value
			switch nodes[c].Type().Kind() {
			case parquet.Int32:
				v = parquet.Int32Value(int32(b) * int32(r-500))
			case parquet.Int64:
				v = parquet.Int64Value(int64(b) << (r % 56))
			case parquet.Float:
				v = parquet.FloatValue(float32(b) / float32(r+1))
			case parquet.Double:
				v = parquet.DoubleValue(-float64(b) * float64(r))
			case parquet.ByteArray:
				i := k % len(data)
				v = parquet.ByteArrayValue(data[i : i+min(int(b)%7, len(data)-i)])
			default:
				fixed := make([]byte, nodes[c].Type().Length())
				for i := range fixed {
					fixed[i] = b + byte(i*r)
				}
				v = parquet.FixedLenByteArrayValue(fixed)
			}
			return v.Level(0, def, c)
		}
		rawRecords(t, nodes, rows, value, pageSize, batch)
	})
}

// rawRecords writes rows rows of value (NULLs where IsNull) in columns
// nodes (named in order) to a file of pages of about pageSize bytes and
// row groups of rows/2 rows, reads it back in batches of batch rows both
// as parquet.Values and with rawReaders, and fails t unless each row
// makes the same record both ways. It returns the number of pages and
// of dictionary-encoded ones.
func rawRecords(t testing.TB, nodes []parquet.Node, rows int, value func(c, r int) parquet.Value, pageSize, batch int) (pages, dictPages int) {
	group := parquet.Group{}
	for i, n := range nodes {
		group[fmt.Sprintf("c%02d", i)] = n // a Group orders its fields by name
	}
	sch := parquet.NewSchema("t", group)
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[any](&buf, sch, parquet.PageBufferSize(pageSize), parquet.DataPageVersion(1),
		parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(int64(max(rows/2, 1))))
	prows := make([]parquet.Row, rows)
	for r := range rows {
		prows[r] = make(parquet.Row, len(nodes))
		for c := range nodes {
			prows[r][c] = value(c, r)
		}
	}
	f := writeAndOpen(t, w, &buf, prows)
	kinds := make([]physKind, len(nodes))
	for c, n := range nodes {
		kinds[c] = physKind{kind: n.Type().Kind(), size: n.Type().Length()}
	}
	codec := rowCodec{kinds: kinds, widths: make([]int, len(kinds))}
	for i, k := range kinds {
		codec.widths[i] = map[parquet.Kind]int{parquet.Int32: 4, parquet.Float: 4, parquet.Int64: 8, parquet.Double: 8,
			parquet.FixedLenByteArray: k.size, parquet.ByteArray: varWidth}[k.kind]
	}
	row := 0
	for _, rg := range f.RowGroups() {
		chunks := rg.ColumnChunks()
		vr := make([]*columnReader, len(nodes))
		rr := make([]*rawReader, len(nodes))
		vals := make([][]parquet.Value, len(nodes))
		raw := make([][][]byte, len(nodes))
		for c := range nodes {
			vr[c], rr[c] = newColumnReader(chunks[c]), newRawReader(chunks[c], kinds[c])
			vals[c], raw[c] = make([]parquet.Value, batch), make([][]byte, batch)
		}
		for left := int(rg.NumRows()); left > 0; {
			want := min(left, batch)
			for c := range nodes {
				if n, err := vr[c].read(vals[c][:want]); err != nil || n != want {
					t.Fatalf("column %d: %d values, %v", c, n, err)
				}
				if n, err := rr[c].read(raw[c][:want]); err != nil || n != want {
					t.Fatalf("column %d: %d raw values, %v", c, n, err)
				}
			}
			for i := range want {
				for c := range nodes {
					if vals[c][i].IsNull() != (raw[c][i] == nil) {
						t.Fatalf("row %d column %d: value %v, raw %q", row, c, vals[c][i], raw[c][i])
					}
				}
				want, err := codec.appendRow([]byte("h"), vals, nil, i)
				if err != nil {
					t.Fatal(err)
				}
				got, err := codec.appendRow([]byte("h"), make([][]parquet.Value, len(nodes)), raw, i)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("row %d: raw record\n%q, want\n%q", row, got, want)
				}
				row++
			}
			left -= want
		}
		for c := range nodes {
			if n, err := rr[c].read(raw[c][:1]); err != nil || n != 0 {
				t.Fatalf("column %d: %d raw values past the end, %v", c, n, err)
			}
			vr[c].close()
			rr[c].close()
		}
		for c := range nodes {
			ps := chunks[c].Pages()
			for {
				p, err := ps.ReadPage()
				if err != nil {
					break
				}
				pages++
				if p.Dictionary() != nil {
					dictPages++
				}
				parquet.Release(p)
			}
			ps.Close()
		}
	}
	if row != rows {
		t.Fatalf("%d rows compared, want %d", row, rows)
	}
	return pages, dictPages
}

// TestRawReaderShortPage checks that a page with fewer values than
// rows is an error, not a panic: fill stops at the page's values.
func TestRawReaderShortPage(t *testing.T) {
	r := &rawReader{kind: parquet.ByteArray, empty: []byte{}}
	r.data, r.offs, r.nrows = []byte("ab"), []uint32{0, 1, 2}, 3
	if err := r.fill(make([][]byte, 3)); err == nil {
		t.Fatal("three rows from two values: no error")
	}
	r = &rawReader{kind: parquet.Int64, width: 8, empty: []byte{}}
	r.data, r.nrows = make([]byte, 12), 2
	if err := r.fill(make([][]byte, 2)); err == nil {
		t.Fatal("two INT64 rows from 12 bytes: no error")
	}
	r = &rawReader{kind: parquet.Int64, empty: []byte{}}
	r.idx, r.dictVals, r.nrows = []int32{0, 2}, [][]byte{{1}, {2}}, 2
	if err := r.fill(make([][]byte, 2)); err == nil {
		t.Fatal("dictionary index 2 of two values: no error")
	}
}

// writeAndOpen writes rows through w, which writes to buf, closes it and
// opens the file.
func writeAndOpen(t testing.TB, w *parquet.GenericWriter[any], buf *bytes.Buffer, rows []parquet.Row) *parquet.File {
	t.Helper()
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
