package ingest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unsafe"

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

// rowSize estimates the memory a buffered row holds: the row, its values
// (a schema.Value is 72 bytes) and the text and bytes they own.
func rowSize(row *bufRow) int64 {
	n := int64(unsafe.Sizeof(*row)) + int64(unsafe.Sizeof(schema.Value{}))*int64(cap(row.values))
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
		if largest == nil {
			// Everything is being written: wait for memory to come back.
			if err := r.flusher.waitOne(r); err != nil {
				return err
			}
			continue
		}
		if err := r.flush(ctx, largest); err != nil {
			return err
		}
	}
	return r.flusher.collect(r)
}

// flushAll writes out every buffer and waits until all files are written.
func (r *run) flushAll(ctx context.Context) error {
	for _, b := range r.bufs {
		if err := r.flush(ctx, b); err != nil {
			return err
		}
	}
	return r.flusher.wait(r)
}

// flush hands one buffer to the background writer: the table's schema
// version is created first, and the file is listed in the partition's
// pending record before it is written.
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
	delete(r.bufs, b.key)
	return r.flusher.submit(ctx, r, &flushJob{
		buf: b, key: key, ps: ps, table: t.rule.Name, version: t.persisted,
		cols: slices.Clone(t.cols), types: slices.Clone(t.types), generation: t.generation,
	})
}

// flushJob is a buffer on its way to becoming a file, with the table's
// schema as it was when the buffer was handed over.
type flushJob struct {
	buf        *buffer
	key        string
	ps         *partState
	table      string
	version    int
	cols       []warehouse.CatalogColumn
	types      []schema.Type
	generation int
	// bytes is the file's size once written; err why it was not.
	bytes int64
	err   error
}

// flusher encodes and writes files on its own goroutines, so compression
// and storage use the second core while the run goes on decoding. Only the
// run's goroutine calls its methods; results come back through done.
type flusher struct {
	jobs    chan *flushJob
	done    chan *flushJob
	pending int // jobs submitted and not collected
	write   func(context.Context, *flushJob) (int64, error)
}

func newFlusher(ctx context.Context, workers int, write func(context.Context, *flushJob) (int64, error)) *flusher {
	f := &flusher{jobs: make(chan *flushJob), done: make(chan *flushJob, 64), write: write}
	for range workers {
		go func() {
			for j := range f.jobs {
				j.bytes, j.err = f.write(ctx, j)
				f.done <- j
			}
		}()
	}
	return f
}

