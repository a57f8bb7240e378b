package ingest

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/binlake/binlake/cdc"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/warehouse"
)

// bufKey identifies one output file: a table, an hour and a partition.
type bufKey struct {
	table string
	hour  warehouse.Hour
	part  partitionID
}

// bufRow is one change row waiting to be written.
type bufRow struct {
	op          cdc.Op
	pos         warehouse.Pos
	eventMicros int64
	db, table   string
	offset      int64
	late        bool
	values      []schema.Value // data columns in schema order; may be shorter than the schema
}

// buffer collects the rows of one output file, in offset order.
type buffer struct {
	key  bufKey
	rows []bufRow
	size int64
	late int64
	// generation is the table's schema generation when the buffer was
	// started; if a column was widened since, values are converted again
	// at flush.
	generation int
}

// rowSize estimates the memory a buffered row holds.
func rowSize(row *bufRow) int64 {
	n := int64(96 + len(row.db) + len(row.table) + 40*len(row.values))
	for _, v := range row.values {
		n += int64(len(v.S) + len(v.B))
	}
	return n
}

// add buffers a row and writes files out when a file reaches its size cap
// or all buffers together exceed the memory budget.
func (r *run) add(ctx context.Context, t *tableState, ps *partState, h warehouse.Hour, row bufRow) error {
	k := bufKey{t.rule.Name, h, ps.id}
	b := r.bufs[k]
	if b == nil {
		b = &buffer{key: k, generation: t.generation}
		r.bufs[k] = b
	}
	b.rows = append(b.rows, row)
	sz := rowSize(&row)
	b.size += sz
	r.buffered += sz
	r.peakBuffered = max(r.peakBuffered, r.buffered)
	if row.late {
		b.late++
	}
	if b.size >= r.opts.MaxFileSize {
		if err := r.flush(ctx, b); err != nil {
			return err
		}
	}
	for r.buffered > r.opts.MemoryBudget {
		var largest *buffer
		for _, c := range r.bufs {
			if largest == nil || c.size > largest.size {
				largest = c
			}
		}
		if err := r.flush(ctx, largest); err != nil {
			return err
		}
	}
	return nil
}

// flushPartition writes out every buffer of a partition.
func (r *run) flushPartition(ctx context.Context, id partitionID) error {
	for k, b := range r.bufs {
		if k.part == id {
			if err := r.flush(ctx, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush writes one buffer as a Parquet file: the table's schema version
// first, then the partition's pending record, then the file.
func (r *run) flush(ctx context.Context, b *buffer) error {
	t := r.router.tables[b.key.table]
	ps := r.parts[b.key.part]
	if err := t.persist(ctx, r.st, r.opts.Now()); err != nil {
		return err
	}
	first, last := b.rows[0].offset, b.rows[len(b.rows)-1].offset
	var replaySeq int64
	if r.replayDay != nil {
		replaySeq = ps.seq
	}
	key := warehouse.BinlogDir(b.key.table, b.key.hour) + fileName(b.key.part, first, last, replaySeq)
	if err := r.addPending(ctx, ps, key); err != nil {
		return err
	}
	n, err := r.writeFile(ctx, key, t, b)
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	ps.files = append(ps.files, warehouse.CommitFile{
		Key: key, Table: b.key.table, Hour: b.key.hour.Path(),
		Rows: int64(len(b.rows)), Bytes: n, FirstOffset: first, LastOffset: last, Late: b.late,
	})
	r.filesWritten++
	r.bytesWritten += n
	r.buffered -= b.size
	delete(r.bufs, b.key)
	return nil
}

// countingWriter counts bytes on their way to the store.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeFile encodes the buffer as Parquet and streams it to the store.
func (r *run) writeFile(ctx context.Context, key string, t *tableState, b *buffer) (int64, error) {
	meta := warehouse.BinlogMetaFields()
	fields := make([]warehouse.Field, 0, len(meta)+len(t.cols))
	fields = append(fields, meta...)
	for i, c := range t.cols {
		node, err := schema.ParquetNode(t.types[i])
		if err != nil {
			return 0, fmt.Errorf("column %s: %w", c.Name, err)
		}
		fields = append(fields, warehouse.Field{Name: c.Name, Node: node})
	}
	pr, pw := io.Pipe()
	cw := &countingWriter{w: pw}
	done := make(chan error, 1)
	go func() {
		done <- r.st.Put(ctx, key, pr)
	}()
	err := r.encode(cw, fields, t, b)
	pw.CloseWithError(err)
	putErr := <-done
	if err != nil {
		return 0, err
	}
	if putErr != nil {
		return 0, putErr
	}
	return cw.n, nil
}

// encode writes the Parquet file of a buffer to w.
func (r *run) encode(w io.Writer, fields []warehouse.Field, t *tableState, b *buffer) error {
	pw := parquet.NewWriter(w, warehouse.FileSchema(fields),
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.KeyValueMetadata("binlake.schema_version", strconv.Itoa(t.persisted)),
		parquet.KeyValueMetadata("binlake.table", t.rule.Name),
	)
	nmeta := len(fields) - len(t.cols)
	const batch = 1024
	rows := make([]parquet.Row, 0, batch)
	for i := range b.rows {
		row, err := r.parquetRow(t, b, &b.rows[i], nmeta)
		if err != nil {
			return err
		}
		rows = append(rows, row)
		if len(rows) == batch || i == len(b.rows)-1 {
			if _, err := pw.WriteRows(rows); err != nil {
				return err
			}
			rows = rows[:0]
		}
	}
	return pw.Close()
}

// parquetRow converts a buffered row to a Parquet row of the table's
// current schema.
func (r *run) parquetRow(t *tableState, b *buffer, row *bufRow, nmeta int) (parquet.Row, error) {
	out := make(parquet.Row, nmeta+len(t.cols))
	pos := row.pos.Decimal()
	out[0] = parquet.ByteArrayValue([]byte(row.op.String())).Level(0, 0, 0)
	out[1] = parquet.FixedLenByteArrayValue(pos[:]).Level(0, 0, 1)
	out[2] = parquet.Int64Value(row.eventMicros).Level(0, 0, 2)
	out[3] = parquet.ByteArrayValue([]byte(row.db)).Level(0, 0, 3)
	out[4] = parquet.ByteArrayValue([]byte(row.table)).Level(0, 0, 4)
	out[5] = parquet.ByteArrayValue([]byte(b.key.part.Topic)).Level(0, 0, 5)
	out[6] = parquet.Int32Value(b.key.part.Partition).Level(0, 0, 6)
	out[7] = parquet.Int64Value(row.offset).Level(0, 0, 7)
	out[8] = parquet.BooleanValue(row.late).Level(0, 0, 8)
	for i := range t.cols {
		v := schema.Value{}
		if i < len(row.values) {
			v = row.values[i]
		}
		if b.generation != t.generation && v.Kind != schema.Null {
			var err error
			if v, _, err = schema.Coerce(v, t.types[i], r.coerce); err != nil {
				return nil, fmt.Errorf("column %s: %w", t.cols[i].Name, err)
			}
		}
		pv, err := schema.ParquetValue(v, t.types[i], nmeta+i)
		if err != nil {
			return nil, fmt.Errorf("column %s offset %d: %w", t.cols[i].Name, row.offset, err)
		}
		out[nmeta+i] = pv
	}
	return out, nil
}
