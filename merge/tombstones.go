package merge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// rowGroupBounds returns the first and last key of every row group of a
// snapshot data or tombstone file, encoded for layout out: from the file's
// MetaRowGroupKeys when it has them, else by reading the key columns.
func rowGroupBounds(pf *parquetFile, fc map[string]fileCol, out *layout) ([][2][]byte, error) {
	rgs := pf.file.RowGroups()
	if s, ok := pf.meta(warehouse.MetaRowGroupKeys); ok {
		var texts [][2][]string
		if json.Unmarshal([]byte(s), &texts) == nil && len(texts) == len(rgs) {
			bounds := make([][2][]byte, len(rgs))
			good := true
			for i, t := range texts {
				lo, ok1 := keyFromText(nil, out.keys, t[0])
				hi, ok2 := keyFromText(nil, out.keys, t[1])
				if !ok1 || !ok2 {
					good = false
					break
				}
				bounds[i] = [2][]byte{lo, hi}
			}
			if good {
				return bounds, nil
			}
		}
	}
	bounds := make([][2][]byte, len(rgs))
	for i, rg := range rgs {
		kr, err := newKeyReader(rg, fc, out, false)
		if err != nil {
			return nil, err
		}
		for {
			ok, err := kr.next()
			if err != nil {
				kr.close()
				return nil, err
			}
			if !ok {
				break
			}
			if bounds[i][0] == nil {
				bounds[i][0] = bytes.Clone(kr.key())
			}
			bounds[i][1] = append(bounds[i][1][:0], kr.key()...)
		}
		kr.close()
	}
	return bounds, nil
}

// tombStream walks one tombstone file in key order.
type tombStream struct {
	pf     *parquetFile
	fc     map[string]fileCol
	rgs    []parquet.RowGroup
	bounds [][2][]byte
	rg     int
	kr     *keyReader
	out    *layout
}

// seek moves to the first tombstone at or after key and returns its
// position if its key is key.
func (t *tombStream) seek(key []byte) ([]byte, error) {
	for {
		if t.kr == nil {
			if t.rg >= len(t.rgs) {
				return nil, nil
			}
			if b := t.bounds[t.rg]; b[1] != nil && bytes.Compare(b[1], key) < 0 {
				t.rg++
				continue
			}
			kr, err := newKeyReader(t.rgs[t.rg], t.fc, t.out, false)
			if err != nil {
				return nil, err
			}
			ok, err := kr.next()
			if err != nil || !ok {
				kr.close()
				t.rg++
				if err != nil {
					return nil, err
				}
				continue
			}
			t.kr = kr
		}
		switch c := bytes.Compare(t.kr.key(), key); {
		case c == 0:
			return t.kr.pos(), nil
		case c > 0:
			return nil, nil
		}
		ok, err := t.kr.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			t.kr.close()
			t.kr = nil
			t.rg++
		}
	}
}

func (t *tombStream) close() {
	if t.kr != nil {
		t.kr.close()
	}
	t.pf.close()
}

// tombLookup answers, for keys asked in increasing order, the greatest
// position of a kept tombstone of the key.
type tombLookup struct {
	streams []*tombStream
	best    []byte
}

func (r *run) openTombstones(ctx context.Context, files []warehouse.ManifestFile, version int) (*tombLookup, error) {
	tl := &tombLookup{}
	for _, f := range files {
		pf, err := openParquet(ctx, r.o.Store, f.Key, r.tmp)
		if err != nil {
			tl.close()
			return nil, err
		}
		v := pf.schemaVersion(version)
		sv, ok := r.cat.versions[v]
		if !ok {
			pf.close()
			tl.close()
			return nil, fmt.Errorf("%s: schema version %d is not in the catalog", f.Key, v)
		}
		types, err := sv.Types()
		if err != nil {
			pf.close()
			tl.close()
			return nil, err
		}
		fc := fileColumns(pf, sv.Columns, types)
		bounds, err := rowGroupBounds(pf, fc, r.out)
		if err != nil {
			pf.close()
			tl.close()
			return nil, fmt.Errorf("%s: %w", f.Key, err)
		}
		tl.streams = append(tl.streams, &tombStream{pf: pf, fc: fc, rgs: pf.file.RowGroups(), bounds: bounds, out: r.out})
	}
	return tl, nil
}

