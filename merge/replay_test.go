package merge_test

import (
	"context"
	"strings"
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

// replayDay replays day d on partition 0 with w.Replay.
func replayDay(t *testing.T, w *fakeingest.Warehouse, d warehouse.Date, of, wantSeq int64) {
	t.Helper()
	seq, err := w.Replay(context.Background(), 0, d, of)
	if err != nil {
		t.Fatal(err)
	}
	if seq != wantSeq {
		t.Fatalf("replay is commit %d, want %d", seq, wantSeq)
	}
}

// A re-run of a published day after a replay of that day reads through
// the replay commit (the files the published day applied are deleted), and
// a re-run of the next day then takes the newer bound of its base, so
// nothing committed meanwhile is lost or applied twice.
func TestMergeRerunAfterReplay(t *testing.T) {
	ctx := context.Background()
	st, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := fakeingest.New(st, "orders", "binlog")
	if err := w.Schema(ctx, 1, "id", "int", "name", "varchar(20)"); err != nil {
		t.Fatal(err)
	}
	d1, d2, d3, d4 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02"), mustDate(t, "2024-03-03"), mustDate(t, "2024-03-04")
	commit := func(d warehouse.Date, id int64) {
		t.Helper()
		ev := time.Date(d.Year, time.Month(d.Month), d.Day, 10, 0, 0, 0, time.UTC)
		row := fakeingest.Row{Op: "insert", Event: ev, DB: "shop", Table: "orders_0",
			Values: []schema.Value{schema.IntValue(id), schema.StringValue("n")}}
		if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d, Hour: 10}, Version: 1, Rows: []fakeingest.Row{row}}); err != nil {
			t.Fatal(err)
		}
	}
	o := merge.DefaultOptions()
	o.Store, o.Table = st, tableRule("orders", "id")
	mergeDay := func(d warehouse.Date, wantRows int, wantMerged int64) {
		t.Helper()
		o.Date = d
		runMerge(t, o)
		snap := readSnapshot(t, st, "orders", d)
		if len(snap.rows) != wantRows {
			t.Errorf("dt=%s has %d rows, want %d:\n%s", d, len(snap.rows), wantRows, strings.Join(snap.rows, "\n"))
		}
		if got := snap.manifest.Merged["binlog/0"]; got != wantMerged {
			t.Errorf("dt=%s merged up to commit %d, want %d", d, got, wantMerged)
		}
	}
	commit(d1, 1)             // commit 1
	commit(d2, 2)             // commit 2
	mergeDay(d1, 1, 2)        //
	mergeDay(d2, 2, 2)        // commit 2 found walking back
	commit(d3, 3)             // commit 3
	mergeDay(d3, 3, 3)        //
	commit(d3, 4)             // commit 4: a late row of d3, after d3 was merged
	replayDay(t, w, d2, 2, 5) // commit 5 replaces (deletes) commit 2's file
	// The re-run of d2 reads commit 5's file instead of commit 2's, and
	// merges up to commit 5.
	mergeDay(d2, 2, 5)
	// The re-run of d3: its base now merged up to commit 5, beyond d3's
	// published bound (3), so d3 takes bound 5 too and applies commit 4.
	mergeDay(d3, 4, 5)
	commit(d4, 5) // commit 6
	mergeDay(d4, 5, 6)
	// A replay of a later day does not move a re-run's bound.
	replayDay(t, w, d4, 6, 7)
	mergeDay(d3, 4, 5)
}

// A replay committed before the base day was merged, of a day the base
// skipped: merge finds the replay walking back over the base's commits
// and reads the replacement, not the replaced (deleted) file.
func TestMergeReplayBeforeBase(t *testing.T) {
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
	for i, d := range []warehouse.Date{d1, d2} {
		row := fakeingest.Row{Op: "insert", Event: time.Date(2024, 3, d.Day, 10, 0, 0, 0, time.UTC), DB: "shop", Table: "orders_0",
			Values: []schema.Value{schema.IntValue(int64(i + 1)), schema.StringValue("n")}}
		if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d, Hour: 10}, Version: 1, Rows: []fakeingest.Row{row}}); err != nil {
			t.Fatal(err)
		}
	}
	replayDay(t, w, d2, 2, 3)
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d1
	runMerge(t, o)
	o.Date = d2
	runMerge(t, o)
	if snap := readSnapshot(t, st, "orders", d2); len(snap.rows) != 2 {
		t.Fatalf("day 2 has %d rows, want 2:\n%s", len(snap.rows), strings.Join(snap.rows, "\n"))
	}
}

// A re-run of a day whose base was merged anew (its directory removed,
// then merged again up to the latest commit) takes the base's newer
// bound: a late row committed between the day's published bound and the
// base's new one is applied, not skipped by both days.
func TestMergeRerunAfterBaseRebuilt(t *testing.T) {
	ctx := context.Background()
	st, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := fakeingest.New(st, "orders", "binlog")
	if err := w.Schema(ctx, 1, "id", "int", "name", "varchar(20)"); err != nil {
		t.Fatal(err)
	}
	d1, d2, d3 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02"), mustDate(t, "2024-03-03")
	commit := func(d warehouse.Date, id int64) {
		t.Helper()
		row := fakeingest.Row{Op: "insert", Event: time.Date(2024, 3, d.Day, 10, 0, 0, 0, time.UTC), DB: "shop", Table: "orders_0",
			Values: []schema.Value{schema.IntValue(id), schema.StringValue("n")}}
		if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d, Hour: 10}, Version: 1, Rows: []fakeingest.Row{row}}); err != nil {
			t.Fatal(err)
		}
	}
	o := merge.DefaultOptions()
	o.Store, o.Table = st, tableRule("orders", "id")
	mergeDay := func(d warehouse.Date) {
		t.Helper()
		o.Date = d
		runMerge(t, o)
	}
	commit(d1, 1)
	commit(d2, 2)
	mergeDay(d1)
	mergeDay(d2)
	commit(d3, 3)
	mergeDay(d3) // merged up to commit 3
	commit(d3, 4)
	var keys []string
	if err := st.List(ctx, warehouse.SnapshotDir("orders", d2), func(ob storage.Object) error {
		keys = append(keys, ob.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := st.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	mergeDay(d2) // merged up to commit 4
	mergeDay(d3)
	snap := readSnapshot(t, st, "orders", d3)
	if len(snap.rows) != 4 || snap.manifest.Merged["binlog/0"] != 4 {
		t.Fatalf("dt=%s merged up to commit %d with %d rows, want 4 and 4:\n%s", d3, snap.manifest.Merged["binlog/0"], len(snap.rows), strings.Join(snap.rows, "\n"))
	}
}
