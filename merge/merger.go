package merge

import (
	"bytes"
	"context"
	"fmt"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"

	"github.com/binlake/binlake/warehouse"
)

// The merge proper. One goroutine (the producer) walks the base files in
// key order against the sorted changes and decides, row by row, what the
// new day holds; another (the consumer) writes it, in the same order,
// through the data file sink:
//
//   - a base file whose key range no change falls in is carried: copied
//     whole to its new name;
//   - inside a file that must be opened, a row group no change falls in is
//     copied without decoding;
//   - the other row groups are decoded and merged. The producer reads only
//     their key and position columns and emits a plan (base row n, or
//     change row k) per output row, with the positions of the base rows
//     it keeps; the consumer then builds every output column from the
//     plan (the position column from those positions, not read again),
//     one goroutine per column, and writes them as a row group.
//
// Which base file or row group a change "falls in" is decided by ranges
// that tile the key space: file i owns [MinKey(i), MinKey(i+1)), the first
// file also everything below it and the last everything above it; row
// groups likewise inside their file. So a new key between two files goes
// into the one before it, and no output file ever overlaps another.

// baseFile is a file of the base day with its key range.
type baseFile struct {
	mf       warehouse.ManifestFile
	min, max []byte // nil when the manifest has no (readable) range
}

// baseSeg is a row group of a base file that is being rewritten.
type baseSeg struct {
	pf   *parquetFile
	rg   parquet.RowGroup
	fc   map[string]fileCol
	rows int64
}

// chunk is a batch of output rows: the plan, and the change rows it uses.
// Change rows are kept by column (see chgCol): the consumer's column
// goroutines each read their column's values, one after the other,
// instead of picking them out of every record.
type chunk struct {
	plan []int64 // >= 0: base row (ordinal in the run); < 0: change row -1-x
	// basePos is the _pos of the base rows of plan, in order, posLen
	// bytes each, as the producer's key reader read them: the consumer
	// writes them from here rather than decoding the column again.
	basePos []byte
	nrecs   int // change rows
	room    int // change rows the columns have room for
	// slack is bytes that every column but _pos has room for, at least:
	// appendChange adds a record without looking at the columns' room
	// while its payload fits in it.
	slack int
	// maxRows is the most rows of the chunk (merger.rgRows; 0: no
	// bound): change rows are never made room for past it.
	maxRows int
	cols    []chgCol
	newSegs []*baseSeg
	first   []byte
	last    []byte
	minKey  []string
	maxKey  []string
}

// chgCol is one column of a chunk's change rows: their values one after
// the other in data[:end], each encoded as a record's payload holds it
// (see rowCodec; column 0, _pos, its posLen bytes), and where change row
// k's starts in offs[k], nullOffset for a NULL (column 0 has no offs: no
// NULLs, one width). data and offs are room made ahead, written in place
// (appendChange), so that adding a value stores no pointer. They hold no
// pointer, so that the garbage collector does not scan a chunk's many
// change rows.
type chgCol struct {
	data []byte
	end  int
	offs []uint32
}

// pos returns change row k's _pos.
func (ch *chunk) pos(k int) []byte {
	return ch.cols[colPos].data[k*posLen : (k+1)*posLen : (k+1)*posLen]
}

// makeRoom makes room for n bytes more in column c: twice its room,
// or, if less, what the rows the chunk can still take (maxRows) need at
// the column's bytes per change row so far, with an eighth to spare.
// Out of line: a rare path, kept out of the loops that add values.
//
//go:noinline
func (ch *chunk) makeRoom(c, n int) {
	cc := &ch.cols[c]
	need := cc.end + n
	if need <= len(cc.data) {
		return
	}
	size := max(2*len(cc.data), 4<<10)
	if ch.maxRows > 0 {
		// Rows the chunk can take after the one n bytes are for.
		left := max(ch.maxRows-len(ch.plan)-1, 0)
		size = min(size, need+need*left*9/(8*(ch.nrecs+1)))
	}
	cc.grow(max(size, need))
}

// grow makes the column's room size bytes, keeping its values.
func (cc *chgCol) grow(size int) {
	d := make([]byte, size)
	copy(d, cc.data[:cc.end])
	cc.data = d
}

