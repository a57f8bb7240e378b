package merge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// sorter sorts change records in memory up to its budget and spills sorted
// runs to files beyond it; iterate merges the runs (external merge sort).
// Records come in batches written straight into large arena chunks (see
// buffer and addBatch) and are referred to by chunk and offset, so the
// sort holds no pointers and its memory is what the budget counts. The
// budget is split between spillArenas arenas: while the others are sorted
// and written out in the background, records go on filling one.
type sorter struct {
	dir   string // where runs go; the caller removes it
	limit int64  // bytes per arena
	chunk int    // arena chunk size

	a        *arena         // being filled
	spares   []*arena       // free for the next swap
	free     [][]byte       // chunks of spilled arenas, for buffer
	bg       chan spillDone // spills in flight report here
	inFlight int
	err      error // of a spill
	// sortBufs holds the sort entries of sorts done, for the next ones.
	sortBufs chan []sortEntry

	runs       []spillRun
	spillBytes int64
}

// arena holds records and references to them.
type arena struct {
	chunks [][]byte
	refs   []recRef
	used   int64
	// prefix is what the sort keys of refs share, set by sortRefs.
	prefix []byte
}

// spillRun is a run file and the prefix all its records' sort keys
// share.
type spillRun struct {
	name   string
	prefix []byte
}

// spillDone reports a background spill.
type spillDone struct {
	a     *arena
	run   spillRun
	bytes int64
	err   error
}

// recRef locates a record in an arena: chunk index and offset of its
// 4-byte length prefix.
type recRef uint64

const (
	maxChunk = 1 << 20
	minChunk = 16 << 10
	// refOverhead is what a record costs beyond its bytes: its length
	// prefix and its reference.
	refOverhead = 4 + 8
)

// spillArenas is how many arenas share the budget. With three, two spills
// can run at once: decoding changes does not wait for a spill that lags
// behind, and spills use the cores decoding leaves idle.
const spillArenas = 3

// newSorter returns a sorter that holds about budget bytes of records in
// memory (at least two arena chunks of 16 KiB per arena).
func newSorter(dir string, budget int64) *sorter {
	limit := budget / spillArenas
	chunk := int(min(max(limit/8, minChunk), maxChunk))
	return &sorter{dir: dir, limit: max(limit, 2*int64(chunk)), chunk: chunk, a: &arena{},
		bg: make(chan spillDone, spillArenas), sortBufs: make(chan []sortEntry, spillArenas)}
}

// reserve makes room for about n references.
func (s *sorter) reserve(n int64) {
	n = min(n, s.limit/64)
	if int64(cap(s.a.refs)) < n {
		s.a.refs = slices.Grow(s.a.refs, int(n))
	}
}

func (a *arena) rec(ref recRef) record {
	c := a.chunks[ref>>32]
	off := uint32(ref)
	n := binary.LittleEndian.Uint32(c[off:])
	return record(c[off+4 : off+4+n : off+4+n])
}

// reset empties the arena and returns its chunks, emptied.
func (a *arena) reset() [][]byte {
	chunks := a.chunks
	for i := range chunks {
		chunks[i] = chunks[i][:0]
	}
	// The prefix is dropped, not reused: a run written from the arena
	// keeps it.
	a.chunks, a.refs, a.used, a.prefix = nil, a.refs[:0], 0, nil
	return chunks
}

// buffer returns an empty buffer for a batch of records (see addBatch):
// a chunk of an arena spilled before, or a new one.
func (s *sorter) buffer() []byte {
	if n := len(s.free); n > 0 {
		b := s.free[n-1]
		s.free = s.free[:n-1]
		return b
	}
	return make([]byte, 0, s.chunk)
}

// addBatch adds the records of buf, which start at offs, each a 4-byte
// little-endian length and the record. The sorter keeps buf (as a chunk
// of its arena): the caller takes its next one from buffer.
func (s *sorter) addBatch(buf []byte, offs []int) error {
	if len(offs) == 0 {
		s.free = append(s.free, buf[:0])
		return nil
	}
	need := int64(cap(buf)) + refOverhead*int64(len(offs))
	if s.a.used+need > s.limit && len(s.a.refs) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	a := s.a
	c := uint64(len(a.chunks))
	a.chunks = append(a.chunks, buf)
	for _, off := range offs {
		a.refs = append(a.refs, recRef(c<<32|uint64(off)))
	}
	a.used += need
	return nil
}

