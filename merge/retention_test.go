package merge_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// TestRetention keeps RetentionDays days ending with the newest, and the
// newest day's base even outside them; removed days are gone entirely.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	d1 := mustDate(t, "2024-03-01")
	st, _, w := ordersWarehouse(t, 100, d1)
	o := merge.DefaultOptions()
	o.Store, o.Table = st, tableRule("orders", "id")
	o.RetentionDays = 2
	days := func() string {
		var out []string
		for i := range 7 {
			d := d1.AddDays(i)
			if ok, _ := storage.Exists(ctx, st, warehouse.SnapshotManifest("orders", d)); ok {
				out = append(out, d.String()[8:])
			}
			if listKeys(t, st, warehouse.SnapshotDir("orders", d)) != "" {
				if ok, _ := storage.Exists(ctx, st, warehouse.SnapshotManifest("orders", d)); !ok {
					out = append(out, d.String()[8:]+"(files without manifest)")
				}
			}
		}
		return fmt.Sprint(out)
	}
	for i := range 5 {
		d := d1.AddDays(i)
		if i > 0 {
			if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d, Hour: 2}, Version: 1,
				Rows: []fakeingest.Row{orderRow("update", int64(1000+i), int64(i), "x")}}); err != nil {
				t.Fatal(err)
			}
		}
		o.Date = d
		s := runMerge(t, o)
		if i == 4 && fmt.Sprint(s.DaysRemoved) != "[2024-03-03]" {
			t.Errorf("day 5 removed %v", s.DaysRemoved)
		}
	}
	if got := days(); got != "[04 05]" {
		t.Errorf("after 5 days with retention 2: %s", got)
	}
	// Retention 1 keeps the newest day and its base.
	o.RetentionDays = 1
	o.Date = d1.AddDays(4)
	runMerge(t, o) // a re-run of the newest day
	if got := days(); got != "[04 05]" {
		t.Errorf("retention 1: %s, want the newest day and its base", got)
	}
}
