package merge

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestSorterOrder sorts records of random keys and lengths — some longer
// than an arena chunk and than a spill run's read buffer — through
// in-memory sorts, spills and the merge of the runs, and checks that
// every record comes back once, in sort key order, through prefetchIter
// as the merge reads them. Keys of the second
// round share a long prefix, as keys with the source table do; the last
// round spills more runs than are merged at once (maxFanIn).
func TestSorterOrder(t *testing.T) {
	for _, c := range []struct {
		budget  int64
		prefix  string
		records int
		big     bool // some records longer than a chunk
	}{
		{64 << 10, "", 20_000, true}, {1 << 20, "", 20_000, true}, {256 << 20, "", 20_000, true},
		{64 << 10, "shop/orders/", 20_000, true}, {1 << 20, "shop/orders/", 20_000, true},
		{64 << 10, "shop/orders/", 40_000, false},
	} {
		budget := c.budget
		rng := rand.New(rand.NewPCG(uint64(budget), 3))
		dir := t.TempDir()
		s := newSorter(dir, budget)
		var want [][]byte
		var batch []byte
		var offs []int
		flush := func() {
			if err := s.addBatch(batch, offs); err != nil {
				t.Fatal(err)
			}
			batch, offs = s.buffer(), offs[:0]
		}
		batch = s.buffer()
		for i := range c.records {
			key := appendKeyValue(nil, encBytes, parquet.ByteArrayValue([]byte(c.prefix+strconv.Itoa(rng.IntN(500)))))
			var pos [posLen]byte
			binary.BigEndian.PutUint64(pos[8:], uint64(rng.IntN(50)))
			payload := make([]byte, rng.IntN(40))
			if c.big && rng.IntN(200) == 0 {
				payload = make([]byte, 20_000+rng.IntN(300_000))
			}
			for j := range payload {
				payload[j] = byte(rng.Uint32())
			}
			rec := appendRecordHeader(nil, key, pos[:], uint64(i), opUpsert, 0)
			rec = append(rec, payload...)
			want = append(want, rec)
			start := len(batch)
			batch = binary.LittleEndian.AppendUint32(batch, uint32(len(rec)))
			batch = append(batch, rec...)
			offs = append(offs, start)
			if len(batch) >= cap(batch)-cap(batch)/8 {
				flush()
			}
		}
		if err := s.addBatch(batch, offs); err != nil {
			t.Fatal(err)
		}
		if err := s.wait(); err != nil {
			t.Fatal(err)
		}
		spilled := len(s.runs)
		if !c.big && spilled <= maxFanIn {
			t.Fatalf("%d spill runs, want more than %d", spilled, maxFanIn)
		}
		sorted, err := s.iterate()
		if err != nil {
			t.Fatal(err)
		}
		it := prefetch(sorted) // as the merge reads them
		slices.SortFunc(want, func(a, b []byte) int { return compareRecords(a, b) })
		var last []byte // the record before r, which must stay valid
		for i := 0; ; i++ {
			r, err := it.next()
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 && !bytes.Equal(last, want[i-1]) {
				t.Fatalf("budget %d: record %d changed after the next was read", budget, i-1)
			}
			last = r
			if r == nil {
				if i != len(want) {
					t.Fatalf("budget %d: %d records back, want %d", budget, i, len(want))
				}
				// Runs read to the end are removed then, before close.
				if left, err := os.ReadDir(dir); err != nil || len(left) > 0 {
					t.Fatalf("budget %d: %d run files left after the last record (%v)", budget, len(left), err)
				}
				break
			}
			if i >= len(want) || !bytes.Equal(r, want[i]) {
				t.Fatalf("budget %d: record %d differs", budget, i)
			}
		}
		it.close()
		t.Logf("budget %d: %d spill runs", budget, spilled)
		if budget == 64<<10 && spilled < 10 {
			t.Errorf("budget %d: %d spill runs, want many", budget, spilled)
		}
	}
}

// TestSorterSpillError checks that a spill that fails, here for want of
// its directory, fails the sort instead of losing the arena's records.
func TestSorterSpillError(t *testing.T) {
	s := newSorter(filepath.Join(t.TempDir(), "gone"), 64<<10)
	var err error
	for i := 0; i < 10_000 && err == nil; i++ {
		batch := s.buffer()
		rec := appendRecordHeader(nil, appendKeyValue(nil, encInt32, parquet.Int32Value(int32(i))), make([]byte, posLen), uint64(i), opUpsert, 0)
		batch = binary.LittleEndian.AppendUint32(batch, uint32(len(rec)))
		err = s.addBatch(append(batch, rec...), []int{0})
	}
	if err == nil {
		_, err = s.iterate()
	}
	if err == nil || !strings.Contains(err.Error(), "spill") {
		t.Fatalf("sorting into a missing spill directory: error %v, want a spill error", err)
	}
}