// sortEntry is a reference with 16 bytes of its sort key (those after the
// prefix all keys share): entries are radix-sorted by the first 8, and
// only entries that tie on them are compared, mostly without reaching
// into the arena.
type sortEntry struct {
	pre [2]uint64
	ref recRef
}

// sortRefs sorts refs by their records and sets a.prefix to the prefix
// their sort keys share. It takes its sort entries from buf, which it
// grows if needed and returns for the next sort.
func (a *arena) sortRefs(refs []recRef, buf []sortEntry) []sortEntry {
	if len(refs) == 0 {
		a.prefix = nil
		return buf
	}
	// The longest prefix all sort keys share.
	first := a.rec(refs[0]).sortKey()
	lcp := len(first)
	for _, r := range refs[1:] {
		// Most keys have the prefix found so far: testing for it
		// (memequal, vectorized) costs less than measuring the prefix
		// (commonPrefix, whose last bytes go one at a time).
		k := a.rec(r).sortKey()
		if bytes.HasPrefix(k, first[:lcp]) {
			continue
		}
		lcp = commonPrefix(first[:lcp], k)
		if lcp == 0 {
			break
		}
	}
	a.prefix = append(a.prefix[:0], first[:lcp]...)
	if len(refs) < 2 {
		return buf
	}
	if len(buf) < 2*len(refs) {
		buf = make([]sortEntry, 2*len(refs))
	}
	es, tmp := buf[:len(refs)], buf[len(refs):2*len(refs)]
	for i, r := range refs {
		k := a.rec(r).sortKey()[lcp:]
		var b [16]byte
		copy(b[:], k)
		es[i] = sortEntry{pre: [2]uint64{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}, ref: r}
	}
	es = radixSort(es, tmp)
	// Entries of equal first words are in their input order: sort each
	// such group by the rest.
	for i := 0; i < len(es); {
		j := i + 1
		for j < len(es) && es[j].pre[0] == es[i].pre[0] {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(es[i:j], func(x, y sortEntry) int {
				if x.pre[1] != y.pre[1] {
					if x.pre[1] < y.pre[1] {
						return -1
					}
					return 1
				}
				return compareRecords(a.rec(x.ref), a.rec(y.ref))
			})
		}
		i = j
	}
	for i := range es {
		refs[i] = es[i].ref
	}
	return buf
}

// commonPrefix is the length of the longest common prefix of a and b.
// It compares 8 bytes at a time: sortRefs calls it for every record, and
// the sort keys of a table's changes share their first tens of bytes
// (the source columns of the key, its leading bytes).
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// radixSort sorts es by pre[0] (a stable least-significant-digit radix
// sort by bytes, skipping the bytes all entries share), using tmp (of the
// same length) as scratch, and returns the sorted slice: es or tmp.
//
// The bytes all entries share are found first, with one OR and one AND
// per entry, and where at most four differ only those are counted: the
// sort keys of a run of changes differ in a few of the 8 bytes after
// their common prefix (in the clustered shape, three), and counting all
// 8 cost more than the passes that move the entries.
func radixSort(es, tmp []sortEntry) []sortEntry {
	or, and := uint64(0), ^uint64(0)
	for i := range es {
		or |= es[i].pre[0]
		and &= es[i].pre[0]
	}
	var (
		buf [8]int
		// counts[b] counts the values of byte b (from the least
		// significant); counts[8] takes the counts of no byte.
		counts [9][256]int
	)
	vary := buf[:0] // the bytes that differ between entries
	for b := range 8 {
		if byte((or^and)>>(8*b)) != 0 {
			vary = append(vary, b)
		}
	}
	if len(vary) == 0 {
		return es
	}
	if len(vary) <= 4 {
		rows := [4]int{8, 8, 8, 8}
		copy(rows[:], vary)
		c0, c1, c2, c3 := &counts[rows[0]], &counts[rows[1]], &counts[rows[2]], &counts[rows[3]]
		s0, s1, s2, s3 := uint(8*(rows[0]&7)), uint(8*(rows[1]&7)), uint(8*(rows[2]&7)), uint(8*(rows[3]&7))
		for i := range es {
			w := es[i].pre[0]
			c0[byte(w>>s0)]++
			c1[byte(w>>s1)]++
			c2[byte(w>>s2)]++
			c3[byte(w>>s3)]++
		}
	} else {
		for i := range es {
			w := es[i].pre[0]
			for b := range 8 {
				counts[b][byte(w>>(8*b))]++
			}
		}
	}
	for _, b := range vary {
		c := &counts[b]
		sum := 0
		for d := range c {
			c[d], sum = sum, sum+c[d]
		}
		shift := uint(8 * b)
		for i := range es {
			d := byte(es[i].pre[0] >> shift)
			tmp[c[d]] = es[i]
			c[d]++
		}
		es, tmp = tmp, es
	}
	return es
}