// makeRows makes room for n change rows in every column, or fewer:
// those the chunk can still take (maxRows).
func (ch *chunk) makeRows(n int) {
	if ch.maxRows > 0 {
		n = min(n, max(ch.nrecs+ch.maxRows-len(ch.plan), ch.nrecs+1))
	}
	if n <= ch.room {
		return
	}
	for c := range ch.cols {
		cc := &ch.cols[c]
		if c == colPos {
			d := make([]byte, n*posLen)
			copy(d, cc.data[:ch.nrecs*posLen])
			cc.data = d
			continue
		}
		offs := make([]uint32, n)
		copy(offs, cc.offs[:ch.nrecs])
		cc.offs = offs
	}
	ch.room = n
}

// reset empties a chunk that was written, for the next, keeping its
// room.
func (ch *chunk) reset() {
	ch.plan = ch.plan[:0]
	ch.basePos = ch.basePos[:0]
	ch.nrecs, ch.slack = 0, 0
	for c := range ch.cols {
		ch.cols[c].end = 0
	}
	clear(ch.newSegs)
	ch.newSegs = ch.newSegs[:0]
	ch.first, ch.last = ch.first[:0], ch.last[:0]
	ch.minKey, ch.maxKey = nil, nil
}

// task is one step for the consumer, in output order.
type task struct {
	chunk     *chunk
	copyRG    parquet.RowGroup
	minKey    []string
	maxKey    []string
	carry     *warehouse.ManifestFile
	endRun    bool
	closeFile *parquetFile
}

type merger struct {
	r     *run
	out   *layout
	codec rowCodec
	sum   *Summary

	delta *prefetchIter
	cur   record

	tombs     *tombLookup
	truncs    map[srcTable][]byte // every kept TRUNCATE: greatest position per table
	newTruncs map[srcTable][]byte // those found today: they remove base rows
	tw        *tombWriter
	// stampBase says the base is a bootstrap or an import: its rows'
	// _pos is a stamp meaning "as of before this position", so a change
	// at exactly that position is newer and wins the tie (with --position
	// start the stamp is 0, the position of a partition's first record).
	stampBase bool

	ctx context.Context
	// tasks go to the consumer, up to queuedTasks ahead of it, so the
	// producer runs on across tasks that take the consumer time but hold
	// no rows (copied row groups, carried files). A chunk takes the slot
	// in slots from its send until the consumer has written it, and then
	// goes to free, to be filled again: so there are two chunks, the
	// one being written and the one being built, whose room is made
	// once, not for every row group. (A third, queued, kept 20 MB more
	// resident for no CPU or wall time measurably saved.)
	tasks   chan task
	slots   chan struct{}
	free    chan *chunk
	chunk   *chunk
	ord     int64 // next base ordinal of the current run
	inRun   bool
	toClose []*parquetFile

	// rgRows is the most rows of a rewritten row group: RowGroupRows, or
	// fewer when FileSize is small, so that files can be cut near it.
	rgRows int
	// maxRecs is the most change rows a chunk sent had, and colBytes
	// the most bytes of values each column of change rows had.
	maxRecs  int
	colBytes []int

	keyBuf  []byte
	sources sourceCache // of stage
	staged  []byte      // the change stage copied last
}

// advance moves to the next change record.
func (m *merger) advance() error {
	rec, err := m.delta.next()
	if err != nil {
		return err
	}
	m.cur = rec
	return nil
}

// deltaBefore reports whether the next change's key is below upper (nil:
// no bound).
func (m *merger) deltaBefore(upper []byte) bool {
	return m.cur != nil && (upper == nil || bytes.Compare(m.cur.key(), upper) < 0)
}

func (m *merger) send(t task) error {
	if t.chunk != nil {
		select {
		case m.slots <- struct{}{}:
		case <-m.ctx.Done():
			return context.Cause(m.ctx)
		}
	}
	select {
	case m.tasks <- t:
		return nil
	case <-m.ctx.Done():
		return context.Cause(m.ctx)
	}
}

// queuedTasks is how many tasks the producer may be ahead of the
// consumer.
const queuedTasks = 64

