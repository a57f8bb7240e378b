package merge

import (
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/schema"
)

// heldPages reads the pages of a column chunk for a reader whose batches
// of values refer to them: the pages a batch refers to are released when
// the next batch starts, or at close.
type heldPages struct {
	pages parquet.Pages
	page  parquet.Page   // the page being read
	held  []parquet.Page // pages the current batch's values refer to
}

// nextBatch releases the pages of the previous batch but the one being
// read.
func (h *heldPages) nextBatch() {
	for _, p := range h.held {
		if p != h.page {
			parquet.Release(p)
		}
	}
	h.held = h.held[:0]
	if h.page != nil {
		h.held = append(h.held, h.page)
	}
}

// readPage makes the chunk's next page the one being read; io.EOF at the
// end of the chunk.
func (h *heldPages) readPage() (parquet.Page, error) {
	p, err := h.pages.ReadPage()
	if err != nil {
		return nil, err
	}
	h.page = p
	h.held = append(h.held, p)
	return p, nil
}

// close releases every page and closes the chunk's pages (once).
func (h *heldPages) close() {
	if h.pages == nil {
		return
	}
	for _, p := range h.held {
		parquet.Release(p)
	}
	h.held, h.page = nil, nil
	h.pages.Close()
	h.pages = nil
}

// columnReader reads the values of one column chunk in batches. The
// values of a batch (byte arrays included) stay valid until the next call
// to read: pages are released only then.
type columnReader struct {
	heldPages
	values parquet.ValueReader
	eof    bool
}

func newColumnReader(cc parquet.ColumnChunk) *columnReader {
	return &columnReader{heldPages: heldPages{pages: cc.Pages()}}
}

// read fills buf as far as the column goes and returns how many values it
// read; fewer than len(buf) only at the end of the chunk.
func (r *columnReader) read(buf []parquet.Value) (int, error) {
	r.nextBatch()
	n := 0
	for n < len(buf) && !r.eof {
		if r.values == nil {
			p, err := r.readPage()
			if errors.Is(err, io.EOF) {
				r.eof = true
				break
			}
			if err != nil {
				return n, err
			}
			r.values = p.Values()
		}
		k, err := r.values.ReadValues(buf[n:])
		n += k
		if errors.Is(err, io.EOF) {
			r.values = nil
		} else if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (r *columnReader) close() {
	if r == nil {
		return
	}
	r.heldPages.close()
	r.values = nil
}

// batcher reads several columns of a row group in lockstep, a batch of
// rows at a time. A column index of -1 reads as NULLs; one of skipCol is
// not read (its buffer is nil).
type batcher struct {
	rs   []*columnReader
	bufs [][]parquet.Value
	left int64
	rows int // per batch
}

const batchRows = 1024

// skipCol is the column index of a batcher column that is read elsewhere.
const skipCol = -2

// newBatcher returns a batcher of batches of rows rows (batchRows
// unless the caller has a reason).
func newBatcher(rg parquet.RowGroup, cols []int, rows int) *batcher {
	b := &batcher{left: rg.NumRows(), rows: rows}
	chunks := rg.ColumnChunks()
	for _, c := range cols {
		var r *columnReader
		if c >= 0 {
			r = newColumnReader(chunks[c])
		}
		var buf []parquet.Value
		if c != skipCol {
			buf = make([]parquet.Value, rows)
		}
		b.rs = append(b.rs, r)
		b.bufs = append(b.bufs, buf)
	}
	return b
}

// next reads the next batch and returns its number of rows, 0 at the end.
func (b *batcher) next() (int, error) {
	want := int(min(b.left, int64(b.rows)))
	if want == 0 {
		return 0, nil
	}
	for i, r := range b.rs {
		if r == nil {
			if b.bufs[i] != nil {
				clear(b.bufs[i][:want])
			}
			continue
		}
		n, err := r.read(b.bufs[i][:want])
		if err != nil {
			return 0, err
		}
		if n != want {
			return 0, fmt.Errorf("column %d: %d values for %d rows (not a flat column?)", i, n, want)
		}
	}
	b.left -= int64(want)
	return want, nil
}

func (b *batcher) close() {
	for _, r := range b.rs {
		r.close()
	}
}

// converter turns values of a file column into values of an output
// column: the same physical value when the types agree, else through
// schema.FromParquet, Coerce (which only ever widens here: catalog
// versions only add columns and widen types) and ParquetValue.
type converter struct {
	src, dst schema.Type
	same     bool
	col      int
	def      int // definition level of a non-NULL value: 0 for required columns
	name     string
}

func newConverter(name string, src schema.Type, srcKind parquet.Kind, dst schema.Type, dstKind physKind, col int, required bool) converter {
	c := converter{src: src, dst: dst, col: col, def: 1, name: name}
	if required {
		c.def = 0
	}
	c.same = src.Equal(dst) && srcKind == dstKind.kind
	return c
}

// convert returns pv as a value of the output column. Converted values
// that need memory are appended to *scratch.
func (c *converter) convert(pv parquet.Value, scratch *[]byte) (parquet.Value, error) {
	if pv.IsNull() {
		return parquet.Value{}.Level(0, 0, c.col), nil
	}
	if !c.same {
		v, err := schema.FromParquet(pv, c.src)
		if err != nil {
			return pv, fmt.Errorf("column %s: %w", c.name, err)
		}
		if v, _, err = schema.Coerce(v, c.dst, schema.CoerceOptions{}); err != nil {
			return pv, fmt.Errorf("column %s: %s → %s: %w", c.name, c.src, c.dst, err)
		}
		if pv, *scratch, err = schema.AppendParquetValue(*scratch, v, c.dst, c.col); err != nil {
			return pv, fmt.Errorf("column %s: %w", c.name, err)
		}
		if pv.IsNull() {
			return parquet.Value{}.Level(0, 0, c.col), nil
		}
	}
	return pv.Level(0, c.def, c.col), nil
}
