package merge_test

import (
	"context"
	"testing"
	"time"

	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// After ingest --replay-date rewrote a day, merge reads its files through
// the replay commit: the replaced files (deleted by the replay) are not
// inputs any more, the new ones are.
func TestMergeAfterReplay(t *testing.T) {
	ctx := context.Background()
	st, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := fakeingest.New(st, "orders", "binlog")
	if err := w.Schema(ctx, 1, "id", "int", "name", "varchar(20)"); err != nil {
		t.Fatal(err)
	}
	d1, d2 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02")
	row := func(off, id int64, ev time.Time) fakeingest.Row {
		return fakeingest.Row{Op: "insert", Pos: warehouse.Pos{Offset: off}, Event: ev, DB: "shop", Table: "orders_0",
			Values: []schema.Value{schema.IntValue(id), schema.StringValue("n")}}
	}
	e1, e2 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC)
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d1, Hour: 10}, Version: 1, Rows: []fakeingest.Row{row(1, 1, e1)}}); err != nil {
		t.Fatal(err)
	}
	// Day 2's file is committed before day 1 is merged, so merge(d1)
	// records commit 2 as merged and merge(d2) finds the file walking back.
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d2, Hour: 10}, Version: 1, Rows: []fakeingest.Row{row(2, 2, e2)}}); err != nil {
		t.Fatal(err)
	}
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d1
	runMerge(t, o)
	// The replay of day 2: commit 3 replaces commit 2's file with a new one.
	b, err := storage.ReadAll(ctx, st, warehouse.CommitKey("binlog", 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	var c2 warehouse.Commit
	if err := warehouse.Unmarshal("commit 2", b, &c2); err != nil {
		t.Fatal(err)
	}
	old := c2.Files[0]
	repl := old
	repl.Key = old.Key[:len(old.Key)-len(".parquet")] + "-r3.parquet"
	if err := st.Copy(ctx, old.Key, repl.Key); err != nil {
		t.Fatal(err)
	}
	c3 := c2
	c3.Seq, c3.StartOffset, c3.Records = 3, c2.EndOffset, 0
	c3.Replay, c3.Files, c3.Replaces = d2.String(), []warehouse.CommitFile{repl}, []string{old.Key}
	if b, err = warehouse.Marshal(&c3); err != nil {
		t.Fatal(err)
	}
	if err := st.PutIfAbsent(ctx, warehouse.CommitKey("binlog", 0, 3), b); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, old.Key); err != nil {
		t.Fatal(err)
	}
	o.Date = d2
	runMerge(t, o)
	if snap := readSnapshot(t, st, "orders", d2); len(snap.rows) != 2 {
		t.Fatalf("day 2 has %d rows, want 2", len(snap.rows))
	}
}
