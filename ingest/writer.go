package ingest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/binlake/binlake/cdc"
	"github.com/binlake/binlake/internal/textdict"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/warehouse"
)

// How rows become files. The run's goroutine decodes, types and buffers
// rows; each output file (a table, an hour and a partition) has a buffer.
// Once a buffer holds encoderRows rows it gets an encoder goroutine of its
// own, and from then on its rows are handed over chunkRows at a time and
// turned into compressed Parquet pages while the run goes on decoding. A
// file is finished (flush) when it reaches its size cap, when the memory
// budget needs room, when its table's schema changes, when its partition's
// stream has passed its hour by the grace period, and at the end of the
// run; its encoder then writes the file to the store. A small file
// that never got an encoder is encoded by one of a few workers of the
// flusher instead, so many small files never mean many encoders at once.
// A buffer's schema is fixed when it opens: a change of the table's schema
// finishes the table's open files first.

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

// chunkRows is how many rows a buffer collects before it hands them to its
// file's encoder. Every open file holds a chunk being filled and a few on
// their way to its encoder, and all their rows and values are pointers the
// garbage collector scans: small chunks keep that memory small (with
// 4096-row chunks the heap was ~20 MiB larger at 8 open files, and the
// collector scanned and the kernel faulted in that much more).
const chunkRows = 512

// encoderRows is how many rows a file holds before it gets an encoder of
// its own (a multiple of chunkRows); a smaller file's chunks wait in its
// buffer and are encoded by the flusher's workers when it is finished.
const encoderRows = 4096

// encoderMemory estimates what a running encoder holds besides its rows:
// parquet-go's column buffers before the first page (~130 KiB for 14
// columns). The pages it fills hold less than the rows they came from,
// which are counted as buffered.
const encoderMemory = 256 << 10

// chunk is rows on their way to an encoder. Their values and the text and
// bytes of those live in the chunk's own arenas, so a chunk is a few large
// allocations, not a few per row.
type chunk struct {
	rows []bufRow
	vals []schema.Value
	text []byte
}

// newChunk returns an empty chunk: one an encoder is done with, or a new
// one.
func (r *run) newChunk(cols int) *chunk {
	select {
	case c := <-r.chunks:
		return c
	default:
	}
	return &chunk{
		rows: make([]bufRow, 0, chunkRows),
		vals: make([]schema.Value, 0, chunkRows*cols),
	}
}

// recycle gives a chunk whose rows were encoded back for reuse (parquet-go
// copied them). Called from encoders. The stale rows point only into the
// chunk's own text and the router's names, so they keep nothing else
// alive.
func (r *run) recycle(c *chunk) {
	c.rows, c.vals, c.text = c.rows[:0], c.vals[:0], c.text[:0]
	select {
	case r.chunks <- c:
	default:
	}
}

// keep copies a row's values into the chunk's arenas.
func (c *chunk) keep(vals []schema.Value) []schema.Value {
	start := len(c.vals)
	c.vals = append(c.vals, vals...)
	out := c.vals[start:len(c.vals):len(c.vals)]
	for i := range out {
		v := &out[i]
		if v.S != "" {
			b := c.copyText(len(v.S))
			copy(b, v.S)
			v.S = unsafe.String(unsafe.SliceData(b), len(b))
		}
		if len(v.B) > 0 {
			b := c.copyText(len(v.B))
			copy(b, v.B)
			v.B = b
		}
	}
	return out
}

// copyText returns n bytes of the text arena to copy into. A full arena is
// left to the values that point into it and a new one started.
func (c *chunk) copyText(n int) []byte {
	if len(c.text)+n > cap(c.text) {
		c.text = make([]byte, 0, max(64<<10, n))
	}
	start := len(c.text)
	c.text = c.text[:start+n]
	return c.text[start : start+n : start+n]
}

// buffer is one output file being built.
type buffer struct {
	key bufKey
	ps  *partState
	// The file's schema: the table's when the buffer opened, and the
	// write of that version if this run made it.
	version int
	stored  *catalogWrite
	cols    []warehouse.CatalogColumn
	types   []schema.Type

	first, last int64 // Kafka offsets of the first and last rows
	rows        int64
	late        int64
	// size estimates the memory the file holds: its rows as buffered
	// (the encoder keeps them compressed, which is less) and its
	// encoder's own.
	size  int64
	chunk *chunk   // rows not yet handed to the encoder
	full  []*chunk // chunks filled before the file got an encoder
	enc   *encoder // nil until the file holds encoderRows rows
	// passAt is the end of the file's hour plus the grace period: the file
	// is finished once its partition's stream passes it. Zero for a file
	// opened after its partition had passed it (late rows), which stays
	// open to the end of the run.
	passAt time.Time
}