// spill hands the full arena to a goroutine that sorts it and writes it
// as a run, and goes on with another arena (waiting for a spill in flight
// if every other arena is in one).
func (s *sorter) spill() error {
	for s.inFlight > 0 {
		var d spillDone
		if s.inFlight < spillArenas-1 {
			select {
			case d = <-s.bg:
			default:
			}
		} else {
			d = <-s.bg
		}
		if d.a == nil {
			break
		}
		s.collect(d)
	}
	if s.err != nil {
		return s.err
	}
	full := s.a
	if n := len(s.spares); n > 0 {
		s.a, s.spares = s.spares[n-1], s.spares[:n-1]
	} else {
		s.a = &arena{}
	}
	s.inFlight++
	go func() {
		d := spillDone{a: full}
		s.sortBufs <- full.sortRefs(full.refs, s.sortBuf())
		d.run, d.bytes, d.err = s.writeRun(full.prefix, func(w *runWriter) error {
			full.writeRefs(w, full.refs)
			return nil
		})
		s.bg <- d
	}()
	return nil
}

// sortBuf returns the sort entries of a sort done, if any.
func (s *sorter) sortBuf() []sortEntry {
	select {
	case b := <-s.sortBufs:
		return b
	default:
		return nil
	}
}

// collect takes back the arena of a finished spill.
func (s *sorter) collect(d spillDone) {
	s.inFlight--
	if d.err != nil {
		if s.err == nil {
			s.err = d.err
		}
	} else {
		s.runs = append(s.runs, d.run)
		s.spillBytes += d.bytes
	}
	s.free = append(s.free, d.a.reset()...)
	s.spares = append(s.spares, d.a)
}

// wait waits for the spills in flight.
func (s *sorter) wait() error {
	for s.inFlight > 0 {
		s.collect(<-s.bg)
	}
	return s.err
}

// touch loads a byte of each record of refs, so that the loads overlap,
// and returns their sum for the caller to keep (the loads then stay).
func (a *arena) touch(refs []recRef) byte {
	var sum byte
	for _, ref := range refs {
		sum += a.chunks[ref>>32][uint32(ref)+4]
	}
	return sum
}

// writeRefs adds the records of refs to w, in order.
func (a *arena) writeRefs(w *runWriter, refs []recRef) {
	var touched byte
	for i, ref := range refs {
		// The records lie anywhere in the arena: a burst of loads ahead
		// waits for memory once instead of once per record (see
		// touchAhead).
		if i%touchAhead == 0 && i+touchAhead+touchAhead/2 <= len(refs) {
			touched += a.touch(refs[i+touchAhead/2 : i+touchAhead+touchAhead/2])
		}
		w.add(a.rec(ref))
	}
	w.touched = touched
}

// runWriter writes a run file: each record after its uvarint length,
// gathered in a buffer that is written when full.
type runWriter struct {
	f       *os.File
	buf     []byte
	n       int64 // bytes written
	err     error
	touched byte // see arena.writeRefs
}

// runBuffer is the size of a run writer's buffer.
const runBuffer = 1 << 20

func (w *runWriter) add(r record) {
	if len(w.buf)+binary.MaxVarintLen64+len(r) > cap(w.buf) {
		w.flush()
		if binary.MaxVarintLen64+len(r) > cap(w.buf) {
			w.write(binary.AppendUvarint(w.buf, uint64(len(r))))
			w.write(r)
			return
		}
	}
	w.buf = binary.AppendUvarint(w.buf, uint64(len(r)))
	w.buf = append(w.buf, r...)
}

func (w *runWriter) flush() {
	w.write(w.buf)
	w.buf = w.buf[:0]
}

func (w *runWriter) write(b []byte) {
	if w.err != nil || len(b) == 0 {
		return
	}
	n, err := w.f.Write(b)
	w.n += int64(n)
	w.err = err
}

