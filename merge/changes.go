package merge

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

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
	need := []string{warehouse.ColOp, warehouse.ColPos, warehouse.ColSourceDB, warehouse.ColSourceTable}
	var cols []int
	for _, name := range need {
		c, ok := fcols[name]
		if !ok {
			return nil, 0, fmt.Errorf("no %s column: not a binlog file", name)
		}
		cols = append(cols, c.index)
	}
	convs := make([]converter, len(out.cols))
	for i, c := range out.cols {
		fc, ok := fcols[c.Name]
		if !ok {
			cols = append(cols, -1)
			convs[i] = converter{same: true, col: nMeta + i, def: 1, name: c.Name}
			continue
		}
		if fc.typ.Kind == schema.Unknown {
			return nil, 0, fmt.Errorf("column %s: no type for it in schema version %d", c.Name, version)
		}
		cols = append(cols, fc.index)
		convs[i] = newConverter(c.Name, fc.typ, fc.kind, out.types[i], out.kinds[nMeta+i], nMeta+i, false)
	}
	var flags byte
	if f.hour.Date.Compare(r.o.Date) < 0 {
		flags |= flagEarlier
	}
	codec := newRowCodec(out)
	// Data columns whose values go into records as the file has them,
	// and that the key does not need as values, are read as raw bytes
	// from the pages (raw[j] for column j+1 of out); an absent one stays
	// all NULL.
	raw := make([][][]byte, out.ncols()-1)
	var rawCols []int // the columns c read by rawReaders
	for c := range convs {
		j := nMeta - 1 + c
		if slices.ContainsFunc(out.keys, func(k keyCol) bool { return k.col == j+1 }) {
			continue
		}
		switch {
		case cols[4+c] < 0:
			raw[j] = make([][]byte, changeBatchRows)
		case convs[c].same && rawKind(out.kinds[j+1].kind):
			raw[j] = make([][]byte, changeBatchRows)
			rawCols = append(rawCols, c)
		}
	}
	bcols := slices.Clone(cols)
	for c := range convs {
		if raw[nMeta-1+c] != nil {
			bcols[4+c] = skipCol
		}
	}
	rawRs := make([]*rawReader, len(rawCols))
	closeRaw := func() {
		for i, rr := range rawRs {
			rr.close()
			rawRs[i] = nil
		}
	}
	defer closeRaw()
	// srcs[j] is the batch's values of column j+1 of out: a column of the
	// batcher's, or for a column that needs converting, conv's, which
	// holds the converted value of the row being encoded. Rows are
	// encoded from the columns in place, not copied into a row first.
	srcs := make([][]parquet.Value, out.ncols()-1)
	conv := make([][]parquet.Value, len(convs))
	var convCols []int // the columns c with conv[c]
	for c := range convs {
		if cols[4+c] >= 0 && !convs[c].same {
			conv[c] = make([]parquet.Value, changeBatchRows)
			convCols = append(convCols, c)
		}
	}
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
	)
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
		b := newBatcher(rg, bcols, changeBatchRows)
		chunks := rg.ColumnChunks()
		for i, c := range rawCols {
			rawRs[i] = newRawReader(chunks[cols[4+c]], out.kinds[nMeta+c])
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
			for i, c := range rawCols {
				k, err := rawRs[i].read(raw[nMeta-1+c][:n])
				if err != nil {
					b.close()
					return nil, 0, fmt.Errorf("column %s: %w", out.cols[c].Name, err)
				}
				if k != n {
					b.close()
					return nil, 0, fmt.Errorf("column %s: %d values for %d rows (not a flat column?)", out.cols[c].Name, k, n)
				}
			}
			if err := ctx.Err(); err != nil {
				b.close()
				return nil, 0, err
			}
			srcs[colDB-1], srcs[colTable-1] = b.bufs[2], b.bufs[3]
			for c := range convs {
				srcs[nMeta-1+c] = b.bufs[4+c] // NULLs for an absent column
				if conv[c] != nil {
					srcs[nMeta-1+c] = conv[c]
				}
			}
			for i := 0; i < n; i++ {
				seq := fileNo<<32 | row
				row++
				opText := b.bufs[0][i].ByteArray()
				pos := b.bufs[1][i].ByteArray()
				if len(pos) != posLen {
					b.close()
					return nil, 0, fmt.Errorf("row %d: %s has %d bytes, want %d", row-1, warehouse.ColPos, len(pos), posLen)
				}
				db, table := b.bufs[2][i], b.bufs[3][i]
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
					truncs = append(truncs, warehouse.Truncate{SourceDB: string(db.ByteArray()), SourceTable: string(table.ByteArray()), Pos: p})
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
				same := srcOK
				for j := 0; j < nsrc && same; j++ {
					v := &srcs[keySrc[j]][i]
					same = !v.IsNull() && bytes.Equal(v.ByteArray(), srcVals[j])
				}
				if !same {
					srcKey, srcOK = srcKey[:0], true
					for j := range nsrc {
						v := srcs[keySrc[j]][i]
						srcKey = appendKeyValue(srcKey, keyEncs[j], v)
						srcVals[j] = append(srcVals[j][:0], v.ByteArray()...)
						srcOK = srcOK && !v.IsNull()
					}
				}
				key = append(key[:0], srcKey...)
				for j := nsrc; j < len(keyEncs); j++ {
					key = appendKeyValue(key, keyEncs[j], srcs[keySrc[j]][i])
				}
				if len(key) > maxKeyLen {
					b.close()
					return nil, 0, fmt.Errorf("row %d: key of %d bytes; keys of more than %d bytes are not supported", row-1, len(key), maxKeyLen)
				}
				start := len(batch)
				batch = append(batch, 0, 0, 0, 0)
				batch = appendRecordHeader(batch, key, pos, seq, op, flags)
				if batch, err = codec.appendRow(batch, srcs, raw, i); err != nil {
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
		closeRaw()
	}
	mu.Lock()
	defer mu.Unlock()
	if err := srt.addBatch(batch, offs); err != nil {
		return nil, 0, err
	}
	return truncs, int64(row), nil
}
