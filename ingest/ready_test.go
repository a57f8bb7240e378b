package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/fault"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/warehouse"
)

// modelRecord is what the test knows of a produced record.
type modelRecord struct {
	event time.Time
	// committedIn is the run that committed it (0: not yet).
	committedIn int
}

// metaRow is the part of a binlog row this test reads back.
type metaRow struct {
	Partition int32 `parquet:"_kafka_partition"`
	Offset    int64 `parquet:"_kafka_offset"`
	Late      bool  `parquet:"_late"`
}

func readMeta(t *testing.T, st storage.Store, key string) []metaRow {
	t.Helper()
	b, err := storage.ReadAll(context.Background(), st, key)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parquet.Read[metaRow](bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return rows
}

// TestReadyMarkersRandomized runs ingest over a randomized stream with a
// fast partition, a lagging one with long transactions, and an idle one,
// each run reading only part of the backlog, and checks after every run:
//   - a marker for hour H exists only if every partition's committed
//     prefix has passed end(H)+grace: a committed record with a later
//     event time, or the partition read to its end while the clock was past
//     that point;
//   - every committed row's _late flag says whether its hour was ready
//     before the run that committed it, and late rows are committed in
//     the run after their hour became ready, never dropped.
func TestReadyMarkersRandomized(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { readyScenario(t, seed) })
	}
}

func readyScenario(t *testing.T, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 99))
	kc := startKafka(t, 3) // partition 2 never gets a record
	st := mem.New()
	grace := 15 * time.Minute
	zone := warehouse.NewZone(nil)
	clock := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	model := [2][]modelRecord{}
	readyAt := map[warehouse.Hour]int{} // hour → run whose end saw its marker first
	lateWant := 0
	for run := 1; run <= 14; run++ {
		clock = clock.Add(time.Duration(10+rng.IntN(40)) * time.Minute)
		var recs []*kgo.Record
		for p := range 2 {
			n := rng.IntN(60)
			for range n {
				ev := clock.Add(-time.Duration(rng.IntN(5)) * time.Minute)
				if p == 1 {
					ev = ev.Add(-70 * time.Minute) // lagging producer
				}
				if rng.IntN(15) == 0 {
					ev = clock.Add(-time.Duration(2+rng.IntN(3)) * time.Hour) // long transaction
				}
				id := len(model[p])
				model[p] = append(model[p], modelRecord{event: ev})
				recs = append(recs, rec(int32(p), canalMessage("shop_01", "orders_00", "INSERT", ev,
					[]orderRow{{ID: id, Customer: 1, Cents: 1, Status: 1, Created: ev}}, nil)))
			}
		}
		if len(recs) > 0 {
			produce(t, kc, recs...)
		}
		o := options(t, kc, st, clock)
		o.Grace = grace
		o.Zone = zone
		if rng.IntN(2) == 0 {
			o.MaxRecords = int64(1 + rng.IntN(50))
		}
		before := markers(t, st)
		sum, err := ingest.Run(ctx, o)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		// What this run committed, per partition.
		commits := lastCommits(t, st)
		for p := range 2 {
			c := commits[int32(p)]
			for off := range c.EndOffset {
				if model[p][off].committedIn == 0 {
					model[p][off].committedIn = run
				}
			}
		}
		// Markers written by this run must be justified by the committed
		// state of every partition.
		for _, h := range markers(t, st) {
			if slices.Contains(before, h) {
				continue
			}
			readyAt[h] = run
			span, _ := zone.Span(h)
			need := span.End.Add(grace)
			for p := range 3 {
				c := commits[int32(p)]
				passed := !c.CaughtUpAt.IsZero() && !c.CaughtUpAt.Before(need)
				for off := range c.EndOffset {
					if !model[p][off].event.Before(need) {
						passed = true
					}
				}
				if !passed {
					t.Fatalf("run %d marked %s ready, but partition %d's committed stream (to offset %d, caught up at %v) has not passed %v",
						run, h, p, c.EndOffset, c.CaughtUpAt, need)
				}
			}
		}
		// Late flags: a row is late iff its hour was ready before the run
		// that committed it.
		late := 0
		for _, f := range runFiles(t, st, run) {
			for _, row := range readMeta(t, st, f) {
				m := model[row.Partition][row.Offset]
				h := zone.HourOf(m.event)
				r, ready := readyAt[h]
				want := ready && r < m.committedIn
				if row.Late != want {
					t.Fatalf("run %d: partition %d offset %d (event %v, hour %s ready after run %d): _late=%v, want %v",
						run, row.Partition, row.Offset, m.event, h, r, row.Late, want)
				}
				if row.Late {
					late++
				}
			}
		}
		if int64(late) != sum.Late {
			t.Errorf("run %d: %d late rows in files, summary says %d", run, late, sum.Late)
		}
		lateWant += late
	}
	t.Logf("%d hours ready, %d late rows committed", len(readyAt), lateWant)
	if len(readyAt) == 0 {
		t.Error("no hour ever became ready: the scenario tests nothing")
	}
}

