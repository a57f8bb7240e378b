package ingest_test

import (
	"context"
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

// Two runs over the same partitions at once — an Airflow retry that
// overlaps the original — never both commit the same records: a run that
// loses a partition's commit stops with an error naming the cause, and
// every record is committed exactly once. Partitions commit concurrently,
// so each run may win some partitions and lose others: each partition's
// commit is one run's.
func TestOverlappingRunsNeverBothCommit(t *testing.T) {
	// Both runs start at once on an empty warehouse, so both aim at commit
	// 1 of each partition and one must lose. Should the scheduler start
	// one only after the other committed, nothing was tested: try again.
	for attempt := range 3 {
		if overlappingRuns(t) {
			return
		}
		t.Logf("attempt %d: the runs did not overlap", attempt)
	}
	t.Fatal("two simultaneous runs both committed three times: create-if-absent on commit records does not hold")
}

// overlappingRuns reports whether a partition's commit was lost by one of
// two simultaneous runs.
func overlappingRuns(t *testing.T) bool {
	ctx := context.Background()
	kc := startKafka(t, 2)
	es := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)
	const n = 4000
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, rec(int32(i%2), canalMessage("shop_01", "orders_00", "INSERT", es,
			[]orderRow{{ID: i, Customer: 1, Cents: 1, Status: 1, Created: es}}, nil)))
	}
	produce(t, kc, recs...)
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
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			o := options(t, kc, st, es.Add(time.Hour))
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
	return failed > 0
}