// writeRun writes a new run file, whose records' sort keys share prefix,
// with the records write adds, and returns it and its size.
func (s *sorter) writeRun(prefix []byte, write func(w *runWriter) error) (spillRun, int64, error) {
	f, err := os.CreateTemp(s.dir, "run-*.bin")
	if err != nil {
		return spillRun{}, 0, fmt.Errorf("spill: %w", err)
	}
	w := &runWriter{f: f, buf: make([]byte, 0, runBuffer)}
	err = write(w)
	if err == nil {
		w.flush()
		if err = w.err; err != nil {
			err = fmt.Errorf("spill: %w", err)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("spill: %w", cerr)
	}
	if err != nil {
		os.Remove(f.Name())
		return spillRun{}, 0, err
	}
	return spillRun{name: f.Name(), prefix: prefix}, w.n, nil
}

// maxFanIn is the most runs merged at once; beyond it runs are first
// merged into longer runs, so open files and read buffers stay bounded.
const maxFanIn = 128

// iterate returns the records in order. The sorter must not be added to
// afterwards.
func (s *sorter) iterate() (*recordIter, error) {
	// The last arena is sorted while the spills in flight finish.
	s.a.sortRefs(s.a.refs, s.sortBuf())
	if err := s.wait(); err != nil {
		return nil, err
	}
	s.spares, s.free, s.sortBufs = nil, nil, nil
	for len(s.runs) > maxFanIn {
		rest := slices.Clone(s.runs[maxFanIn:])
		it, err := s.openRuns(s.runs[:maxFanIn], nil, nil)
		if err != nil {
			return nil, err
		}
		run, n, err := s.writeRun(it.prefix, func(w *runWriter) error {
			for {
				r, err := it.next()
				if r == nil || err != nil {
					return err
				}
				w.add(r)
			}
		})
		it.close()
		if err != nil {
			return nil, err
		}
		s.spillBytes += n
		s.runs = append([]spillRun{run}, rest...)
	}
	return s.openRuns(s.runs, s.a, s.a.refs)
}

// openRuns opens run files, and the sorted references mem of arena a
// (none if nil), for merging.
func (s *sorter) openRuns(runs []spillRun, a *arena, mem []recRef) (*recordIter, error) {
	bufSize := int(min(max(2*s.limit/int64(len(runs)+1), 4<<10), 256<<10))
	var files []*runReader
	for _, run := range runs {
		f, err := os.Open(run.name)
		if err != nil {
			for _, r := range files {
				r.f.Close()
			}
			return nil, fmt.Errorf("spill: %w", err)
		}
		files = append(files, &runReader{f: f, file: make([]byte, bufSize), prefix: run.prefix})
	}
	return newRecordIter(files, a, mem)
}

// newRecordIter merges the given runs and the references mem of arena a,
// sorted by sortRefs (none if mem is empty).
func newRecordIter(files []*runReader, a *arena, mem []recRef) (*recordIter, error) {
	it := &recordIter{runs: files}
	if len(mem) > 0 {
		it.runs = append(it.runs, &runReader{a: a, mem: mem, prefix: a.prefix})
	}
	// The sort keys of all runs share it.prefix: comparisons start after
	// it.
	for i, r := range it.runs {
		if i == 0 {
			it.prefix = r.prefix
		}
		it.prefix = it.prefix[:commonPrefix(it.prefix, r.prefix)]
	}
	for _, r := range it.runs {
		r.skip, r.keyed = len(it.prefix), len(it.runs) > 1
	}
	for i, r := range it.runs {
		ok, err := r.next()
		if err != nil {
			it.close()
			return nil, err
		}
		if ok {
			it.h = append(it.h, heapRun{pre: r.pre, run: i})
		}
	}
	for i := len(it.h)/2 - 1; i >= 0; i-- {
		it.down(i)
	}
	it.last = -1
	return it, nil
}

// runReader reads one sorted run: a file, or sorted references into the
// arena.
type runReader struct {
	f *os.File
	// file is the read buffer of a run file (nil for a run in memory):
	// the bytes read ahead are file[off:end]; eof says the file has no
	// more. Records are returned in place, in it, when they fit.
	file     []byte
	off, end int
	eof      bool
	buf      []byte // cur when it is longer than file
	a        *arena
	mem      []recRef
	cur      record
	// prefix is what the sort keys of the run share; pre is the 8 bytes
	// of cur's sort key after the first skip (zero-padded), big-endian,
	// kept if keyed (when there are other runs to compare with).
	prefix []byte
	skip   int
	pre    uint64
	keyed  bool
	// ahead counts down to the next touch of records ahead; touched
	// keeps what the touches read.
	ahead   int
	touched byte
}

// touchAhead is how many records ahead of the one read a run in memory
// reads a byte of, all at once: they lie anywhere in the arena, and a
// burst of independent loads waits for memory once instead of once per
// record.
const touchAhead = 16

func (r *runReader) next() (bool, error) {
	ok, err := r.read()
	if ok && r.keyed {
		k := r.cur.sortKey()[r.skip:]
		if len(k) >= 8 {
			r.pre = binary.BigEndian.Uint64(k)
		} else {
			var b [8]byte
			copy(b[:], k)
			r.pre = binary.BigEndian.Uint64(b[:])
		}
	}
	return ok, err
}

// read reads the next record into cur.
func (r *runReader) read() (bool, error) {
	if r.file == nil {
		if len(r.mem) == 0 {
			r.cur = nil
			return false, nil
		}
		if r.ahead--; r.ahead <= 0 && len(r.mem) >= touchAhead+touchAhead/2 {
			r.touched += r.a.touch(r.mem[touchAhead/2 : touchAhead+touchAhead/2])
			r.ahead = touchAhead
		}
		r.cur, r.mem = r.a.rec(r.mem[0]), r.mem[1:]
		return true, nil
	}
	// The length and the record are read in place, in the buffer, if
	// they fit.
	// fill is called only when it has work: a call per record costs.
	if r.end-r.off < binary.MaxVarintLen64 && !r.eof {
		if err := r.fill(binary.MaxVarintLen64); err != nil {
			return false, err
		}
	}
	if r.off == r.end {
		r.cur = nil
		r.remove()
		return false, nil
	}
	n, w := binary.Uvarint(r.file[r.off:r.end])
	if w <= 0 {
		return false, fmt.Errorf("read spill run: %w", errCorrupt)
	}
	if n <= uint64(len(r.file)-w) {
		size := w + int(n)
		if r.end-r.off < size && !r.eof {
			if err := r.fill(size); err != nil {
				return false, err
			}
		}
		if r.end-r.off < size {
			return false, fmt.Errorf("read spill run: %w", io.ErrUnexpectedEOF)
		}
		r.cur = record(r.file[r.off+w : r.off+size : r.off+size])
		r.off += size
		return true, nil
	}
	// Longer than the buffer: what it holds of the record, then the
	// rest straight from the file.
	if n > math.MaxInt32 {
		return false, fmt.Errorf("read spill run: %w", errCorrupt)
	}
	if uint64(cap(r.buf)) < n {
		r.buf = make([]byte, n, max(n, 4096))
	}
	r.buf = r.buf[:n]
	k := copy(r.buf, r.file[r.off+w:r.end])
	r.off = r.end
	if _, err := io.ReadFull(r.f, r.buf[k:]); err != nil {
		return false, fmt.Errorf("read spill run: %w", err)
	}
	r.cur = record(r.buf)
	return true, nil
}

// fill reads ahead until the buffer holds n bytes (at most its size) or
// the file has no more. It moves the bytes left to the buffer's start:
// cur, if in it, is overwritten.
func (r *runReader) fill(n int) error {
	r.end = copy(r.file, r.file[r.off:r.end])
	r.off = 0
	for r.end < n && !r.eof {
		m, err := r.f.Read(r.file[r.end:])
		r.end += m
		if errors.Is(err, io.EOF) {
			r.eof = true
		} else if err != nil {
			return fmt.Errorf("read spill run: %w", err)
		}
	}
	return nil
}

// recordIter merges runs in order (a binary heap of runs). The record
// next returns stays valid until the following call.
type recordIter struct {
	runs   []*runReader
	h      []heapRun
	last   int    // run whose record was returned last
	prefix []byte // what the sort keys of all runs share
}

// heapRun is a run in the heap, with a copy of its pre: most comparisons
// end with it, without reaching the run.
type heapRun struct {
	pre uint64
	run int
}

// tie tells, of heap entries i and j whose pre are equal, whether i's
// record sorts first.
func (it *recordIter) tie(i, j int) bool {
	return compareRecords(it.runs[it.h[i].run].cur, it.runs[it.h[j].run].cur) < 0
}

func (it *recordIter) down(i int) {
	h := it.h
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && (h[r].pre < h[l].pre || h[r].pre == h[l].pre && it.tie(r, l)) {
			m = r
		}
		if h[m].pre > h[i].pre || h[m].pre == h[i].pre && !it.tie(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// next returns the next record, or nil at the end.
func (it *recordIter) next() (record, error) {
	if it.last >= 0 {
		// Advance the run whose record the caller is done with.
		r := it.runs[it.last]
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if ok {
			it.h[0].pre = r.pre // the run is at the top
		} else {
			n := len(it.h) - 1
			it.h[0] = it.h[n]
			it.h = it.h[:n]
		}
		it.down(0)
		it.last = -1
	}
	if len(it.h) == 0 {
		return nil, nil
	}
	it.last = it.h[0].run
	return it.runs[it.last].cur, nil
}

func (it *recordIter) close() {
	for _, r := range it.runs {
		r.remove()
	}
	it.runs = nil
}

// remove closes and removes the run's file, if it has one, as soon as it
// is read to the end: freeing its pages then, while the merge goes on,
// not at the end of the run (a clustered day spills hundreds of MB).
func (r *runReader) remove() {
	if r.f != nil {
		r.f.Close()
		os.Remove(r.f.Name())
		r.f = nil
	}
}

// NewSpillDir creates a spill directory of this process under parent
// (the system's temporary directory if ""), named binlake-<use>-<pid>-…,
// after removing the directories of the same use that processes of this
// host left there and that no longer run: a killed merge or verify
// removes nothing itself. The caller removes the directory when done.
func NewSpillDir(parent, use string) (string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	prefix := "binlake-" + use + "-"
	removeDeadSpillDirs(parent, prefix)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("spill directory: %w", err)
	}
	dir, err := os.MkdirTemp(parent, prefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return "", fmt.Errorf("spill directory: %w", err)
	}
	return dir, nil
}

// removeDeadSpillDirs removes the directories in dir named prefix, a
// process ID, "-" and more, of processes on this host that no longer run.
func removeDeadSpillDirs(dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !e.IsDir() || !ok {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(rest, "%d-", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		if !processAlive(pid, "") {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// prefetchIter merges the runs of a recordIter on a goroutine of its own,
// a few blocks of records ahead of the reader, so that the merge of the
// runs and their reading overlap with what the reader does with the
// records. The record next returns stays valid until the call after the
// following one: the merger looks at the next change before it copies
// the one before.
type prefetchIter struct {
	it   *recordIter
	full chan recordBlock // blocks merged, in order; closed at the end
	free chan []byte      // blocks read, for the goroutine to reuse
	stop chan struct{}
	done chan struct{}
	cur  []byte // the block being read: uvarint length, record, ...
	prev []byte // the block read before it, freed with the next one
	off  int
	err  error
}

// recordBlock is a block of records, or the error that ended the merge.
type recordBlock struct {
	buf []byte
	err error
}

const (
	// prefetchBlock is the size of a block of records.
	prefetchBlock = 256 << 10
	// prefetchBlocks is how many blocks exist: one being read and the
	// one before it, the rest merged ahead or being merged.
	prefetchBlocks = 8
)

// prefetch starts merging its runs ahead; the caller closes the result,
// not it.
func prefetch(it *recordIter) *prefetchIter {
	p := &prefetchIter{
		it:   it,
		full: make(chan recordBlock, prefetchBlocks),
		free: make(chan []byte, prefetchBlocks),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range prefetchBlocks {
		p.free <- make([]byte, 0, prefetchBlock)
	}
	go p.merge()
	return p
}

func (p *prefetchIter) merge() {
	defer close(p.done)
	defer close(p.full)
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.stop:
			return
		}
		buf = buf[:0]
		var err error
		end := false
		for len(buf) < prefetchBlock {
			var r record
			if r, err = p.it.next(); err != nil || r == nil {
				end = true
				break
			}
			buf = binary.AppendUvarint(buf, uint64(len(r)))
			buf = append(buf, r...)
		}
		if len(buf) > 0 || err != nil {
			select {
			case p.full <- recordBlock{buf: buf, err: err}:
			case <-p.stop:
				return
			}
		}
		if end {
			return
		}
	}
}

// next returns the next record, or nil at the end.
func (p *prefetchIter) next() (record, error) {
	for p.off >= len(p.cur) {
		if p.err != nil {
			return nil, p.err
		}
		if p.prev != nil {
			p.free <- p.prev // never blocks: there are only prefetchBlocks
		}
		p.prev, p.cur = p.cur, nil
		b, ok := <-p.full
		if !ok {
			return nil, nil
		}
		p.cur, p.off, p.err = b.buf, 0, b.err
	}
	n, w := binary.Uvarint(p.cur[p.off:])
	start := p.off + w
	p.off = start + int(n)
	return record(p.cur[start:p.off:p.off]), nil
}

// close stops the merge and closes the runs.
func (p *prefetchIter) close() {
	close(p.stop)
	<-p.done
	p.it.close()
}
