package merge

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/warehouse"
)

// Values of the _op column.
const (
	opInsertText   = "insert"
	opUpdateText   = "update"
	opDeleteText   = "delete"
	opTruncateText = "truncate"
)

// srcTable is a physical table.
type srcTable struct{ db, table string }

// changeStats counts what reading the changes found.
type changeStats struct {
	rows      int64
	bytes     int64
	truncates int64
}

// readChanges decodes the binlog files of plan into sorted change records
// of layout out. Every row gets the arrival number file<<32 | row, so the
// order of ties does not depend on which worker decoded what.
func (r *run) readChanges(ctx context.Context, files []binlogFile, srt *sorter) ([]warehouse.Truncate, changeStats, error) {
	var (
		mu     sync.Mutex
		truncs []warehouse.Truncate
		st     changeStats
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.Parallelism)
	for i, f := range files {
		g.Go(func() error {
			t, n, err := r.readChangeFile(gctx, uint64(i), f, srt, &mu)
			if err != nil {
				return fmt.Errorf("read %s: %w", f.key, err)
			}
			mu.Lock()
			defer mu.Unlock()
			truncs = append(truncs, t...)
			st.rows += n
			st.bytes += f.bytes
			st.truncates += int64(len(t))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, st, err
	}
	return truncs, st, nil
}

// changeBatchRows is the batch of rows a change file is decoded in: small
// enough that a batch's values (about 24 bytes per column and row) are
// still in the core's cache when the rows are encoded across columns.
const changeBatchRows = 256

// readChangeFile adds one file's records to srt (locking mu around adds).
func (r *run) readChangeFile(ctx context.Context, fileNo uint64, f binlogFile, srt *sorter, mu *sync.Mutex) ([]warehouse.Truncate, int64, error) {
	pf, err := openParquetCached(ctx, r.o.Store, f.key, r.tmp, &r.dl, false)
	if err != nil {
		return nil, 0, err
	}
	defer pf.close()
	out := r.out
	version := pf.schemaVersion(0)
	var fcols map[string]fileCol
	if version == 0 {
		// Not a binlake binlog file of a known version: read the data
		// columns as the output's types.
		fcols = fileColumns(pf, out.cols, out.types)
	} else {
		sv, ok := r.cat.versions[version]
		if !ok {
			return nil, 0, fmt.Errorf("schema version %d is not in the catalog of %s", version, r.o.Table.Name)
		}
		types, err := sv.Types()
		if err != nil {
			return nil, 0, err
		}
		fcols = fileColumns(pf, sv.Columns, types)
	}
	// The bookkeeping columns are byte strings (_pos may be a 16-byte
	// FIXED_LEN_BYTE_ARRAY), read as raw bytes (see rawReader).
	need := []string{warehouse.ColOp, warehouse.ColPos, warehouse.ColSourceDB, warehouse.ColSourceTable}
	var (
		// cols are the batcher's columns: the file column of _op,
		// _pos, _source_db, _source_table, then of each column of
		// out.cols; skipCol for those rcs read.
		cols []int
		rcs  []rawCol
		meta [4][][]byte // the raw values of need
	)
	for i, name := range need {
		c, ok := fcols[name]
		if !ok {
			return nil, 0, fmt.Errorf("no %s column: not a binlog file", name)
		}
		if c.kind != parquet.ByteArray && (name != warehouse.ColPos || c.kind != parquet.FixedLenByteArray) {
			return nil, 0, fmt.Errorf("%s column of %s values: not a binlog file", name, c.kind)
		}
		cols = append(cols, skipCol)
		meta[i] = make([][]byte, changeBatchRows)
		rcs = append(rcs, rawCol{file: c.index, kind: physKind{kind: c.kind, size: c.size}, vals: meta[i]})
	}
	opVals, posVals := meta[0], meta[1]
	// raw[j] holds the raw values of column j+1 of out, nil for a
	// column the batcher reads as Values: one that needs converting or
	// of a kind rawReader does not read. An absent column's raw values
	// stay all NULL.
	raw := make([][][]byte, out.ncols()-1)
	raw[colDB-1], raw[colTable-1] = meta[2], meta[3]
	convs := make([]converter, len(out.cols))
	for i, c := range out.cols {
		j := nMeta - 1 + i
		fc, ok := fcols[c.Name]
		if !ok {
			cols = append(cols, skipCol)
			convs[i] = converter{same: true, col: nMeta + i, def: 1, name: c.Name}
			raw[j] = make([][]byte, changeBatchRows)
			continue
		}
		if fc.typ.Kind == schema.Unknown {
			return nil, 0, fmt.Errorf("column %s: no type for it in schema version %d", c.Name, version)
		}
		convs[i] = newConverter(c.Name, fc.typ, fc.kind, out.types[i], out.kinds[nMeta+i], nMeta+i, false)
		if convs[i].same && rawKind(fc.kind) {
			cols = append(cols, skipCol)
			raw[j] = make([][]byte, changeBatchRows)
			rcs = append(rcs, rawCol{file: fc.index, kind: out.kinds[nMeta+i], vals: raw[j]})
			continue
		}
		cols = append(cols, fc.index)
	}
	// keyValue returns the value of column s+1 of out in row i of the
	// batch.
	keyValue := func(srcs [][]parquet.Value, s, i int) parquet.Value {
		if raw[s] != nil {
			return rawValue(out.kinds[s+1], raw[s][i])
		}
		return srcs[s][i]
	}
	var flags byte
	if f.hour.Date.Compare(r.o.Date) < 0 {
		flags |= flagEarlier
	}
	codec := newRowCodec(out)
	var enc batchEncoder
	// srcs[j] is the batch's values of column j+1 of out when the
	// batcher reads it (nil for raw columns), or for a column that needs
	// converting, conv's, which holds the converted value of the row
	// being encoded. Rows are encoded from the columns in place, not
	// copied into a row first.
	srcs := make([][]parquet.Value, out.ncols()-1)
	conv := make([][]parquet.Value, len(convs))
	var convCols []int // the columns c with conv[c]
	for c := range convs {
		if cols[4+c] >= 0 && !convs[c].same {
			conv[c] = make([]parquet.Value, changeBatchRows)
			convCols = append(convCols, c)
		}
	}
	defer func() {
		for i := range rcs {
			rcs[i].r.close()
		}
	}()
	// The source columns lead the key when it includes them. They repeat
	// row after row, so their encoding is kept while their values do.
	nsrc := 0
	for nsrc < len(out.keys) && out.keys[nsrc].col < nMeta {
		nsrc++
	}
	// The key columns' values (srcs index) and encodings, not copied
	// from out.keys row after row.
	keySrc := make([]int, len(out.keys))
	keyEncs := make([]keyEnc, len(out.keys))
	for j, k := range out.keys {
		keySrc[j], keyEncs[j] = k.col-1, k.enc
	}
	var (
		srcKey  []byte
		srcVals = make([][]byte, nsrc)
		srcOK   bool // srcKey encodes srcVals
		// srcCols are the raw values of the source columns; srcAt
		// where the batch's values found equal to srcVals lie: a
		// dictionary-encoded column's repeat in place, and a value
		// there is the same value while the batch lasts.
		srcCols = make([][][]byte, nsrc)
		srcAt   = make([]*byte, nsrc)
	)
	for j := range nsrc {
		srcCols[j] = raw[keySrc[j]]
	}
	// Records are written into a buffer of the sorter's, each after its
	// 4-byte length, and handed to it under one lock when the buffer is
	// full.
	var (
		truncs  []warehouse.Truncate
		batch   []byte
		offs    = make([]int, 0, 4096)
		key     []byte
		scratch []byte
		row     uint64
	)
	flush := func() error {
		mu.Lock()
		defer mu.Unlock()
		if err := srt.addBatch(batch, offs); err != nil {
			return err
		}
		batch, offs = srt.buffer(), offs[:0]
		return nil
	}
	mu.Lock()
	batch = srt.buffer()
	mu.Unlock()
	for _, rg := range pf.file.RowGroups() {
		b := newBatcher(rg, cols, changeBatchRows)
		chunks := rg.ColumnChunks()
		for i := range rcs {
			rcs[i].r.close()
			rcs[i].r = newRawReader(chunks[rcs[i].file], rcs[i].kind)
		}
		for {
			n, err := b.next()
			if err != nil {
				b.close()
				return nil, 0, err
			}
			if n == 0 {
				break
			}
			for _, rc := range rcs {
				k, err := rc.r.read(rc.vals[:n])
				if err == nil && k != n {
					err = fmt.Errorf("%d values for %d rows (not a flat column?)", k, n)
				}
				if err != nil {
					b.close()
					return nil, 0, fmt.Errorf("column %d: %w", rc.file, err)
				}
			}
			if err := ctx.Err(); err != nil {
				b.close()
				return nil, 0, err
			}
			for c := range convs {
				srcs[nMeta-1+c] = b.bufs[4+c] // nil for raw columns
				if conv[c] != nil {
					srcs[nMeta-1+c] = conv[c]
				}
			}
			// The payloads are encoded for the whole batch, a column at
			// a time, unless values are converted row by row (or one is
			// of the wrong kind: appendRow then says which).
			encoded := len(convCols) == 0 && enc.encode(codec, srcs, raw, n) == nil
			clear(srcAt) // the values of the batch before may lie there
			for i := 0; i < n; i++ {
				seq := fileNo<<32 | row
				row++
				opText, pos := opVals[i], posVals[i]
				if len(pos) != posLen {
					b.close()
					return nil, 0, fmt.Errorf("row %d: %s has %d bytes, want %d", row-1, warehouse.ColPos, len(pos), posLen)
				}
				var op byte
				switch string(opText) {
				case opInsertText, opUpdateText:
					op = opUpsert
				case opDeleteText:
					op = opDelete
				case opTruncateText:
					p, err := warehouse.PosFromDecimal(pos)
					if err != nil {
						b.close()
						return nil, 0, err
					}
					truncs = append(truncs, warehouse.Truncate{SourceDB: string(raw[colDB-1][i]), SourceTable: string(raw[colTable-1][i]), Pos: p})
					continue
				default:
					b.close()
					return nil, 0, fmt.Errorf("row %d: unknown %s %q", row-1, warehouse.ColOp, opText)
				}
				scratch = scratch[:0]
				for _, c := range convCols {
					if conv[c][i], err = convs[c].convert(b.bufs[4+c][i], &scratch); err != nil {
						b.close()
						return nil, 0, fmt.Errorf("row %d: %w", row-1, err)
					}
				}
				// The source columns are raw: columns colDB and colTable.
				same := srcOK
				for j := 0; j < nsrc && same; j++ {
					v := srcCols[j][i]
					if at := unsafe.SliceData(v); at == nil || at != srcAt[j] || len(v) != len(srcVals[j]) {
						if same = v != nil && bytes.Equal(v, srcVals[j]); same {
							srcAt[j] = at
						}
					}
				}
				if !same {
					srcKey, srcOK = srcKey[:0], true
					for j := range nsrc {
						v := srcCols[j][i]
						srcKey = appendKeyValue(srcKey, keyEncs[j], rawValue(out.kinds[keySrc[j]+1], v))
						srcVals[j] = append(srcVals[j][:0], v...)
						srcAt[j] = unsafe.SliceData(v)
						srcOK = srcOK && v != nil
					}
				}
				key = append(key[:0], srcKey...)
				for j := nsrc; j < len(keyEncs); j++ {
					key = appendKeyValue(key, keyEncs[j], keyValue(srcs, keySrc[j], i))
				}
				if len(key) > maxKeyLen {
					b.close()
					return nil, 0, fmt.Errorf("row %d: key of %d bytes; keys of more than %d bytes are not supported", row-1, len(key), maxKeyLen)
				}
				start := len(batch)
				batch = append(batch, 0, 0, 0, 0)
				batch = appendRecordHeader(batch, key, pos, seq, op, flags)
				if encoded {
					batch = append(batch, enc.row(i)...)
				} else if batch, err = codec.appendRow(batch, srcs, raw, i); err != nil {
					b.close()
					return nil, 0, fmt.Errorf("row %d: %w", row-1, err)
				}
				binary.LittleEndian.PutUint32(batch[start:], uint32(len(batch)-start-4))
				offs = append(offs, start)
				if len(batch) >= cap(batch)-cap(batch)/8 {
					if err := flush(); err != nil {
						b.close()
						return nil, 0, err
					}
				}
			}
		}
		b.close()
	}
	mu.Lock()
	defer mu.Unlock()
	if err := srt.addBatch(batch, offs); err != nil {
		return nil, 0, err
	}
	return truncs, int64(row), nil
}