// submit hands a job to a worker, collecting finished jobs while it waits
// so neither side can block the other.
func (f *flusher) submit(ctx context.Context, r *run, j *flushJob) error {
	for {
		select {
		case f.jobs <- j:
			f.pending++
			return nil
		case d := <-f.done:
			if err := f.settle(r, d); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// finish records a written file in its partition's commit and releases
// the memory its buffer held.
func (j *flushJob) finish() error {
	if j.err != nil {
		return fmt.Errorf("write %s: %w", j.key, j.err)
	}
	b := j.buf
	j.ps.files = append(j.ps.files, warehouse.CommitFile{
		Key: j.key, Table: b.key.table, Hour: b.key.hour.Path(),
		Rows: int64(len(b.rows)), Bytes: j.bytes, FirstOffset: b.rows[0].offset, LastOffset: b.rows[len(b.rows)-1].offset, Late: b.late,
	})
	return nil
}

// collect takes in the jobs that are done without waiting.
func (f *flusher) collect(r *run) error {
	for {
		select {
		case d := <-f.done:
			if err := f.settle(r, d); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// waitOne waits for one job to finish.
func (f *flusher) waitOne(r *run) error {
	if f.pending == 0 {
		return nil
	}
	return f.settle(r, <-f.done)
}

// wait waits for every job.
func (f *flusher) wait(r *run) error {
	var first error
	for f.pending > 0 {
		if err := f.settle(r, <-f.done); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (f *flusher) settle(r *run, d *flushJob) error {
	f.pending--
	r.buffered -= d.buf.size
	if d.err == nil {
		r.filesWritten++
		r.bytesWritten += d.bytes
	}
	return d.finish()
}

// stop ends the workers.
func (f *flusher) stop() { close(f.jobs) }

// opNames are the _op values, made once.
var opNames = func() map[cdc.Op][]byte {
	m := map[cdc.Op][]byte{}
	for _, op := range []cdc.Op{cdc.Insert, cdc.Update, cdc.Delete, cdc.Truncate} {
		m[op] = []byte(op.String())
	}
	return m
}()

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

// writeFile encodes a job's buffer as Parquet and streams it to the
// store. It runs on a flusher goroutine and touches nothing but the job.
func (r *run) writeFile(ctx context.Context, j *flushJob) (int64, error) {
	meta := warehouse.BinlogMetaFields()
	fields := make([]warehouse.Field, 0, len(meta)+len(j.cols))
	fields = append(fields, meta...)
	for i, c := range j.cols {
		node, err := schema.ParquetNode(j.types[i])
		if err != nil {
			return 0, fmt.Errorf("column %s: %w", c.Name, err)
		}
		fields = append(fields, warehouse.Field{Name: c.Name, Node: node})
	}
	pr, pw := io.Pipe()
	cw := &countingWriter{w: pw}
	done := make(chan error, 1)
	go func() {
		done <- r.st.Put(ctx, j.key, pr)
	}()
	err := r.encode(cw, fields, j)
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

// encode writes the Parquet file of a job's buffer to w.
func (r *run) encode(w io.Writer, fields []warehouse.Field, j *flushJob) error {
	pw := parquet.NewWriter(w, warehouse.FileSchema(fields),
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.DataPageVersion(1),
		parquet.KeyValueMetadata("binlake.schema_version", strconv.Itoa(j.version)),
		parquet.KeyValueMetadata("binlake.table", j.table),
	)
	b := j.buf
	nmeta := len(fields) - len(j.cols)
	const batch = 1024
	rows := make([]parquet.Row, 0, batch)
	for i := range b.rows {
		row, err := r.parquetRow(j, &b.rows[i], nmeta)
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
func (r *run) parquetRow(j *flushJob, row *bufRow, nmeta int) (parquet.Row, error) {
	b := j.buf
	out := make(parquet.Row, nmeta+len(j.cols))
	pos := row.pos.Decimal()
	out[0] = parquet.ByteArrayValue(opNames[row.op]).Level(0, 0, 0)
	out[1] = parquet.FixedLenByteArrayValue(pos[:]).Level(0, 0, 1)
	out[2] = parquet.Int64Value(row.eventMicros).Level(0, 0, 2)
	out[3] = parquet.ByteArrayValue([]byte(row.db)).Level(0, 0, 3)
	out[4] = parquet.ByteArrayValue([]byte(row.table)).Level(0, 0, 4)
	out[5] = parquet.ByteArrayValue([]byte(b.key.part.Topic)).Level(0, 0, 5)
	out[6] = parquet.Int32Value(b.key.part.Partition).Level(0, 0, 6)
	out[7] = parquet.Int64Value(row.offset).Level(0, 0, 7)
	out[8] = parquet.BooleanValue(row.late).Level(0, 0, 8)
	for i := range j.cols {
		v := schema.Value{}
		if i < len(row.values) {
			v = row.values[i]
		}
		if b.generation != j.generation && v.Kind != schema.Null {
			var err error
			if v, _, err = schema.Coerce(v, j.types[i], r.coerce); err != nil {
				return nil, fmt.Errorf("column %s: %w", j.cols[i].Name, err)
			}
		}
		pv, err := schema.ParquetValue(v, j.types[i], nmeta+i)
		if err != nil {
			return nil, fmt.Errorf("column %s offset %d: %w", j.cols[i].Name, row.offset, err)
		}
		out[nmeta+i] = pv
	}
	return out, nil
}
