package merge_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage/fault"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/warehouse"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	st, w := newOrders(t)
	d1 := mustDate(t, "2024-03-01")
	d2 := mustDate(t, "2024-03-02")
	h := func(d warehouse.Date, hr int) warehouse.Hour { return warehouse.Hour{Date: d, Hour: hr} }
	ev := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	row := func(op string, off int64, id int64, name string) fakeingest.Row {
		return fakeingest.Row{Op: op, Pos: warehouse.Pos{Offset: off}, Event: ev, DB: "shop", Table: "orders_0",
			Values: []schema.Value{schema.IntValue(id), schema.StringValue(name)}}
	}
	var rows []fakeingest.Row
	for i := range 50 {
		rows = append(rows, row("insert", int64(100+i), int64(i), "n"+string(rune('a'+i%26))))
	}
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: h(d1, 10), Version: 1, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d1
	o.FileSize, o.RowGroupRows = 1, 8 // a file per row group of 8 rows
	s := runMerge(t, o)
	t.Logf("%s", s.Line())
	snap := readSnapshot(t, st, "orders", d1)
	if len(snap.rows) != 50 || s.Inserted != 50 {
		t.Fatalf("rows %d, summary %+v", len(snap.rows), s)
	}
	// Day 2: update 3, delete 5, insert 60.
	rows = []fakeingest.Row{row("update", 300, 3, "upd"), row("delete", 301, 5, "n"), row("insert", 302, 60, "new")}
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: h(d2, 1), Version: 1, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	o.Date = d2
	s = runMerge(t, o)
	t.Logf("%s", s.Line())
	snap = readSnapshot(t, st, "orders", d2)
	if len(snap.rows) != 50 || s.Updated != 1 || s.Deleted != 1 || s.Inserted != 1 {
		t.Fatalf("rows %d, summary %+v", len(snap.rows), s)
	}
	if s.FilesCarried == 0 {
		t.Errorf("nothing carried: %+v", s)
	}
	for _, r := range snap.rows {
		if strings.Contains(r, "id=5 ") {
			t.Errorf("deleted row still there: %s", r)
		}
	}
	t.Logf("rows:\n%s\ntombstones:\n%s", strings.Join(snap.rows, "\n"), strings.Join(snap.tombstones, "\n"))
	// Re-run day 2: identical rows.
	s = runMerge(t, o)
	again := readSnapshot(t, st, "orders", d2)
	if strings.Join(again.rows, "\n") != strings.Join(snap.rows, "\n") || !s.Rerun {
		t.Errorf("re-run differs")
	}
}

// TestLongHistoryIsNotListed: a merge finds each partition's latest commit
// from its head and reads back only as far as the day needs, however many
// commits came before.
func TestLongHistoryIsNotListed(t *testing.T) {
	ctx := context.Background()
	inner := mem.New()
	w := fakeingest.New(inner, "orders", "binlog")
	if err := w.Schema(ctx, 1, "id", "int"); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	commit := func(at time.Time, p int32, id int64) {
		w.Now = func() time.Time { return at.Add(5 * time.Minute) }
		r := fakeingest.Row{Op: "insert", Pos: warehouse.Pos{Offset: id + 1}, Event: at, DB: "shop", Table: "orders", Values: []schema.Value{schema.IntValue(id)}}
		if _, err := w.Commit(ctx, p, fakeingest.File{Hour: warehouse.NewZone(nil).HourOf(at), Version: 1, Rows: []fakeingest.Row{r}}); err != nil {
			t.Fatal(err)
		}
	}
	// Ten days of hourly commits on two partitions, merged.
	for h := range 240 {
		commit(start.Add(time.Duration(h)*time.Hour), int32(h%2), int64(h))
	}
	o := merge.DefaultOptions()
	o.Store, o.Table = inner, tableRule("orders", "id")
	for d := range 10 {
		o.Date = warehouse.DateOf(start.AddDate(0, 0, d))
		runMerge(t, o)
	}
	// Day 11: one commit.
	commit(start.AddDate(0, 0, 10).Add(time.Hour), 0, 1000)
	st := fault.New(inner)
	o.Store, o.Date = st, warehouse.DateOf(start.AddDate(0, 0, 10))
	s := runMerge(t, o)
	if s.Inserted != 1 || s.BinlogFiles != 1 {
		t.Errorf("day 11: %+v", s)
	}
	// The day's commit and the day before it (the walk back), not 241.
	if s.Commits > 30 || st.Listed() > 30 {
		t.Errorf("read %d commit records and listed %d keys for a day of 1 commit after 240", s.Commits, st.Listed())
	}
}
