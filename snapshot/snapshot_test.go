package snapshot

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/fault"
	"github.com/binlake/binlake/warehouse"
)

func TestSnapshotMatchesSource(t *testing.T) {
	duckdbtest.Require(t)
	srv := fixture(t, 30)
	dir := t.TempDir()
	cfg := testConfig(t, dir, srv, "")
	o := testOptions(t, cfg)
	file, pos := srv.BinlogPosition(t)
	s := run(t, o)
	if s.Shards != fixtureDBs*fixtureTables || s.Rows != int64(fixtureDBs*fixtureTables*30) {
		t.Fatalf("summary: %d shards, %d rows", s.Shards, s.Rows)
	}
	if s.ZeroDates["day"] == 0 || s.ZeroDates["created"] == 0 {
		t.Errorf("zero dates not counted: %v", s.ZeroDates)
	}
	sameRows(t, snapshotRows(t, dir, "2024-03-01"), sourceRows(t, srv.DB(t)))

	// The manifest, _SUCCESS, the stamp, and no staging left.
	ctx := context.Background()
	b, err := storage.ReadAll(ctx, o.Store, warehouse.SnapshotManifest("orders", o.Date))
	if err != nil {
		t.Fatal(err)
	}
	var m warehouse.Manifest
	if err := warehouse.Unmarshal("manifest", b, &m); err != nil {
		t.Fatal(err)
	}
	want := BinlogPosition{File: file, Pos: int64(pos)}.String()
	if m.Kind != "bootstrap" || m.Position != want || m.Rows != s.Rows || len(m.Files) == 0 || len(m.Merged) != 0 {
		t.Errorf("manifest: kind %s position %s (want %s) rows %d files %d merged %v", m.Kind, m.Position, want, m.Rows, len(m.Files), m.Merged)
	}
	// MariaDB always has a GTID position once it has written binlog.
	if len(m.GTIDs) != 1 || m.GTIDs["rds1"] == "" || m.GTIDs["rds1"] != s.GTIDs["rds1"] {
		t.Errorf("manifest GTIDs %v, summary %v", m.GTIDs, s.GTIDs)
	}
	if ok, _ := storage.Exists(ctx, o.Store, warehouse.SnapshotSuccess("orders", o.Date)); !ok {
		t.Error("no _SUCCESS")
	}
	stamp, err := stampFor(BinlogPosition{File: file, Pos: int64(pos)})
	if err != nil {
		t.Fatal(err)
	}
	glob := duckdbtest.QuoteString(filepath.Join(dir, "snapshot", "orders", "dt=2024-03-01", "*.parquet"))
	res := duckdbtest.Query(t, "SELECT DISTINCT CAST(_pos AS VARCHAR) AS p FROM read_parquet("+glob+")")
	wantPos := posText(stamp)
	if res.Len() != 1 || res.Text(0, "p") != wantPos {
		t.Errorf("_pos: %v, want the single value %s", res, wantPos)
	}
	var left []string
	_ = o.Store.List(ctx, stagingPrefix("orders"), func(obj storage.Object) error {
		left = append(left, obj.Key)
		return nil
	})
	if len(left) > 0 {
		t.Errorf("staging left behind: %v", left)
	}
	// verify finds every type equal (values compared after the same
	// coercion, not as text).
	// It reads each data file once, not once per physical table.
	counted := fault.New(o.Store)
	rep, err := Verify(ctx, VerifyOptions{Store: counted, Config: cfg, Table: "orders", ChunkRows: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Equal() || rep.SourceRows != s.Rows || rep.SnapshotRows != s.Rows || len(rep.Shards) != s.Shards {
		t.Errorf("verify: %s %v", rep.Line(), rep.Keys)
	}
	if got, want := counted.Calls(fault.Get), len(m.Files)+1; got != want {
		t.Errorf("verify made %d reads, want %d (the manifest and each of its %d files once)", got, want, len(m.Files))
	}

	// A second run refuses to overwrite the published day.
	if _, err := Run(ctx, o); err == nil {
		t.Error("a second snapshot of the same day succeeded")
	}
}
