package status

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/fault"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/warehouse"
)

func put(t *testing.T, st storage.Store, key string, v any) {
	t.Helper()
	b, err := warehouse.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), key, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
}

// history writes n daily commits of partition binlog/0, commit i made on
// day start+i-1 at noon with one file of 10 rows of table t in that day's
// hour 11.
func history(t *testing.T, st storage.Store, start time.Time, n int) {
	t.Helper()
	z := warehouse.NewZone(nil)
	for i := 1; i <= n; i++ {
		at := start.AddDate(0, 0, i-1).Add(12 * time.Hour)
		h := z.HourOf(at.Add(-time.Hour))
		put(t, st, warehouse.CommitKey("binlog", 0, int64(i)), &warehouse.Commit{
			FormatVersion: 1, Topic: "binlog", Partition: 0, Seq: int64(i), CommittedAt: at,
			StartOffset: int64(10 * (i - 1)), EndOffset: int64(10 * i), Records: 10, MaxEventTime: at.Add(-time.Hour),
			Files: []warehouse.CommitFile{{Key: warehouse.BinlogDir("t", h) + "f.parquet", Table: "t", Hour: h.Path(), Rows: 10}},
		})
	}
	if err := warehouse.WriteCommitHead(context.Background(), st, "binlog", 0, int64(n)); err != nil {
		t.Fatal(err)
	}
}

// TestReadsRecentCommitsOnly: with 200 days of commits, a report on the
// last two days reads the commits of those days and the one before, not
// the history; a latest snapshot that merged up to commit 100 makes it
// read back to commit 101, and no further.
func TestReadsRecentCommitsOnly(t *testing.T) {
	ctx := context.Background()
	st := fault.New(mem.New())
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	history(t, st, start, 200)
	last := warehouse.DateOf(start.AddDate(0, 0, 199))
	o := Options{Zone: warehouse.NewZone(nil), Tables: []string{"t"}, Days: []warehouse.Date{last.AddDays(-1), last}, Now: start.AddDate(0, 0, 200)}

	r, err := Build(ctx, st, o)
	if err != nil {
		t.Fatal(err)
	}
	// Commits 199 and 200 hold the two days, 198 was made within a day
	// before the first; 197 is read to find the end of the walk. The
	// partition's head says where its chain ends: its history is not
	// listed.
	if r.CommitsRead != 3 || st.Calls(fault.Get) != 1+4 {
		t.Errorf("read %d commits in %d gets, want 3 in 5 (head, commits 200..197)", r.CommitsRead, st.Calls(fault.Get))
	}
	if st.Listed() > 10 {
		t.Errorf("listed %d keys", st.Listed())
	}
	if got := r.Tables[0].Days; got[0].BinlogRows != 10 || got[1].BinlogRows != 10 {
		t.Errorf("binlog rows per day: %+v", got)
	}
	if p := r.Partitions[0]; p.Commit != 200 || p.EndOffset != 2000 || *p.LagSeconds != (13*time.Hour).Seconds() {
		t.Errorf("partition: %+v lag %v", p, *p.LagSeconds)
	}

	// A snapshot of day 150 that merged up to commit 100: the rows of
	// commits 101..150 (days up to 150) wait for the next merge.
	day150 := warehouse.DateOf(start.AddDate(0, 0, 149))
	put(t, st, warehouse.SnapshotManifest("t", day150), &warehouse.Manifest{
		FormatVersion: 1, Table: "t", Date: day150.String(), Kind: "merge", Rows: 7,
		Merged: map[string]int64{"binlog/0": 100}, Stats: map[string]int64{"inserted": 7},
	})
	st2 := fault.New(st)
	r, err = Build(ctx, st2, o)
	if err != nil {
		t.Fatal(err)
	}
	if r.CommitsRead != 100 || st2.Calls(fault.Get) != 2+101 {
		t.Errorf("read %d commits in %d gets, want 100 in 103 (manifest, head, commits 200..100)", r.CommitsRead, st2.Calls(fault.Get))
	}
	tb := r.Tables[0]
	if tb.LateWaiting == nil || tb.LateWaiting.Rows != 500 || tb.LateWaiting.Files != 50 {
		t.Errorf("late waiting: %+v, want 500 rows in 50 files", tb.LateWaiting)
	}
	if tb.SnapshotDays != 1 || tb.LastSnapshot != day150.String() || tb.LastMerge.Stats["inserted"] != 7 {
		t.Errorf("snapshots: %+v", tb)
	}
}

// TestReplacedFilesAreNotCounted: a replay's files replace the ones it
// names, as merge sees them.
func TestReplacedFilesAreNotCounted(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	history(t, st, start, 2)
	h := warehouse.NewZone(nil).HourOf(start.Add(11 * time.Hour))
	put(t, st, warehouse.CommitKey("binlog", 0, 3), &warehouse.Commit{
		FormatVersion: 1, Topic: "binlog", Partition: 0, Seq: 3, CommittedAt: start.AddDate(0, 0, 2), StartOffset: 20, EndOffset: 20,
		Replay: "2024-01-01", Replaces: []string{warehouse.BinlogDir("t", h) + "f.parquet"},
		Files: []warehouse.CommitFile{{Key: warehouse.BinlogDir("t", h) + "g.parquet", Table: "t", Hour: h.Path(), Rows: 12}},
	})
	d := warehouse.DateOf(start)
	r, err := Build(ctx, st, Options{Zone: warehouse.NewZone(nil), Tables: []string{"t"}, Days: []warehouse.Date{d}, Now: start.AddDate(0, 0, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Tables[0].Days[0]; got.BinlogRows != 12 || got.BinlogFiles != 1 {
		t.Errorf("day %s: %d rows in %d files, want the replay's 12 in 1", d, got.BinlogRows, got.BinlogFiles)
	}
}
