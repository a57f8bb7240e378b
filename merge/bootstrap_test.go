package merge_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// stage writes a staged file of inserts (id int, name varchar) at pos.
func stage(t *testing.T, st storage.Store, key string, pos warehouse.Pos, ids []int64, name string) merge.StagedFile {
	t.Helper()
	types := []schema.Type{{Kind: schema.Int}, {Kind: schema.VarChar, Precision: 20}}
	fields := []warehouse.Field{
		{Name: warehouse.ColOp, Node: parquet.String()},
		{Name: warehouse.ColPos, Node: warehouse.PosNode()},
		{Name: warehouse.ColSourceDB, Node: parquet.String()},
		{Name: warehouse.ColSourceTable, Node: parquet.String()},
	}
	for i, n := range []string{"id", "name"} {
		node, err := schema.ParquetNode(types[i])
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields, warehouse.Field{Name: n, Node: node})
	}
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, warehouse.FileSchema(fields), parquet.KeyValueMetadata(warehouse.MetaSchemaVersion, "1"))
	p := pos.Decimal()
	for _, id := range ids {
		idv, _ := schema.ParquetValue(schema.IntValue(id), types[0], 4)
		nv, _ := schema.ParquetValue(schema.StringValue(name), types[1], 5)
		row := parquet.Row{
			parquet.ByteArrayValue([]byte("insert")).Level(0, 0, 0),
			parquet.FixedLenByteArrayValue(p[:]).Level(0, 0, 1),
			parquet.ByteArrayValue([]byte("shop")).Level(0, 0, 2),
			parquet.ByteArrayValue([]byte("orders_0")).Level(0, 0, 3),
			idv, nv,
		}
		if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), key, bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	return merge.StagedFile{Key: key, Rows: int64(len(ids)), Bytes: int64(buf.Len())}
}

// The first merge builds on a bootstrap: changes before the stamp are
// stale, changes after it win, a late change of the bootstrap day itself
// is applied, and the bootstrap day is never merged over.
func TestFirstMergeOverBootstrap(t *testing.T) {
	ctx := context.Background()
	st, w := newOrders(t)
	d0, d1 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02")
	stamp := warehouse.Pos{File: 7, Offset: 999, Row: 999_999_999}

	// Two staged files, ids interleaved and out of order; id 4 in both,
	// the later file's copy wins a tie.
	var in merge.BootstrapInput
	in.Kind, in.Position = merge.KindBootstrap, "mysql-bin.000007:1000"
	in.Files = append(in.Files,
		stage(t, st, "snapshot/orders/_bootstrap/a.parquet", stamp, []int64{9, 1, 4, 7, 3, 5}, "a"),
		stage(t, st, "snapshot/orders/_bootstrap/b.parquet", stamp, []int64{2, 8, 4, 6, 0}, "b"))
	o := merge.DefaultOptions()
	o.Store, o.Date, o.RunID = st, d0, "boot-1"
	o.Table = config.Table{Name: "orders", Key: []string{"id"}, KeyIncludesSource: true, Bootstrap: config.BootstrapSnapshot}
	o.FileSize, o.RowGroupRows = 1, 3
	if _, err := merge.Bootstrap(ctx, o, in); err != nil {
		t.Fatal(err)
	}
	snap := readSnapshot(t, st, "orders", d0)
	m := snap.manifest
	if m.Kind != "bootstrap" || m.Position != in.Position || m.Rows != 10 || len(m.Merged) != 0 || m.Base != "" || len(m.Files) < 3 {
		t.Fatalf("manifest: %+v", m)
	}
	want := "@7:999:999999999 shop orders_0 id=0 name=\"b\""
	if snap.rows[0] != want || !strings.Contains(snap.rows[4], `id=4 name="b"`) || !strings.Contains(snap.rows[9], "id=9") {
		t.Fatalf("rows:\n%s", strings.Join(snap.rows, "\n"))
	}
	if ok, _ := storage.Exists(ctx, st, warehouse.SnapshotSuccess("orders", d0)); !ok {
		t.Fatal("no _SUCCESS")
	}

	// Killed between the manifest and _SUCCESS: the same run completes
	// it; another run is refused.
	if err := st.Delete(ctx, warehouse.SnapshotSuccess("orders", d0)); err != nil {
		t.Fatal(err)
	}
	if _, err := merge.Bootstrap(ctx, o, in); err != nil {
		t.Fatalf("resumed bootstrap: %v", err)
	}
	if ok, _ := storage.Exists(ctx, st, warehouse.SnapshotSuccess("orders", d0)); !ok {
		t.Fatal("the resumed bootstrap did not write _SUCCESS")
	}
	o2 := o
	o2.RunID = "boot-2"
	if _, err := merge.Bootstrap(ctx, o2, in); err == nil || !strings.Contains(err.Error(), "already has a snapshot") {
		t.Fatalf("a second bootstrap of the day: %v", err)
	}

	// Changes: one before the stamp (stale), some after it, one of them in
	// an hour of the bootstrap day (late for dt=D0, applied by D1).
	ev := time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC)
	row := func(op string, pos warehouse.Pos, id int64, name string) fakeingest.Row {
		return fakeingest.Row{Op: op, Pos: pos, Event: ev, DB: "shop", Table: "orders_0",
			Values: []schema.Value{schema.IntValue(id), schema.StringValue(name)}}
	}
	if _, err := w.Commit(ctx, 0,
		fakeingest.File{Hour: warehouse.Hour{Date: d0, Hour: 23}, Version: 1, Rows: []fakeingest.Row{
			row("update", warehouse.Pos{File: 7, Offset: 500}, 1, "before the stamp"),
			row("update", warehouse.Pos{File: 7, Offset: 1000}, 2, "at the stamp"),
		}},
		fakeingest.File{Hour: warehouse.Hour{Date: d1, Hour: 1}, Version: 1, Rows: []fakeingest.Row{
			row("delete", warehouse.Pos{File: 7, Offset: 2000}, 3, ""),
			row("insert", warehouse.Pos{File: 8, Offset: 4}, 100, "new"),
			row("update", warehouse.Pos{File: 6, Offset: 99999}, 5, "older binlog file"),
		}}); err != nil {
		t.Fatal(err)
	}
	o.Date, o.RunID = d1, ""
	s := runMerge(t, o)
	snap = readSnapshot(t, st, "orders", d1)
	got := strings.Join(snap.rows, "\n")
	for _, want := range []string{`id=1 name="a"`, `id=2 name="at the stamp"`, `id=5 name="a"`, `id=100 name="new"`} {
		if !strings.Contains(got, want) {
			t.Errorf("day %s lacks %s:\n%s", d1, want, got)
		}
	}
	if strings.Contains(got, "id=3 ") || len(snap.rows) != 10 || s.Stale != 2 || snap.manifest.Base != d0.String() {
		t.Errorf("day %s: stale %d, base %s, rows:\n%s", d1, s.Stale, snap.manifest.Base, got)
	}

	// dt=D0 is a bootstrap: merging it is refused.
	o.Date = d0
	if _, err := merge.Run(ctx, o); err == nil || !strings.Contains(err.Error(), "bootstrap") {
		t.Errorf("merging over the bootstrap day: %v", err)
	}
}