// lookup returns the greatest tombstone position of key, or nil. The
// result is valid until the next call.
func (tl *tombLookup) lookup(key []byte) ([]byte, error) {
	var best []byte
	for _, s := range tl.streams {
		p, err := s.seek(key)
		if err != nil {
			return nil, err
		}
		if p != nil && (best == nil || bytes.Compare(p, best) > 0) {
			best = p
		}
	}
	if best == nil {
		return nil, nil
	}
	tl.best = append(tl.best[:0], best...)
	return tl.best, nil
}

func (tl *tombLookup) close() {
	if tl == nil {
		return
	}
	for _, s := range tl.streams {
		s.close()
	}
}

// tombWriter writes the day's tombstones, in key order.
type tombWriter struct {
	sink   *fileSink
	out    *layout
	day    int32 // days since the epoch
	max    int
	rows   []parquet.Row
	vals   []parquet.Value // of rows
	bytes  []byte          // of vals
	rgRows int64
	first  []byte
	last   []byte
	count  int64
}

// add adds the tombstone of a key. Rows are built in w.vals and w.bytes,
// reused once the rows are written (the writer copies what it keeps).
func (w *tombWriter) add(key, pos []byte) error {
	start := len(w.vals)
	vals, err := appendDecodedKey(w.vals, &w.bytes, key, w.out.keys, w.out.kinds)
	if err != nil {
		return err
	}
	for i, v := range vals[start:] {
		def := 1
		if w.out.keys[i].col < nMeta {
			def = 0
		}
		if v.IsNull() {
			vals[start+i] = parquet.Value{}.Level(0, 0, i)
		} else {
			vals[start+i] = v.Level(0, def, i)
		}
	}
	nk := len(vals) - start
	n := len(w.bytes)
	w.bytes = append(w.bytes, pos...)
	p := w.bytes[n:len(w.bytes):len(w.bytes)]
	vals = append(vals, parquet.FixedLenByteArrayValue(p).Level(0, 0, nk), parquet.Int32Value(w.day).Level(0, 0, nk+1))
	w.vals = vals
	row := parquet.Row(vals[start:len(vals):len(vals)])
	if w.rgRows == 0 {
		w.first = append(w.first[:0], key...)
	}
	w.last = append(w.last[:0], key...)
	w.rows = append(w.rows, row)
	w.rgRows++
	w.count++
	if len(w.rows) >= 1024 {
		if err := w.writeRows(); err != nil {
			return err
		}
	}
	if w.rgRows >= int64(w.max) {
		return w.endRowGroup()
	}
	return nil
}

// writeRows writes the rows added, and reuses their memory.
func (w *tombWriter) writeRows() error {
	if err := w.sink.writeRows(w.rows); err != nil {
		return err
	}
	clear(w.rows) // no references to the old values
	w.rows, w.vals, w.bytes = w.rows[:0], w.vals[:0], w.bytes[:0]
	return nil
}

func (w *tombWriter) endRowGroup() error {
	if len(w.rows) > 0 {
		if err := w.writeRows(); err != nil {
			return err
		}
	}
	if w.rgRows == 0 {
		return nil
	}
	n := w.rgRows
	w.rgRows = 0
	return w.sink.flushRowGroup(n, keyTexts(w.first, w.out.keys, w.out.kinds), keyTexts(w.last, w.out.keys, w.out.kinds))
}

// readTruncates reads truncate sidecars.
func readTruncates(ctx context.Context, st storage.Store, files []warehouse.ManifestFile) ([]warehouse.Truncate, error) {
	var out []warehouse.Truncate
	for _, f := range files {
		b, err := storage.ReadAll(ctx, st, f.Key)
		if err != nil {
			return nil, err
		}
		var t warehouse.Truncates
		if err := warehouse.Unmarshal(f.Key, b, &t); err != nil {
			return nil, err
		}
		out = append(out, t.Truncates...)
	}
	return out, nil
}