// truncAffects reports whether one of today's TRUNCATEs may remove rows of
// the key range [lo, hi] (nil: unknown).
func (m *merger) truncAffects(lo, hi []byte) bool {
	if len(m.newTruncs) == 0 {
		return false
	}
	if !m.r.o.Table.KeyIncludesSource || lo == nil || hi == nil {
		return true
	}
	for t := range m.newTruncs {
		p := appendKeyValue(nil, encBytes, parquet.ByteArrayValue([]byte(t.db)))
		p = appendKeyValue(p, encBytes, parquet.ByteArrayValue([]byte(t.table)))
		if bytes.Compare(hi, p) >= 0 && (bytes.Compare(lo, p) <= 0 || bytes.HasPrefix(lo, p)) {
			return true
		}
	}
	return false
}

// truncated reports whether a TRUNCATE of (db, table) in truncs lies after
// pos.
func truncated(truncs map[srcTable][]byte, db, table, pos []byte) bool {
	if len(truncs) == 0 {
		return false
	}
	t, ok := truncs[srcTable{string(db), string(table)}]
	return ok && bytes.Compare(pos, t) < 0
}

// mergeFiles runs the producer over the base files.
func (m *merger) mergeFiles(files []baseFile, reencodeAll bool) error {
	if err := m.advance(); err != nil {
		return err
	}
	for i, f := range files {
		var upper []byte
		if i+1 < len(files) {
			upper = files[i+1].min
		}
		if !reencodeAll && f.min != nil && !m.deltaBefore(upper) && !m.truncAffects(f.min, f.max) {
			if err := m.endRun(); err != nil {
				return err
			}
			mf := f.mf
			if err := m.send(task{carry: &mf}); err != nil {
				return err
			}
			m.sum.BaseFilesCarried++
			m.sum.Unchanged += f.mf.Rows
			continue
		}
		if err := m.mergeFile(f, upper, reencodeAll); err != nil {
			return fmt.Errorf("merge %s: %w", f.mf.Key, err)
		}
	}
	if len(files) == 0 {
		if err := m.mergeRange(nil, nil); err != nil {
			return err
		}
	}
	if m.cur != nil {
		return fmt.Errorf("internal error: change of key %x left after the last base file", m.cur.key())
	}
	return m.endRun()
}