// A bootstrap of an offset-ordered table with --position start stamps its
// rows 0, which is also the position of a partition's first record
// (offset 0, row 0): that change is after the stamp and must win the tie.
// A plain merge base still wins ties (a replayed duplicate).
func TestStartStampLosesTiesToChanges(t *testing.T) {
	ctx := context.Background()
	st, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := fakeingest.New(st, "users", "binlog")
	if err := w.Schema(ctx, 1, "id", "int", "name", "varchar(20)"); err != nil {
		t.Fatal(err)
	}
	d0, d1, d2 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02"), mustDate(t, "2024-03-03")
	in := merge.BootstrapInput{Kind: merge.KindBootstrap, Position: "start"}
	in.Files = append(in.Files, stage(t, st, "snapshot/users/_bootstrap/a.parquet", warehouse.Pos{}, []int64{1, 2, 3}, "snapshot"))
	o := merge.DefaultOptions()
	o.Store, o.Date, o.RunID = st, d0, "boot-1"
	o.Table = config.Table{Name: "users", Key: []string{"id"}, KeyIncludesSource: true, Bootstrap: config.BootstrapSnapshot}
	if _, err := merge.Bootstrap(ctx, o, in); err != nil {
		t.Fatal(err)
	}
	ev := time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC)
	row := func(op string, off, row int64, id int64, name string) fakeingest.Row {
		return fakeingest.Row{Op: op, Pos: warehouse.Pos{Offset: off, Row: row}, Offset: off, Event: ev, DB: "shop", Table: "orders_0",
			Values: []schema.Value{schema.IntValue(id), schema.StringValue(name)}}
	}
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d1, Hour: 10}, Version: 1, Rows: []fakeingest.Row{
		row("update", 0, 0, 1, "first record"),
		row("delete", 1, 0, 2, ""),
	}}); err != nil {
		t.Fatal(err)
	}
	o.Date, o.RunID = d1, ""
	s := runMerge(t, o)
	got := strings.Join(readSnapshot(t, st, "users", d1).rows, "\n")
	if !strings.Contains(got, `id=1 name="first record"`) || strings.Contains(got, "id=2 ") || !strings.Contains(got, `id=3 name="snapshot"`) || s.Stale != 0 {
		t.Fatalf("day %s (stale %d):\n%s", d1, s.Stale, got)
	}

	// Over a merged base, a change at the row's own position is a
	// duplicate: stale.
	ev = time.Date(2024, 3, 3, 10, 0, 0, 0, time.UTC)
	dup := row("update", 3, 0, 1, "replayed duplicate")
	dup.Pos = warehouse.Pos{} // the first record's position, delivered again
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d2, Hour: 10}, Version: 1, Rows: []fakeingest.Row{
		row("update", 2, 0, 3, "newer"), dup,
	}}); err != nil {
		t.Fatal(err)
	}
	o.Date = d2
	s = runMerge(t, o)
	got = strings.Join(readSnapshot(t, st, "users", d2).rows, "\n")
	if !strings.Contains(got, `id=1 name="first record"`) || !strings.Contains(got, `id=3 name="newer"`) || s.Stale != 1 {
		t.Fatalf("day %s (stale %d):\n%s", d2, s.Stale, got)
	}
}
