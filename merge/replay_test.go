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
	"github.com/binlake/binlake/warehouse"
)

// replayWarehouse is a local warehouse of table orders (id int, name
// varchar) on partition 0 of topic binlog, for the replay tests.
type replayWarehouse struct {
	t  *testing.T
	st storage.Store
	w  *fakeingest.Warehouse
	o  merge.Options
}

func newReplayWarehouse(t *testing.T) *replayWarehouse {
	st, w := newOrders(t)
	o := merge.DefaultOptions()
	o.Store, o.Table = st, tableRule("orders", "id")
	return &replayWarehouse{t: t, st: st, w: w, o: o}
}

// commit commits one insert of id at 10:00 of day d.
func (r *replayWarehouse) commit(d warehouse.Date, id int64) {
	r.t.Helper()
	row := fakeingest.Row{Op: "insert", Event: time.Date(d.Year, time.Month(d.Month), d.Day, 10, 0, 0, 0, time.UTC), DB: "shop", Table: "orders_0",
		Values: []schema.Value{schema.IntValue(id), schema.StringValue("n")}}
	if _, err := r.w.Commit(context.Background(), 0, fakeingest.File{Hour: warehouse.Hour{Date: d, Hour: 10}, Version: 1, Rows: []fakeingest.Row{row}}); err != nil {
		r.t.Fatal(err)
	}
}

// replay replays day d, replacing the files of commit of; the replay is
// commit number wantSeq.
func (r *replayWarehouse) replay(d warehouse.Date, of, wantSeq int64) {
	r.t.Helper()
	seq, err := r.w.Replay(context.Background(), 0, d, of)
	if err != nil {
		r.t.Fatal(err)
	}
	if seq != wantSeq {
		r.t.Fatalf("replay is commit %d, want %d", seq, wantSeq)
	}
}

// merge merges day d and checks its rows and its bound.
func (r *replayWarehouse) merge(d warehouse.Date, wantRows int, wantMerged int64) {
	r.t.Helper()
	r.o.Date = d
	runMerge(r.t, r.o)
	snap := readSnapshot(r.t, r.st, "orders", d)
	if len(snap.rows) != wantRows {
		r.t.Errorf("dt=%s has %d rows, want %d:\n%s", d, len(snap.rows), wantRows, strings.Join(snap.rows, "\n"))
	}
	if got := snap.manifest.Merged["binlog/0"]; got != wantMerged {
		r.t.Errorf("dt=%s merged up to commit %d, want %d", d, got, wantMerged)
	}
}

var (
	replayD1 = warehouse.Date{Year: 2024, Month: 3, Day: 1}
	replayD2 = warehouse.Date{Year: 2024, Month: 3, Day: 2}
	replayD3 = warehouse.Date{Year: 2024, Month: 3, Day: 3}
	replayD4 = warehouse.Date{Year: 2024, Month: 3, Day: 4}
)

// After ingest --replay-date rewrote a day, merge reads its files through
// the replay commit: the replaced files (deleted by the replay) are not
// inputs any more, the new ones are.
func TestMergeAfterReplay(t *testing.T) {
	r := newReplayWarehouse(t)
	r.commit(replayD1, 1)
	// Day 2's file is committed before day 1 is merged, so merge(d1)
	// records commit 2 as merged and merge(d2) finds the file walking back.
	r.commit(replayD2, 2)
	r.merge(replayD1, 1, 2)
	r.replay(replayD2, 2, 3) // commit 3 replaces (deletes) commit 2's file
	r.merge(replayD2, 2, 3)
}

// A re-run of a published day after a replay of that day reads through
// the replay commit (the files the published day applied are deleted), and
// a re-run of the next day then takes the newer bound of its base, so
// nothing committed meanwhile is lost or applied twice.
func TestMergeRerunAfterReplay(t *testing.T) {
	r := newReplayWarehouse(t)
	r.commit(replayD1, 1)
	r.commit(replayD2, 2)
	r.merge(replayD1, 1, 2)
	r.merge(replayD2, 2, 2) // commit 2 found walking back
	r.commit(replayD3, 3)
	r.merge(replayD3, 3, 3)
	r.commit(replayD3, 4)    // a late row of d3, after d3 was merged
	r.replay(replayD2, 2, 5) // replaces (deletes) commit 2's file
	// The re-run of d2 reads commit 5's file instead of commit 2's, and
	// merges up to commit 5.
	r.merge(replayD2, 2, 5)
	// The re-run of d3: the replay of d2 lies beyond d3's published bound
	// (3), so d3 takes bound 5 too and applies commit 4.
	r.merge(replayD3, 4, 5)
	r.commit(replayD4, 5) // commit 6
	r.merge(replayD4, 5, 6)
	// A replay of a later day does not move a re-run's bound.
	r.replay(replayD4, 6, 7)
	r.merge(replayD3, 4, 5)
}

// A replay committed before the base day was merged, of a day the base
// skipped: merge finds the replay walking back over the base's commits
// and reads the replacement, not the replaced (deleted) file.
func TestMergeReplayBeforeBase(t *testing.T) {
	r := newReplayWarehouse(t)
	r.commit(replayD1, 1)
	r.commit(replayD2, 2)
	r.replay(replayD2, 2, 3)
	r.merge(replayD1, 1, 3)
	r.merge(replayD2, 2, 3)
}

// A re-run of a day whose base was merged anew (its directory removed,
// then merged again up to the latest commit) takes the base's newer
// bound: a late row committed between the day's published bound and the
// base's new one is applied, not skipped by both days.
func TestMergeRerunAfterBaseRebuilt(t *testing.T) {
	r := newReplayWarehouse(t)
	r.commit(replayD1, 1)
	r.commit(replayD2, 2)
	r.merge(replayD1, 1, 2)
	r.merge(replayD2, 2, 2)
	r.commit(replayD3, 3)
	r.merge(replayD3, 3, 3)
	r.commit(replayD3, 4)
	ctx := context.Background()
	var keys []string
	if err := r.st.List(ctx, warehouse.SnapshotDir("orders", replayD2), func(ob storage.Object) error {
		keys = append(keys, ob.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := r.st.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	r.merge(replayD2, 2, 4)
	r.merge(replayD3, 4, 4)
}