// rowSize estimates the memory a buffered row holds: the row, its values
// and the text and bytes they own.
func rowSize(row *bufRow) int64 {
	n := int64(unsafe.Sizeof(*row)) + int64(unsafe.Sizeof(schema.Value{}))*int64(len(row.values))
	for i := range row.values {
		n += int64(len(row.values[i].S) + len(row.values[i].B))
	}
	return n
}

// add buffers a row and finishes files when a file reaches its size cap
// or all files together exceed the memory budget. generation is the
// table's schema generation the row's values were coerced in.
func (r *run) add(ctx context.Context, t *tableState, ps *partState, h warehouse.Hour, row bufRow, generation int) error {
	k := bufKey{t.rule.Name, h, ps.id}
	b := r.lastBuf
	if b == nil || b.key != k {
		b = r.bufs[k]
	}
	if b == nil {
		// The file's schema version exists before the file does: its
		// encoder waits for the version's write (stored).
		t.persist(r.encodeCtx, r.st, r.opts.Now(), &r.catalogWrites)
		b = &buffer{
			key: k, ps: ps, version: t.persisted, stored: t.stored,
			cols: slices.Clone(t.cols), types: slices.Clone(t.types),
			first: row.offset,
		}
		r.bufs[k] = b
		if span, ok := r.opts.Zone.Span(h); ok {
			if at := span.End.Add(r.opts.Grace); ps.maxEvent.Before(at) {
				b.passAt = at
				if ps.finishAt.IsZero() || at.Before(ps.finishAt) {
					ps.finishAt = at
				}
			}
		}
	}
	r.lastBuf = b
	if generation != t.generation {
		// An earlier row of the same record widened a column.
		for i, v := range row.values {
			if v.Kind == schema.Null {
				continue
			}
			w, _, err := schema.Coerce(v, b.types[i], r.coerce)
			if err != nil {
				return fmt.Errorf("table %s: column %s: %w", t.rule.Name, b.cols[i].Name, err)
			}
			row.values[i] = w
		}
	}
	if b.chunk == nil {
		b.chunk = r.newChunk(len(b.cols))
	}
	c := b.chunk
	row.values = c.keep(row.values)
	c.rows = append(c.rows, row)
	b.last = row.offset
	b.rows++
	if row.late {
		b.late++
	}
	r.grow(b, rowSize(&row))
	if len(c.rows) == chunkRows {
		switch {
		case b.enc == nil && b.rows < encoderRows:
			b.full, b.chunk = append(b.full, c), nil
		case b.enc == nil:
			// The encoder about to start is counted against the budget
			// too: room for it is made first.
			if err := r.makeRoom(ctx, encoderMemory, b); err != nil {
				return err
			}
			fallthrough
		default:
			if err := r.handOver(ctx, b); err != nil {
				return err
			}
		}
	}
	if b.size >= r.opts.MaxFileSize {
		if err := r.flush(ctx, b); err != nil {
			return err
		}
	}
	if err := r.makeRoom(ctx, 0, nil); err != nil {
		return err
	}
	return r.flusher.collect(r)
}

// makeRoom finishes the largest files other than keep, or waits for
// files being written, until n more bytes fit in the memory budget. It
// gives up when only keep is left to finish.
func (r *run) makeRoom(ctx context.Context, n int64, keep *buffer) error {
	for r.buffered+n > r.opts.MemoryBudget {
		var largest *buffer
		for _, c := range r.bufs {
			if c != keep && (largest == nil || c.size > largest.size) {
				largest = c
			}
		}
		if largest == nil {
			if r.flusher.pending == 0 {
				return nil
			}
			// Every other file is being written: wait for memory to come
			// back.
			if err := r.flusher.waitOne(r); err != nil {
				return err
			}
			continue
		}
		if err := r.flush(ctx, largest); err != nil {
			return err
		}
	}
	return nil
}

