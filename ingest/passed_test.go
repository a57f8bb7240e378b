package ingest_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/warehouse"
)

// A file is finished as soon as its partition's stream passes the end of
// its hour by the grace period, not at the end of the run: a row of the
// hour that comes later goes to a file of its own, which stays open for
// the hour's later rows. Before the grace period has passed, a row of the
// hour still goes to its first file.
func TestFilesOfPassedHoursFinishEarly(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 1)
	h := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC) // hour 01, passed at 02:15
	var recs []*kgo.Record
	add := func(min, n int) {
		recs = append(recs, inserts(h.Add(time.Duration(min)*time.Minute), len(recs), n)...)
	}
	add(10, 5000) // 0-4999: hour 01, a file with an encoder of its own
	add(65, 50)   // 5000-5049: hour 02, within the grace period of 01
	add(40, 1)    // 5050: hour 01 still goes to its first file
	add(80, 100)  // 5051-5150: hour 02, past 02:15: 01's file is finished
	add(50, 1)    // 5151: a late row of 01, in a file of its own
	add(90, 100)  // 5152-5251
	add(55, 1)    // 5252: the same late file
	produce(t, kc, recs...)
	st := mem.New()
	if _, err := ingest.Run(ctx, options(t, kc, st, h.Add(5*time.Hour))); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range committedFiles(t, st) {
		var offs []int64
		for _, r := range readMeta(t, st, f.Key) {
			offs = append(offs, r.Offset)
		}
		got = append(got, fmt.Sprintf("%s %s", f.Hour, ranges(offs)))
	}
	slices.Sort(got)
	want := []string{
		"dt=2024-03-01/hr=01 0-4999,5050",
		"dt=2024-03-01/hr=01 5151,5252",
		"dt=2024-03-01/hr=02 5000-5049,5051-5150,5152-5251",
	}
	if !slices.Equal(got, want) {
		t.Errorf("files (hour, offsets of their rows):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// ranges writes offsets in order as runs: 0-4,7.
func ranges(offs []int64) string {
	var parts []string
	for i := 0; i < len(offs); {
		j := i
		for j+1 < len(offs) && offs[j+1] == offs[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", offs[i], offs[j]))
		} else {
			parts = append(parts, fmt.Sprint(offs[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// pendingGate holds the pending record of the second partition to write
// one until a binlog file of the first is written (or a timeout passed:
// a run that finishes every file at the end writes both partitions'
// pending records before any file).
type pendingGate struct {
	storage.Store
	mu      sync.Mutex
	first   string // the first partition's pending directory
	written chan struct{}
	once    sync.Once
	waited  bool // a pending record gave up waiting
}

func (g *pendingGate) Put(ctx context.Context, key string, r io.Reader) error {
	if strings.HasPrefix(key, warehouse.PendingPrefix) {
		g.mu.Lock()
		dir := key[:strings.LastIndex(key, "/")+1]
		if g.first == "" {
			g.first = dir
		}
		second := dir != g.first
		g.mu.Unlock()
		if second {
			select {
			case <-g.written:
			case <-time.After(10 * time.Second):
				g.mu.Lock()
				g.waited = true
				g.mu.Unlock()
			}
		}
	}
	err := g.Store.Put(ctx, key, r)
	if strings.HasSuffix(key, ".parquet") {
		g.once.Do(func() { close(g.written) })
	}
	return err
}

// The files of a partition read to its end are finished while the run
// still reads the others: its file is written before the last partition's
// files are even listed in its pending record.
func TestFilesOfPartitionsReadToTheEndFinishEarly(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 2)
	es := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)
	recs := inserts(es, 0, 10)
	for _, r := range inserts(es, 10, 5000) {
		r.Partition = 1
		recs = append(recs, r)
	}
	produce(t, kc, recs...)
	st := &pendingGate{Store: mem.New(), written: make(chan struct{})}
	if _, err := ingest.Run(ctx, options(t, kc, st, es.Add(5*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if st.waited {
		t.Error("no partition's file was written before the other partition's files were finished")
	}
	if got := len(committedFiles(t, st)); got != 2 {
		t.Errorf("%d files committed, want 2", got)
	}
}

// pendingCheck fails a binlog file's write unless its partition's stored
// pending record lists it.
type pendingCheck struct {
	storage.Store
	mu       sync.Mutex
	unlisted []string
}

func (c *pendingCheck) Put(ctx context.Context, key string, r io.Reader) error {
	if _, ok := warehouse.ParseBinlogKey(key); ok {
		listed := false
		_ = c.List(ctx, warehouse.PendingPrefix, func(o storage.Object) error {
			b, err := storage.ReadAll(ctx, c.Store, o.Key)
			var p warehouse.Pending
			if err == nil && warehouse.Unmarshal(o.Key, b, &p) == nil && slices.Contains(p.Keys, key) {
				listed = true
			}
			return nil
		})
		if !listed {
			c.mu.Lock()
			c.unlisted = append(c.unlisted, key)
			c.mu.Unlock()
		}
	}
	return c.Store.Put(ctx, key, r)
}

// Every file is listed in its partition's pending record before it is
// written, whether it is finished during the run (its hour passed, its
// partition read to the end) or at the end.
func TestFilesAreListedPendingBeforeTheyAreWritten(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 3)
	h := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)
	var recs []*kgo.Record
	for i := range 3 {
		recs = append(recs, spreadInserts(h.Add(time.Duration(i)*40*time.Minute), 3000, 3)...)
	}
	produce(t, kc, recs...)
	st := &pendingCheck{Store: mem.New()}
	if _, err := ingest.Run(ctx, options(t, kc, st, h.Add(5*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if len(st.unlisted) > 0 {
		t.Errorf("files written before a pending record listed them: %v", st.unlisted)
	}
	if got := len(committedFiles(t, st)); got < 6 {
		t.Errorf("%d files committed, want at least 6 (2 hours, 3 partitions)", got)
	}
}
