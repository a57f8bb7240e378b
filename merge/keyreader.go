package merge

import (
	"fmt"

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
// data or tombstone file, row by row (in batches underneath).
type keyReader struct {
	b       *batcher
	keys    []keyCol
	convs   []converter
	hasKey  []bool
	n, i    int
	arena   []byte
	offs    []int
	scratch []byte
	// column positions in the batcher
	posCol, dbCol, tableCol int
}

// newKeyReader reads rg, whose columns fc describes, with the key
// columns of out. withSource also reads _source_db and _source_table.
func newKeyReader(rg parquet.RowGroup, fc map[string]fileCol, out *layout, withSource bool) (*keyReader, error) {
	r := &keyReader{keys: out.keys, dbCol: -1, tableCol: -1}
	var cols []int
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
	}
	pc, ok := fc[warehouse.ColPos]
	if !ok {
		return nil, fmt.Errorf("no %s column", warehouse.ColPos)
	}
	r.posCol = len(cols)
	cols = append(cols, pc.index)
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
		}
	}
	r.b = newBatcher(rg, cols, batchRows)
	return r, nil
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
	r.arena, r.offs = r.arena[:0], r.offs[:0]
	for row := 0; row < n; row++ {
		r.offs = append(r.offs, len(r.arena))
		for k := range r.keys {
			pv := r.b.bufs[k][row]
			if !r.hasKey[k] {
				pv = parquet.NullValue()
			}
			if !r.convs[k].same && !pv.IsNull() {
				r.scratch = r.scratch[:0]
				if pv, err = r.convs[k].convert(pv, &r.scratch); err != nil {
					return false, err
				}
			}
			r.arena = appendKeyValue(r.arena, r.keys[k].enc, pv)
		}
		if p := r.b.bufs[r.posCol][row].ByteArray(); len(p) != posLen {
			return false, fmt.Errorf("%s: want %d bytes, got %d", warehouse.ColPos, posLen, len(p))
		}
	}
	r.offs = append(r.offs, len(r.arena))
	return true, nil
}

func (r *keyReader) key() []byte { return r.arena[r.offs[r.i]:r.offs[r.i+1]] }
func (r *keyReader) pos() []byte { return r.b.bufs[r.posCol][r.i].ByteArray() }

// db and table are the row's _source_db and _source_table; nil unless the
// reader was made withSource.
func (r *keyReader) db() []byte {
	if r.dbCol < 0 {
		return nil
	}
	return r.b.bufs[r.dbCol][r.i].ByteArray()
}

func (r *keyReader) table() []byte {
	if r.tableCol < 0 {
		return nil
	}
	return r.b.bufs[r.tableCol][r.i].ByteArray()
}

func (r *keyReader) close() { r.b.close() }