// grow accounts n more bytes to a buffer.
func (r *run) grow(b *buffer, n int64) {
	b.size += n
	r.buffered += n
	r.peakBuffered = max(r.peakBuffered, r.buffered)
}

// handOver gives a buffer's chunk to its file's encoder, starting the
// encoder, with the chunks filled so far, if it has none yet.
func (r *run) handOver(ctx context.Context, b *buffer) error {
	if b.enc == nil {
		r.grow(b, encoderMemory)
		b.enc = r.startEncoder(b, b.full)
		b.full = nil
	}
	c := b.chunk
	b.chunk = nil
	if c == nil {
		return nil
	}
	select {
	case b.enc.in <- c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finishTable finishes the open files of a table, before its schema
// changes.
func (r *run) finishTable(ctx context.Context, t *tableState) error {
	return r.finishWhere(ctx, func(b *buffer) bool { return b.key.table == t.rule.Name })
}

// finishPassed finishes the open files of a partition whose stream has
// passed their hour by the grace period (partState.finishAt): rows of
// that hour are late from then on, and few come. Finished while the run
// reads on, their last pages are compressed and the files written while
// other files still take rows, instead of all together at the end of the
// run, and their memory is freed. A late row opens a file of its own,
// which stays open to the end.
func (r *run) finishPassed(ctx context.Context, ps *partState) error {
	ps.finishAt, ps.finishDue = time.Time{}, false
	return r.finishWhere(ctx, func(b *buffer) bool {
		switch {
		case b.ps != ps || b.passAt.IsZero():
			return false
		case !ps.maxEvent.Before(b.passAt):
			return true
		case ps.finishAt.IsZero() || b.passAt.Before(ps.finishAt):
			ps.finishAt = b.passAt
		}
		return false
	})
}

// finishPartition finishes the open files of a partition read to its end,
// while the run still reads others.
func (r *run) finishPartition(ctx context.Context, ps *partState) error {
	return r.finishWhere(ctx, func(b *buffer) bool { return b.ps == ps })
}

// finishWhere finishes the open files that finish reports true for.
func (r *run) finishWhere(ctx context.Context, finish func(*buffer) bool) error {
	var open []*buffer
	for _, b := range r.bufs {
		if finish(b) {
			open = append(open, b)
		}
	}
	return r.finishFiles(ctx, open)
}

// flushAll finishes every file and waits until all are written.
func (r *run) flushAll(ctx context.Context) error {
	if err := r.finishFiles(ctx, slices.Collect(maps.Values(r.bufs))); err != nil {
		return err
	}
	return r.flusher.wait(r)
}

// finishFiles finishes the open files of open. Each partition's pending
// record lists all of its files at once, so that the first of them to be
// written writes the record for all.
func (r *run) finishFiles(ctx context.Context, open []*buffer) error {
	// By partition, then in offset order: the pending records list the
	// files in a reproducible order.
	slices.SortFunc(open, func(a, b *buffer) int {
		return cmp.Or(comparePartitions(a.key.part, b.key.part), cmp.Compare(a.first, b.first), strings.Compare(a.key.table, b.key.table))
	})
	keys := make([]string, len(open))
	listed := make([]int, len(open))
	for i := 0; i < len(open); {
		ps := open[i].ps
		j := i
		for ; j < len(open) && open[j].ps == ps; j++ {
			keys[j] = r.fileKey(open[j])
		}
		n := listPending(ps, keys[i:j]...)
		for ; i < j; i++ {
			listed[i] = n
		}
	}
	for i, b := range open {
		if err := r.finish(ctx, b, keys[i], listed[i]); err != nil {
			return err
		}
	}
	return nil
}

// fileKey is where a buffer's file goes.
func (r *run) fileKey(b *buffer) string {
	var replaySeq int64
	if r.replayDay != nil {
		replaySeq = b.ps.seq
	}
	return warehouse.BinlogDir(b.key.table, b.key.hour) + fileName(b.key.part, b.first, b.last, replaySeq)
}

// flush finishes a file: it is listed in the partition's pending record,
// then its encoder gets the last rows and writes it.
func (r *run) flush(ctx context.Context, b *buffer) error {
	key := r.fileKey(b)
	return r.finish(ctx, b, key, listPending(b.ps, key))
}

// finish hands a file listed in its partition's pending record as key (the
// listed-th key) to its encoder, or to the flusher's workers if it has
// none, to be written once the stored record lists it.
func (r *run) finish(ctx context.Context, b *buffer, key string, listed int) error {
	if b.enc == nil {
		r.closeBuf(b)
		e := &encoder{first: b.full, in: make(chan *chunk), buf: b, key: key, listed: listed}
		if b.chunk != nil {
			e.first = append(e.first, b.chunk)
		}
		close(e.in)
		b.chunk, b.full = nil, nil
		return r.flusher.submit(ctx, r, e)
	}
	// Until its encoder has the last rows the file stays open, so that a
	// failing run stops the encoder (abortOpen) instead of leaving it
	// waiting.
	if err := r.handOver(ctx, b); err != nil {
		return err
	}
	r.closeBuf(b)
	b.enc.key, b.enc.listed = key, listed
	close(b.enc.in)
	r.flusher.pending++
	return nil
}

// abortOpen stops the encoders of the files that were not finished; they
// write nothing (the run's context is cancelled).
func (r *run) abortOpen() {
	for _, b := range r.bufs {
		r.closeBuf(b)
		if b.enc != nil {
			close(b.enc.in)
			r.flusher.pending++
		}
	}
}

// closeBuf forgets a buffer whose file is finished or abandoned.
func (r *run) closeBuf(b *buffer) {
	delete(r.bufs, b.key)
	if r.lastBuf == b {
		r.lastBuf = nil
	}
}

// encoder turns one file's rows into Parquet on its own goroutine and
// writes the file when its input is closed.
type encoder struct {
	// first are the chunks filled before the encoder started; in brings
	// the others.
	first []*chunk
	in    chan *chunk
	buf   *buffer
	// key and listed are set before in is closed: where the file goes,
	// and how many keys of its partition's pending record must be stored
	// before it is (the file's is one of them).
	key    string
	listed int
	// bytes is the file's size once written; err why it was not.
	bytes int64
	err   error
}

func (r *run) startEncoder(b *buffer, first []*chunk) *encoder {
	e := &encoder{first: first, in: make(chan *chunk, 2), buf: b}
	go func() {
		e.bytes, e.err = r.encode(e)
		r.flusher.done <- e
	}()
	return e
}

// encode writes the Parquet file of an encoder's rows. It runs on the
// encoder's goroutine and touches nothing of the run but the store, the
// coerce options, its buffer's schema and its partition's pending record
// (pendingRecord is safe for concurrent use).
func (r *run) encode(e *encoder) (int64, error) {
	b := e.buf
	meta := warehouse.BinlogMetaFields()
	for i, dict := range dictionaryColumns(meta) {
		if dict {
			// The writer sets no DictionaryMaxBytes: 0.
			meta[i].Node = textdict.Node(meta[i].Node, 0)
		}
	}
	fields := make([]warehouse.Field, 0, len(meta)+len(b.cols))
	fields = append(fields, meta...)
	var err error
	for i, c := range b.cols {
		node, nerr := schema.ParquetNode(b.types[i])
		if nerr != nil {
			err = fmt.Errorf("column %s: %w", c.Name, nerr)
			break
		}
		fields = append(fields, warehouse.Field{Name: c.Name, Node: node})
	}
	var out bytes.Buffer
	var pw *parquet.GenericWriter[any]
	if err == nil {
		pw = parquet.NewGenericWriter[any](&out, warehouse.FileSchema(fields),
			parquet.Compression(r.zstd),
			parquet.DataPageVersion(1),
			// Page headers get no min and max: the column index holds the
			// same per page, and readers prune pages by it. parquet-go
			// would compute every page's bounds twice (for the dictionary
			// columns, a look-up and two comparisons per value each time).
			parquet.DataPageStatistics(false),
			parquet.KeyValueMetadata("binlake.schema_version", strconv.Itoa(b.version)),
			parquet.KeyValueMetadata("binlake.table", b.key.table),
		)
	}
	nmeta := len(meta)
	var cws []*parquet.ColumnWriter
	if pw != nil {
		cws = pw.ColumnWriters()
	}
	dict := dictionaryColumns(fields)
	var pageRows int // rows in the dictionary columns' current pages
	// A column writer ends a page only between calls: 64 rows a call, as
	// parquet-go's WriteRows splits rows, keeps a page of large values
	// near its buffer's size.
	const batch = 64
	vals := make([]parquet.Value, batch)
	var scratch []byte
	write := func(c *chunk) {
		for start := 0; err == nil && start < len(c.rows); start += batch {
			rows := c.rows[start:min(start+batch, len(c.rows))]
			scratch, err = writeColumns(cws, vals[:len(rows)], scratch, b, rows, nmeta)
			if pageRows += len(rows); err == nil && pageRows >= dictPageRows {
				err = flushColumns(cws, dict)
				pageRows = 0
			}
		}
		r.recycle(c)
	}
	for _, c := range e.first {
		write(c)
	}
	e.first = nil
	// After an error the chunks are still taken, so the run never blocks
	// on a dead encoder.
	for c := range e.in {
		write(c)
	}
	ctx := r.encodeCtx
	if err == nil {
		err = ctx.Err()
	}
	// The columns' last pages are compressed first, so that the file's
	// size is known but for its footer and out grows once.
	for _, cw := range cws {
		if err == nil {
			err = cw.Flush()
		}
	}
	if err == nil {
		out.Grow(int(pw.Size()) + footerRoom)
		err = pw.Close()
	}
	if err == nil {
		err = b.stored.wait(ctx)
	}
	if err == nil {
		err = r.writePending(ctx, b.ps, e.listed)
	}
	if err == nil {
		err = r.st.Put(ctx, e.key, bytes.NewReader(out.Bytes()))
	}
	if err != nil {
		return 0, err
	}
	return int64(out.Len()), nil
}

// dictPageRows is the most rows a page of a dictionary-encoded column
// holds. parquet-go ends a page when its buffer holds PageBufferSize
// bytes, which for a column of dictionary indexes (4 bytes a row) is 65536
// rows, and it grows that buffer by doubling from room for 13107 (its
// guess for byte arrays of 20 bytes): ~400 KiB per column of every open
// file, for pages that compress to a few KiB. Ending their pages before
// the buffer is full keeps it at its first size.
const dictPageRows = 8192

// dictionaryColumns reports which of fields (the file's columns, in
// order) are dictionary-encoded.
func dictionaryColumns(fields []warehouse.Field) []bool {
	dict := make([]bool, len(fields))
	for i, f := range fields {
		if enc := f.Node.Encoding(); enc != nil {
			dict[i] = enc.Encoding() == format.RLEDictionary
		}
	}
	return dict
}

// flushColumns ends the pages of the columns flush marks.
func flushColumns(cws []*parquet.ColumnWriter, flush []bool) error {
	for i, cw := range cws {
		if flush[i] {
			if err := cw.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// footerRoom is what a file buffer gets beyond the pages for the footer:
// metadata and page indexes, a few KiB.
const footerRoom = 64 << 10

// flusher runs the encoders of small files on a few workers and
// collects every encoder that finished. Only the run's goroutine calls its
// methods; encoders report through done.
type flusher struct {
	jobs    chan *encoder
	done    chan *encoder
	pending int // encoders told to finish and not collected
}

func newFlusher(workers int, encode func(*encoder) (int64, error)) *flusher {
	f := &flusher{jobs: make(chan *encoder), done: make(chan *encoder, 64)}
	for range workers {
		go func() {
			for e := range f.jobs {
				e.bytes, e.err = encode(e)
				f.done <- e
			}
		}()
	}
	return f
}

// submit hands a small file's encoder to a worker, collecting finished
// encoders while it waits so neither side can block the other.
func (f *flusher) submit(ctx context.Context, r *run, e *encoder) error {
	for {
		select {
		case f.jobs <- e:
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

// stop ends the workers.
func (f *flusher) stop() { close(f.jobs) }

// collect takes in the encoders that are done without waiting.
func (f *flusher) collect(r *run) error {
	if len(f.done) == 0 {
		return nil // the common case, without a select
	}
	for {
		select {
		case e := <-f.done:
			if err := f.settle(r, e); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// waitOne waits for one encoder to finish.
func (f *flusher) waitOne(r *run) error {
	if f.pending == 0 {
		return nil
	}
	return f.settle(r, <-f.done)
}

// wait waits for every encoder told to finish.
func (f *flusher) wait(r *run) error {
	var first error
	for f.pending > 0 {
		if err := f.settle(r, <-f.done); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// settle records a written file in its partition's commit and releases
// the memory its buffer held.
func (f *flusher) settle(r *run, e *encoder) error {
	f.pending--
	b := e.buf
	r.buffered -= b.size
	if e.err != nil {
		return fmt.Errorf("write %s: %w", e.key, e.err)
	}
	r.filesWritten++
	r.bytesWritten += e.bytes
	b.ps.files = append(b.ps.files, warehouse.CommitFile{
		Key: e.key, Table: b.key.table, Hour: b.key.hour.Path(),
		Rows: b.rows, Bytes: e.bytes, FirstOffset: b.first, LastOffset: b.last, Late: b.late,
	})
	return nil
}

// opNames are the _op values, by cdc.Op.
var opNames = func() (names [cdc.DDL + 1][]byte) {
	for _, op := range []cdc.Op{cdc.Insert, cdc.Update, cdc.Delete, cdc.Truncate} {
		names[op] = []byte(op.String())
	}
	return names
}()

// bytesOf returns s's bytes without copying; parquet-go copies values
// into its own buffers and never modifies them.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// writeColumns writes rows to a file's column writers a column at a time:
// parquet-go takes a batch of one column's values in one call, where rows
// would be split into their columns again 64 at a time. Every column gets
// one value per row, so the columns stay aligned and the row group counts
// the rows. The meta columns are those of warehouse.BinlogMetaFields, in
// that order; nmeta is their number. vals has one element per row; its
// values refer to scratch, which is reused column after column (a column
// writer copies the values it is given).
func writeColumns(cws []*parquet.ColumnWriter, vals []parquet.Value, scratch []byte, b *buffer, rows []bufRow, nmeta int) ([]byte, error) {
	for col, cw := range cws {
		scratch = scratch[:0]
		if col >= nmeta {
			i := col - nmeta
			t := &b.types[i]
			var null schema.Value // a row shorter than the schema is NULL past its end
			for k := range rows {
				row := &rows[k]
				v := &null
				if i < len(row.values) {
					v = &row.values[i]
				}
				var err error
				if vals[k], scratch, err = schema.AppendParquetValueOf(scratch, v, t, col); err != nil {
					return scratch, fmt.Errorf("column %s offset %d: %w", b.cols[i].Name, row.offset, err)
				}
			}
		} else {
			metaValues(vals, &scratch, b, rows, col)
		}
		if _, err := cw.WriteRowValues(vals); err != nil {
			return scratch, err
		}
	}
	return scratch, nil
}

// metaValues fills vals with meta column col of rows (see
// warehouse.BinlogMetaFields), encoding _pos into scratch. The columns are
// required: parquet-go reads no levels from their values.
func metaValues(vals []parquet.Value, scratch *[]byte, b *buffer, rows []bufRow, col int) {
	switch col {
	case 0: // _op
		for k := range rows {
			vals[k] = parquet.ByteArrayValue(opNames[rows[k].op])
		}
	case 1: // _pos
		buf := slices.Grow(*scratch, 16*len(rows))
		for k := range rows {
			pos := rows[k].pos.Decimal()
			start := len(buf)
			buf = append(buf, pos[:]...)
			vals[k] = parquet.FixedLenByteArrayValue(buf[start:len(buf):len(buf)])
		}
		*scratch = buf
	case 2: // _event_time
		for k := range rows {
			vals[k] = parquet.Int64Value(rows[k].eventMicros)
		}
	case 3: // _source_db
		for k := range rows {
			vals[k] = parquet.ByteArrayValue(bytesOf(rows[k].db))
		}
	case 4: // _source_table
		for k := range rows {
			vals[k] = parquet.ByteArrayValue(bytesOf(rows[k].table))
		}
	case 5: // _kafka_topic
		topic := parquet.ByteArrayValue(bytesOf(b.key.part.Topic))
		for k := range rows {
			vals[k] = topic
		}
	case 6: // _kafka_partition
		part := parquet.Int32Value(b.key.part.Partition)
		for k := range rows {
			vals[k] = part
		}
	case 7: // _kafka_offset
		for k := range rows {
			vals[k] = parquet.Int64Value(rows[k].offset)
		}
	case 8: // _late
		for k := range rows {
			vals[k] = parquet.BooleanValue(rows[k].late)
		}
	}
}