func markers(t *testing.T, st storage.Store) []warehouse.Hour {
	t.Helper()
	var hs []warehouse.Hour
	err := st.List(context.Background(), warehouse.ReadyPrefix, func(o storage.Object) error {
		name, ok := bytes.CutSuffix([]byte(o.Key[len(warehouse.ReadyPrefix):]), []byte(".json"))
		if !ok {
			return nil
		}
		if h, err := warehouse.ParseHourPath(string(name)); err == nil {
			hs = append(hs, h)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

// lastCommits reads the latest commit of each partition.
func lastCommits(t *testing.T, st storage.Store) map[int32]warehouse.Commit {
	t.Helper()
	out := map[int32]warehouse.Commit{}
	for _, c := range allCommits(t, st) {
		if c.Seq > out[c.Partition].Seq {
			out[c.Partition] = c
		}
	}
	return out
}

func allCommits(t *testing.T, st storage.Store) []warehouse.Commit {
	t.Helper()
	ctx := context.Background()
	var out []warehouse.Commit
	err := st.List(ctx, warehouse.CommitsPrefix, func(o storage.Object) error {
		if _, ok := warehouse.ParseCommitSeq(o.Key); !ok {
			return nil // a head
		}
		b, err := storage.ReadAll(ctx, st, o.Key)
		if err != nil {
			return err
		}
		var c warehouse.Commit
		if err := warehouse.Unmarshal(o.Key, b, &c); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runFiles lists the files committed by the run-th run of each partition
// (every run commits every partition once).
func runFiles(t *testing.T, st storage.Store, run int) []string {
	var keys []string
	for _, c := range allCommits(t, st) {
		if c.Seq == int64(run) {
			for _, f := range c.Files {
				keys = append(keys, f.Key)
			}
		}
	}
	return keys
}

// readyFaults sends the PutIfAbsent calls of ready markers through a fault
// store, so its rules count and fail marker writes only; every other call
// goes straight to the store underneath.
type readyFaults struct {
	storage.Store
	faults *fault.Store
}

func (s readyFaults) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if strings.HasPrefix(key, warehouse.ReadyPrefix) {
		return s.faults.PutIfAbsent(ctx, key, data)
	}
	return s.Store.PutIfAbsent(ctx, key, data)
}

// TestReadyMarkersLeftOutAreWrittenNextRun fails some ready marker writes
// of a run (one of them after the marker was stored, as when the answer is
// lost) and checks that the next run, without faults, leaves exactly the
// markers a run that never failed writes (DESIGN §3.3).
func TestReadyMarkersLeftOutAreWrittenNextRun(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 1)
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var recs []*kgo.Record
	for h := range 10 {
		ev := day.Add(time.Duration(h)*time.Hour + 5*time.Minute)
		recs = append(recs, rec(0, canalMessage("shop_01", "orders_00", "INSERT", ev,
			[]orderRow{{ID: h, Customer: 1, Cents: 1, Status: 1, Created: ev}}, nil)))
	}
	produce(t, kc, recs...)
	clock := day.Add(12 * time.Hour)
	opts := func(st storage.Store) ingest.Options {
		o := options(t, kc, st, clock)
		o.Grace = 15 * time.Minute
		o.Zone = warehouse.NewZone(nil)
		return o
	}

	clean := mem.New()
	if _, err := ingest.Run(ctx, opts(clean)); err != nil {
		t.Fatalf("run without faults: %v", err)
	}
	want := markers(t, clean)
	if len(want) < 6 {
		t.Fatalf("a run without faults marked %d hours ready (%v), want at least 6: the test tests nothing", len(want), want)
	}

	st := mem.New()
	fs := fault.New(st)
	fs.Add(fault.Rule{Op: fault.PutIfAbsent, Nth: 2})
	fs.Add(fault.Rule{Op: fault.PutIfAbsent, Nth: 4, After: true})
	fs.Add(fault.Rule{Op: fault.PutIfAbsent, Nth: 6})
	_, err := ingest.Run(ctx, opts(readyFaults{Store: st, faults: fs}))
	if !errors.Is(err, fault.ErrInjected) {
		t.Fatalf("run with failing marker writes: err = %v, want one matching fault.ErrInjected", err)
	}
	left := markers(t, st)
	if len(left) >= len(want) {
		t.Fatalf("the failing run left %d markers (%v), want fewer than %d", len(left), left, len(want))
	}
	for _, h := range left {
		if !slices.Contains(want, h) {
			t.Errorf("the failing run marked %s ready, which a run without faults does not", h)
		}
	}

	if _, err := ingest.Run(ctx, opts(st)); err != nil {
		t.Fatalf("run after the failing one: %v", err)
	}
	if got := markers(t, st); !slices.Equal(got, want) {
		t.Errorf("after the failing run and one more, markers %v, want %v", got, want)
	}
}
