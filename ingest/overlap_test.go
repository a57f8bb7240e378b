package ingest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/warehouse"
)

// Two runs over the same partitions at once — an Airflow retry that
// overlaps the original — never both commit: the loser stops with an
// error naming the cause, having committed nothing, and every record is
// committed exactly once.
func TestOverlappingRunsNeverBothCommit(t *testing.T) {
	// Both runs start at once on an empty warehouse, so both aim at commit
	// 1 of each partition and one must lose. Should the scheduler start
	// one only after the other committed, nothing was tested: try again.
	for attempt := range 3 {
		if overlappingRuns(t, nil) {
			return
		}
		t.Logf("attempt %d: the runs did not overlap", attempt)
	}
	t.Fatal("two simultaneous runs both committed three times: create-if-absent on commit records does not hold")
}

// Two overlapping runs whose commits reach the store in opposite orders
// (the first run's commit of partition 1 and the second run's of
// partition 0 are slow) still have one loser, which committed nothing:
// a run commits its first partition before the others, so the run that
// loses it commits no other.
func TestOverlappingRunsDoNotSplitPartitions(t *testing.T) {
	slow := map[string]int32{"first": 1, "second": 0}
	if !overlappingRuns(t, func(st storage.Store) storage.Store { return &slowCommits{Store: st, slow: slow} }) {
		t.Fatal("the runs did not overlap")
	}
}

// slowCommits is a store on which the commit records of partition
// slow[run] of a run take a second to create.
type slowCommits struct {
	storage.Store
	slow map[string]int32
}

func (s *slowCommits) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if _, ok := warehouse.ParseCommitSeq(key); ok {
		var c warehouse.Commit
		if err := warehouse.Unmarshal(key, data, &c); err != nil {
			return err
		}
		if p, ok := s.slow[c.RunID]; ok && p == c.Partition {
			time.Sleep(time.Second)
		}
	}
	return s.Store.PutIfAbsent(ctx, key, data)
}

// overlappingRuns reports whether one of two simultaneous runs, named
// first and second, lost; wrap, if not nil, wraps the store they share.
func overlappingRuns(t *testing.T, wrap func(storage.Store) storage.Store) bool {
	ctx := context.Background()
	kc := startKafka(t, 2)
	es := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)
	const n = 4000
	produce(t, kc, spreadInserts(es, n, 2)...)
	st := mem.New()
	// The table's schema is known, so the runs meet only at the commits.
	v := warehouse.SchemaVersion{FormatVersion: 1, Version: 1, Reason: "test"}
	for _, c := range canalColumns {
		v.Columns = append(v.Columns, warehouse.CatalogColumn{Name: c.name, Type: c.mysqlType})
	}
	b, err := warehouse.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutIfAbsent(ctx, warehouse.CatalogVersionKey("orders", 1), b); err != nil {
		t.Fatal(err)
	}
	shared := storage.Store(st)
	if wrap != nil {
		shared = wrap(st)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			o := options(t, kc, shared, es.Add(time.Hour))
			o.RunID = []string{"first", "second"}[i]
			o.MaxRecords = int64(1500 * (i + 1)) // different ranges, different files
			_, errs[i] = ingest.Run(ctx, o)
		})
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			if !strings.Contains(err.Error(), "created by another run") {
				t.Errorf("the losing run's error does not say why: %v", err)
			}
		}
	}
	committedOffsets(t, st) // fails on an offset committed twice
	if failed > 1 {
		t.Fatalf("both runs failed (each kept some partitions' commits): %v", errs)
	}
	if failed == 1 {
		winner := "first"
		if errs[0] != nil {
			winner = "second"
		}
		for _, c := range allCommits(t, st) {
			if c.RunID != winner {
				t.Errorf("the losing run committed partition %d (commit %d)", c.Partition, c.Seq)
			}
		}
	}
	// Whatever the loser left is cleaned up by the next run, which then
	// commits the rest.
	if _, err := ingest.Run(ctx, options(t, kc, st, es.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, offs := range committedOffsets(t, st) {
		got += len(offs)
	}
	if got != n {
		t.Errorf("%d of %d records committed", got, n)
	}
	// Nothing the loser wrote is left visible.
	committed := map[string]bool{}
	for _, f := range committedFiles(t, st) {
		committed[f.Key] = true
	}
	_ = st.List(ctx, warehouse.BinlogPrefix, func(o storage.Object) error {
		if _, ok := warehouse.ParseBinlogKey(o.Key); ok && !committed[o.Key] {
			t.Errorf("uncommitted file left visible: %s", o.Key)
		}
		return nil
	})
	return failed == 1
}