// BenchmarkSorter sorts records shaped like the merge benchmark's (keys
// that share the source table, 150 bytes) through spills and reads them
// back.
func BenchmarkSorter(b *testing.B) {
	const n = 200_000
	rng := rand.New(rand.NewPCG(1, 2))
	var recs [][]byte
	payload := make([]byte, 100)
	for i := range n {
		key := appendKeyValue(nil, encBytes, parquet.ByteArrayValue([]byte("shop")))
		key = appendKeyValue(key, encBytes, parquet.ByteArrayValue([]byte("orders")))
		key = appendKeyValue(key, encInt32, parquet.Int32Value(int32(rng.IntN(n/2))))
		var pos [posLen]byte
		binary.BigEndian.PutUint64(pos[8:], uint64(rng.IntN(1<<40)))
		rec := appendRecordHeader(nil, key, pos[:], uint64(i), opUpsert, 0)
		recs = append(recs, append(rec, payload...))
	}
	dir := b.TempDir()
	b.SetBytes(int64(n * len(recs[0])))
	for b.Loop() {
		s := newSorter(dir, 4<<20)
		batch, offs := s.buffer(), []int(nil)
		for _, rec := range recs {
			offs = append(offs, len(batch))
			batch = binary.LittleEndian.AppendUint32(batch, uint32(len(rec)))
			batch = append(batch, rec...)
			if len(batch) >= cap(batch)-cap(batch)/8 {
				if err := s.addBatch(batch, offs); err != nil {
					b.Fatal(err)
				}
				batch, offs = s.buffer(), offs[:0]
			}
		}
		if err := s.addBatch(batch, offs); err != nil {
			b.Fatal(err)
		}
		it, err := s.iterate()
		if err != nil {
			b.Fatal(err)
		}
		for {
			r, err := it.next()
			if err != nil {
				b.Fatal(err)
			}
			if r == nil {
				break
			}
		}
		it.close()
	}
}

// TestCommonPrefix compares commonPrefix, which compares words, with a
// byte by byte count, on random pairs that differ at any byte, of any
// lengths, one the other's prefix among them.
func TestCommonPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		a := make([]byte, rng.IntN(40))
		for i := range a {
			a[i] = byte(rng.IntN(3)) // few values: long common prefixes
		}
		b := append([]byte(nil), a[:rng.IntN(len(a)+1)]...)
		for range rng.IntN(20) {
			b = append(b, byte(rng.IntN(3)))
		}
		if len(b) > 0 && rng.IntN(2) == 0 {
			b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
		}
		want := 0
		for want < min(len(a), len(b)) && a[want] == b[want] {
			want++
		}
		if got := commonPrefix(a, b); got != want {
			t.Fatalf("commonPrefix(%x, %x) = %d, want %d", a, b, got, want)
		}
	}
}

// TestRadixSort compares radixSort with a stable sort by pre[0], on
// entries whose words differ in some of their bytes only (as the sort
// keys of a run do after their common prefix), in none, or in all.
func TestRadixSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range 200 {
		n := rng.IntN(3000)
		if round < 3 {
			n = round
		}
		// vary: the bytes that differ between entries; base: the rest.
		vary, base := rng.Uint64(), rng.Uint64()
		switch round % 4 {
		case 0:
			vary = 0
		case 1:
			vary = ^uint64(0)
		case 2:
			vary &= 0x0000_ff00_00ff_00ff
		}
		es := make([]sortEntry, n)
		for i := range es {
			w := base&^vary | rng.Uint64()&vary
			if rng.IntN(4) == 0 && i > 0 {
				w = es[rng.IntN(i)].pre[0] // ties keep their order
			}
			es[i] = sortEntry{pre: [2]uint64{w, rng.Uint64()}, ref: recRef(i)}
		}
		want := slices.Clone(es)
		slices.SortStableFunc(want, func(a, b sortEntry) int { return cmp.Compare(a.pre[0], b.pre[0]) })
		got := radixSort(slices.Clone(es), make([]sortEntry, n))
		if !slices.Equal(got, want) {
			t.Fatalf("round %d (%d entries, bytes %016x vary): not the stable order", round, n, vary)
		}
	}
}

// TestRunReader writes runs of records of random lengths (some longer
// than the read buffer, of 4 KiB here) and reads them back through
// openRuns, whole and cut at random places: a run cut inside a record
// must fail, not return a short record.
func TestRunReader(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	dir := t.TempDir()
	s := newSorter(dir, 4<<10) // read buffers of 4 KiB
	for round := range 30 {
		var recs [][]byte
		for range rng.IntN(300) {
			n := rng.IntN(100)
			if rng.IntN(20) == 0 {
				n = 4000 + rng.IntN(10_000)
			}
			rec := make([]byte, n)
			for j := range rec {
				rec[j] = byte(rng.Uint32())
			}
			recs = append(recs, rec)
		}
		run, size, err := s.writeRun(nil, func(w *runWriter) error {
			for _, r := range recs {
				w.add(r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Where each record ends in the file.
		var ends []int64
		var at int64
		for _, r := range recs {
			at += int64(len(binary.AppendUvarint(nil, uint64(len(r))))) + int64(len(r))
			ends = append(ends, at)
		}
		if at != size {
			t.Fatalf("round %d: run of %d bytes, want %d", round, size, at)
		}
		cut := size
		if round%2 == 1 && size > 0 {
			cut = rng.Int64N(size)
			if err := os.Truncate(run.name, cut); err != nil {
				t.Fatal(err)
			}
		}
		whole, _ := slices.BinarySearch(ends, cut+1) // records whole before cut
		atEnd := whole == 0 && cut == 0 || whole > 0 && ends[whole-1] == cut
		it, err := s.openRuns([]spillRun{run}, nil, nil)
		var got int
		for err == nil {
			var r record
			if r, err = it.next(); r == nil {
				break
			}
			if got >= len(recs) || !bytes.Equal(r, recs[got]) {
				t.Fatalf("round %d: record %d differs", round, got)
			}
			got++
		}
		switch {
		case atEnd && (err != nil || got != whole):
			t.Fatalf("round %d: run cut at %d of %d (a record's end): %d records (%v), want %d", round, cut, size, got, err, whole)
		case !atEnd && (err == nil || got != whole):
			t.Fatalf("round %d: run cut at %d of %d (inside record %d): %d records, error %v", round, cut, size, whole, got, err)
		}
		if it != nil {
			it.close()
		}
	}
}