// mergeFile merges the changes of [f's range, upper) into a base file.
func (m *merger) mergeFile(f baseFile, upper []byte, reencodeAll bool) error {
	r := m.r
	pf, err := openParquet(m.ctx, r.o.Store, f.mf.Key, r.tmp)
	if err != nil {
		return err
	}
	// Closed by the first endRun after the file is done with.
	defer func() { m.toClose = append(m.toClose, pf) }()
	m.sum.BaseFilesTouched++
	m.sum.BytesRead += pf.size
	fc := fileColumns(pf, r.baseLayout.cols, r.baseLayout.types)
	bounds, err := rowGroupBounds(pf, fc, m.out)
	if err != nil {
		return err
	}
	// Row groups are copied only from files of the output's very schema
	// (a bootstrap or import may lay columns out otherwise).
	copyable := !reencodeAll && parquet.EqualNodes(pf.file.Schema(), m.out.schema)
	rgs := pf.file.RowGroups()
	for j, rg := range rgs {
		rgUpper := upper
		if j+1 < len(rgs) {
			rgUpper = bounds[j+1][0]
		}
		if copyable && !m.deltaBefore(rgUpper) && !m.truncAffects(bounds[j][0], bounds[j][1]) {
			if err := m.endRun(); err != nil {
				return err
			}
			if err := m.send(task{copyRG: rg, minKey: keyTexts(bounds[j][0], m.out.keys, m.out.kinds), maxKey: keyTexts(bounds[j][1], m.out.keys, m.out.kinds)}); err != nil {
				return err
			}
			m.sum.RowGroupsCopied++
			m.sum.Unchanged += rg.NumRows()
			continue
		}
		m.sum.RowGroupsRewritten++
		seg := &baseSeg{pf: pf, rg: rg, fc: fc, rows: rg.NumRows()}
		m.chunkOf().newSegs = append(m.chunk.newSegs, seg)
		m.inRun = true
		// The source columns are read only to apply today's TRUNCATEs.
		kr, err := newKeyReader(rg, fc, m.out, len(m.newTruncs) > 0)
		if err != nil {
			return err
		}
		err = m.mergeRange(kr, rgUpper)
		kr.close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (m *merger) chunkOf() *chunk {
	if m.chunk == nil {
		var ch *chunk
		select {
		case ch = <-m.free:
			ch.reset()
		default:
			ch = &chunk{plan: make([]int64, 0, m.rgRows), cols: make([]chgCol, len(m.codec.kinds)+1), maxRows: m.rgRows}
		}
		// Change rows are sized after the most a chunk had, so that a
		// chunk of mostly changes does not grow them step by step.
		n := min(m.rgRows, max(m.maxRecs+m.maxRecs/8, 1024))
		if m.colBytes == nil {
			m.colBytes = make([]int, len(ch.cols))
		}
		ch.makeRows(n)
		for c := 1; c < len(ch.cols); c++ {
			size := m.colBytes[c] + m.colBytes[c]/8
			if w := m.codec.widths[c-1]; w != varWidth {
				size = n * w
			} else if size == 0 {
				size = n * 8
			}
			if size > len(ch.cols[c].data) {
				ch.cols[c].grow(size)
			}
		}
		m.chunk = ch
	}
	return m.chunk
}

// baseRow is a base row at the key reader's position.
type baseRow struct {
	kr  *keyReader
	ord int64
}

// mergeRange merges the base rows of kr (nil: none) with the changes
// below upper.
func (m *merger) mergeRange(kr *keyReader, upper []byte) error {
	ok := false
	if kr != nil {
		var err error
		if ok, err = kr.next(); err != nil {
			return err
		}
	}
	for {
		hasD := m.deltaBefore(upper)
		if !ok && !hasD {
			return nil
		}
		if ok && len(m.newTruncs) == 0 {
			// The base rows below the next change are kept as they are.
			var limit []byte
			if hasD {
				limit = m.cur.key()
			}
			if n := kr.below(limit); n > 0 {
				if err := m.keepBaseRun(kr, n); err != nil {
					return err
				}
				var err error
				if ok, err = kr.skip(n); err != nil {
					return err
				}
				continue
			}
		}
		var c int
		switch {
		case !ok:
			c = 1
		case !hasD:
			c = -1
		default:
			c = bytes.Compare(kr.key(), m.cur.key())
		}
		var err error
		switch {
		case c < 0:
			err = m.keepBase(kr)
		case c == 0:
			err = m.resolve(&baseRow{kr: kr, ord: m.ord})
		default:
			err = m.resolve(nil)
		}
		if err != nil {
			return err
		}
		if c <= 0 {
			m.ord++
			if ok, err = kr.next(); err != nil {
				return err
			}
		}
	}
}

// keepBase handles a base row no change applies to.
func (m *merger) keepBase(kr *keyReader) error {
	if truncated(m.newTruncs, kr.db(), kr.table(), kr.pos()) {
		m.sum.Deleted++
		m.sum.Truncated++
		return nil
	}
	m.sum.Unchanged++
	return m.emit(m.ord, kr.key(), kr.pos(), nil)
}

// keepBaseRun keeps the n base rows from the key reader's current one,
// which no change applies to and no TRUNCATE removes: keepBase for each.
func (m *merger) keepBaseRun(kr *keyReader, n int) error {
	m.sum.Unchanged += int64(n)
	for i := kr.i; n > 0; {
		ch := m.chunkOf()
		k := min(n, m.rgRows-len(ch.plan))
		if len(ch.plan) == 0 {
			ch.first = append(ch.first[:0], kr.keyAt(i)...)
		}
		for range k {
			ch.plan = append(ch.plan, m.ord)
			m.ord++
		}
		ch.basePos = kr.appendPos(ch.basePos, i, k)
		i += k
		n -= k
		ch.last = append(ch.last[:0], kr.keyAt(i-1)...)
		if len(ch.plan) >= m.rgRows {
			if err := m.sendChunk(); err != nil {
				return err
			}
		}
	}
	return nil
}

// emit adds an output row: base ordinal ord (>= 0) of position pos, or
// the change row rec, staged (ord < 0).
func (m *merger) emit(ord int64, key, pos []byte, rec record) error {
	ch := m.chunkOf()
	if ord < 0 {
		if err := m.addChangeRow(ch, rec); err != nil {
			return err
		}
		ord = -int64(ch.nrecs)
	} else {
		ch.basePos = append(ch.basePos, pos[:posLen]...)
	}
	if len(ch.plan) == 0 {
		ch.first = append(ch.first[:0], key...)
	}
	ch.last = append(ch.last[:0], key...)
	ch.plan = append(ch.plan, ord)
	if len(ch.plan) >= m.rgRows {
		return m.sendChunk()
	}
	return nil
}

// stage copies a change that may win its key, with its full payload, to
// a buffer of its own, where addChangeRow takes it from. The next stage
// overwrites it.
func (m *merger) stage(rec record) (record, error) {
	full, err := m.codec.appendFull(m.staged[:0], rec, &m.sources)
	m.staged = full
	return full, err
}

// addChangeRow adds a winning change, the one staged last, to the chunk.
func (m *merger) addChangeRow(ch *chunk, rec record) error {
	return m.codec.appendChange(ch, rec)
}

// resolve applies the changes of the key at m.cur to the base row b (nil:
// the key has none).
func (m *merger) resolve(b *baseRow) error {
	m.keyBuf = append(m.keyBuf[:0], m.cur.key()...)
	key := m.keyBuf
	var block []byte
	live, cut := b != nil, false
	if b != nil {
		block = b.kr.pos()
		cut = truncated(m.newTruncs, b.kr.db(), b.kr.table(), block)
	}
	tp, err := m.tombs.lookup(key)
	if err != nil {
		return err
	}
	// A change is stale unless it is newer than block; a change at
	// exactly a stamp is newer.
	stamp := b != nil && m.stampBase
	if tp != nil && (block == nil || bytes.Compare(tp, block) >= 0) {
		block, stamp = tp, false
	}
	// The last applicable change wins. Only it is staged: cand, the
	// change before m.cur (the iterator keeps it valid), is staged when
	// the next change does not supersede it.
	var winner, cand record
	for m.cur != nil && bytes.Equal(m.cur.key(), key) {
		c := m.cur
		switch {
		case m.truncatedChange(c),
			block != nil && bytes.Compare(c.pos(), block) < 0,
			block != nil && !stamp && bytes.Equal(c.pos(), block):
			m.sum.Stale++
			if cand != nil {
				if winner, err = m.stage(cand); err != nil {
					return err
				}
				cand = nil
			}
		default:
			cand = c
			if c.flags()&flagEarlier != 0 {
				m.sum.LateApplied++
			}
		}
		if err := m.advance(); err != nil {
			return err
		}
	}
	if cand != nil {
		if winner, err = m.stage(cand); err != nil {
			return err
		}
	}
	switch {
	case winner == nil:
		if live && !cut {
			m.sum.Unchanged++
			return m.emit(b.ord, key, b.kr.pos(), nil)
		}
		if cut {
			m.sum.Deleted++
			m.sum.Truncated++
		}
	case winner.op() == opDelete:
		if live {
			m.sum.Deleted++
		}
		m.sum.Tombstones++
		return m.tw.add(key, winner.pos())
	default:
		if live {
			m.sum.Updated++
		} else {
			m.sum.Inserted++
		}
		return m.emit(-1, key, nil, winner)
	}
	return nil
}

// truncatedChange reports whether a kept TRUNCATE removes change c.
func (m *merger) truncatedChange(c record) bool {
	if len(m.truncs) == 0 {
		return false
	}
	db, table := m.codec.sourceOf(c)
	return truncated(m.truncs, db, table, c.pos())
}

// sendChunk hands the current chunk to the consumer.
func (m *merger) sendChunk() error {
	ch := m.chunk
	if ch == nil || (len(ch.plan) == 0 && len(ch.newSegs) == 0) {
		return nil
	}
	m.chunk = nil
	m.maxRecs = max(m.maxRecs, ch.nrecs)
	for c := range ch.cols {
		m.colBytes[c] = max(m.colBytes[c], ch.cols[c].end)
	}
	ch.minKey = keyTexts(ch.first, m.out.keys, m.out.kinds)
	ch.maxKey = keyTexts(ch.last, m.out.keys, m.out.kinds)
	return m.send(task{chunk: ch})
}

// endRun ends a run of rewritten row groups (before a copied row group or
// carried file, and at the end) and closes the files no task needs.
func (m *merger) endRun() error {
	if m.inRun || m.chunk != nil {
		if err := m.sendChunk(); err != nil {
			return err
		}
		if err := m.send(task{endRun: true}); err != nil {
			return err
		}
	}
	m.inRun, m.ord = false, 0
	for _, pf := range m.toClose {
		if err := m.send(task{closeFile: pf}); err != nil {
			return err
		}
	}
	m.toClose = nil
	return nil
}

// consumer writes the tasks to the data sink.
type consumer struct {
	out     *layout
	sink    *fileSink
	par     int
	slots   chan struct{} // the merger's
	free    chan *chunk   // the merger's
	cancel  context.CancelCauseFunc
	segs    []*baseSeg
	sources []*colSource
	runs    []int // of the chunk being written (planRuns)
}

// run writes the tasks until tasks is closed. Once it fails, or ctx is
// done (the producer failed), it only closes files, taking every task so
// that the producer never waits on it; its own failure cancels ctx.
func (c *consumer) run(ctx context.Context, tasks <-chan task) error {
	var err error
	for t := range tasks {
		if err == nil && ctx.Err() != nil {
			err = context.Cause(ctx)
			c.endRun()
		}
		switch {
		case t.closeFile != nil:
			t.closeFile.close()
		case err != nil:
		case t.chunk != nil:
			err = c.writeChunk(t.chunk)
		case t.copyRG != nil:
			err = c.sink.copyRowGroup(t.copyRG, t.minKey, t.maxKey)
		case t.carry != nil:
			err = c.sink.carry(*t.carry)
		case t.endRun:
			c.endRun()
		}
		if err != nil && ctx.Err() == nil {
			c.endRun()
			c.cancel(err)
		}
		if t.chunk != nil {
			// The writer has copied its values: it can be filled again.
			select {
			case c.free <- t.chunk:
			default:
			}
			<-c.slots // the producer may send the next chunk
		}
	}
	c.endRun()
	return err
}

func (c *consumer) endRun() {
	for _, s := range c.sources {
		s.close()
	}
	c.sources, c.segs = nil, nil
}

// writeChunk writes a chunk as one row group, a goroutine per column.
func (c *consumer) writeChunk(ch *chunk) error {
	c.segs = append(c.segs, ch.newSegs...)
	if len(ch.plan) == 0 {
		return nil
	}
	if c.sources == nil {
		c.sources = make([]*colSource, c.out.ncols())
		for i := range c.sources {
			c.sources[i] = &colSource{col: i, out: c.out, codec: newRowCodec(c.out)}
		}
	}
	cws := c.sink.writer().ColumnWriters()
	c.runs = planRuns(c.runs[:0], ch.plan)
	short := shortChangeRuns(ch.plan, c.runs)
	var g errgroup.Group
	g.SetLimit(c.par)
	for col := range c.sources {
		g.Go(func() error {
			if err := c.sources[col].write(cws[col], ch, c.runs, c.segs, short); err != nil {
				return err
			}
			// Compress the column's last page here, in parallel, rather
			// than in the row group flush.
			return cws[col].Flush()
		})
	}
	if err := g.Wait(); err != nil {
		return c.sink.fail(err)
	}
	return c.sink.flushRowGroup(int64(len(ch.plan)), ch.minKey, ch.maxKey)
}

// planRuns appends to runs the end of each run of plan, which the column
// goroutines each write in one step: change rows in a row, or base rows
// of consecutive ordinals.
func planRuns(runs []int, plan []int64) []int {
	for i := 0; i < len(plan); {
		j := i + 1
		if plan[i] < 0 {
			for j < len(plan) && plan[j] < 0 {
				j++
			}
		} else {
			for j < len(plan) && plan[j] == plan[j-1]+1 {
				j++
			}
		}
		runs = append(runs, j)
		i = j
	}
	return runs
}

// shortChangeRuns reports whether the runs of change rows of plan (runs
// are its ends, planRuns) are shorter than changeBlockRun rows on
// average, as where changes are spread over the key space.
func shortChangeRuns(plan []int64, runs []int) bool {
	n, rows := 0, 0
	i := 0
	for _, j := range runs {
		if plan[i] < 0 {
			n++
			rows += j - i
		}
		i = j
	}
	return rows < changeBlockRun*n
}

// changeBlockRun is the average length of the runs of change rows below
// which a column decodes the change rows' values changeBlock rows at a
// time (see colSource.decodeChanges), not run by run.
const (
	changeBlockRun = 4
	changeBlock    = 256
)

// colSource reads one column of the base row groups of a run, in order,
// and writes that column of the output rows.
type colSource struct {
	col   int
	out   *layout
	codec rowCodec

	seg      int   // index of the segment being read, in segs
	segStart int64 // ordinal of its first row
	opened   bool
	identity bool // base values need no conversion
	r        *columnReader
	conv     converter
	absent   bool
	buf      []parquet.Value
	bufStart int64
	bufN     int
	scratch  []byte
	vals     []parquet.Value
	// chg holds the values of change rows chgLo… of the chunk being
	// written (see decodeChanges); chgPlan names them for appendColumn.
	chg     []parquet.Value
	chgLo   int
	chgPlan []int64
}

func (s *colSource) close() {
	s.r.close()
	s.r = nil
}

// ensure makes base row ord part of the buffered batch (ords only grow).
func (s *colSource) ensure(ord int64, segs []*baseSeg) error {
	for ord >= s.bufStart+int64(s.bufN) {
		next := s.bufStart + int64(s.bufN)
		for !s.opened || next >= s.segStart+segs[s.seg].rows {
			if s.opened {
				s.segStart += segs[s.seg].rows
				s.seg++
				s.r.close()
				s.r, s.opened = nil, false
			}
			if s.seg >= len(segs) {
				return fmt.Errorf("internal error: base row %d past the run", ord)
			}
			if err := s.open(segs[s.seg]); err != nil {
				return err
			}
			s.opened = true
		}
		want := int(min(int64(batchRows), s.segStart+segs[s.seg].rows-next))
		if s.buf == nil {
			s.buf = make([]parquet.Value, batchRows)
		}
		n := want
		if s.absent {
			for i := range s.buf[:want] {
				s.buf[i] = parquet.Value{}.Level(0, 0, s.col)
			}
		} else {
			var err error
			if n, err = s.r.read(s.buf[:want]); err != nil {
				return err
			}
			if n != want {
				return fmt.Errorf("column %s: %d values for %d rows", s.out.fields[s.col].Name, n, want)
			}
		}
		s.bufStart, s.bufN = next, n
	}
	return nil
}

// open starts reading a segment's column.
func (s *colSource) open(seg *baseSeg) error {
	name := s.out.fields[s.col].Name
	fc, ok := seg.fc[name]
	s.absent = !ok
	if !ok {
		s.r, s.identity = nil, true
		return nil
	}
	s.r = newColumnReader(seg.rg.ColumnChunks()[fc.index])
	s.conv = newConverter(name, fc.typ, fc.kind, s.out.typeOf(s.col), s.out.kinds[s.col], s.col, s.col < nMeta)
	// Values of a file of the same layout are written as read.
	s.identity = s.conv.same && fc.index == s.col && fc.req == (s.col < nMeta)
	return nil
}

// decodeChanges decodes the values of column s.col of change rows r…
// of ch into s.chg, changeBlock rows of them (or up to the last): for
// runs of change rows of a row or two, one call of appendColumn per run
// costs more than the values' decoding.
func (s *colSource) decodeChanges(ch *chunk, r int) {
	n := min(changeBlock, ch.nrecs-r)
	s.chgPlan = s.chgPlan[:0]
	for k := range n {
		s.chgPlan = append(s.chgPlan, int64(-1-r-k))
	}
	s.chg, s.chgLo = s.codec.appendColumn(s.chg[:0], ch, s.chgPlan, s.col), r
}

// write writes column s.col of the chunk's rows to cw, in batches of
// values; runs are the ends of the runs of its plan (planRuns); short
// says its runs of change rows are short (shortChangeRuns): their values
// are then decoded in blocks (decodeChanges). Base values of the same
// layout are written as read; a batch is written before reading on
// releases the pages its values refer to. _pos is written by writePos.
func (s *colSource) write(cw *parquet.ColumnWriter, ch *chunk, runs []int, segs []*baseSeg, short bool) error {
	if s.vals == nil {
		s.vals = make([]parquet.Value, 0, batchRows)
	}
	if s.col == colPos {
		return s.writePos(cw, ch)
	}
	s.chg, s.chgLo = s.chg[:0], 0
	defer func() { clear(s.chg) }() // they refer to the chunk's records
	vals := s.vals[:0]
	flush := func() error {
		if len(vals) > 0 {
			if _, err := cw.WriteRowValues(vals); err != nil {
				return err
			}
			vals = vals[:0]
		}
		s.scratch = s.scratch[:0]
		return nil
	}
	plan := ch.plan
	i := 0
	for _, j := range runs {
		e := plan[i]
		// A run that fits in vals and whose values are at hand (base
		// values of the same layout in the batch read, or change values
		// in the block decoded) is copied in one step.
		if n := j - i; len(vals)+n <= cap(vals) {
			var src []parquet.Value
			if e >= 0 {
				if s.identity && e >= s.bufStart && e+int64(n) <= s.bufStart+int64(s.bufN) {
					src = s.buf[e-s.bufStart:]
				}
			} else if r := int(-1-e) - s.chgLo; short && r >= 0 && r+n <= len(s.chg) {
				src = s.chg[r:]
			}
			if src != nil {
				if n == 1 {
					vals = append(vals, src[0]) // not a call of typedslicecopy
				} else {
					vals = append(vals, src[:n]...)
				}
				i = j
				if len(vals) == cap(vals) {
					if err := flush(); err != nil {
						return err
					}
				}
				continue
			}
		}
		if e < 0 {
			// A run of change rows, decoded in one call per batch.
			for i < j {
				c := min(j-i, cap(vals)-len(vals))
				if short {
					// Each value from the block decoded (decodeChanges).
					for _, e := range plan[i : i+c] {
						r := int(-1 - e)
						if uint(r-s.chgLo) >= uint(len(s.chg)) {
							s.decodeChanges(ch, r)
						}
						vals = append(vals, s.chg[r-s.chgLo])
					}
				} else {
					vals = s.codec.appendColumn(vals, ch, plan[i:i+c], s.col)
				}
				i += c
				if len(vals) == cap(vals) {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			continue
		}
		for ord, n := e, int64(j-i); n > 0; {
			if ord >= s.bufStart+int64(s.bufN) {
				// Reading on releases the pages pending values may
				// refer to: write them first.
				if err := flush(); err != nil {
					return err
				}
				if err := s.ensure(ord, segs); err != nil {
					return err
				}
			}
			k := min(n, s.bufStart+int64(s.bufN)-ord)
			src := s.buf[ord-s.bufStart : ord-s.bufStart+k]
			if s.identity {
				// Gathered with the change rows' values, so that the
				// writer is called once per batch, not once per run.
				for len(src) > 0 {
					c := min(len(src), cap(vals)-len(vals))
					vals = append(vals, src[:c]...)
					src = src[c:]
					if len(vals) == cap(vals) {
						if err := flush(); err != nil {
							return err
						}
					}
				}
			} else {
				for _, v := range src {
					cv, err := s.conv.convert(v, &s.scratch)
					if err != nil {
						return err
					}
					vals = append(vals, cv)
					if len(vals) == cap(vals) {
						if err := flush(); err != nil {
							return err
						}
					}
				}
			}
			ord += k
			n -= k
		}
		i = j
	}
	return flush()
}

// writePos is write for column _pos: change rows' from their records,
// base rows' as the producer's key reader read them (chunk.basePos).
func (s *colSource) writePos(cw *parquet.ColumnWriter, ch *chunk) error {
	vals := s.vals[:cap(s.vals)]
	n, bp := 0, 0
	for _, e := range ch.plan {
		var p []byte
		if e < 0 {
			p = ch.pos(int(-1 - e))
		} else {
			p = ch.basePos[bp : bp+posLen : bp+posLen]
			bp += posLen
		}
		vals[n] = parquet.FixedLenByteArrayValue(p)
		vals[n].SetColumnIndex(colPos)
		if n++; n == len(vals) {
			if _, err := cw.WriteRowValues(vals); err != nil {
				return err
			}
			n = 0
		}
	}
	if n > 0 {
		if _, err := cw.WriteRowValues(vals[:n]); err != nil {
			return err
		}
	}
	return nil
}
