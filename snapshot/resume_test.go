package snapshot

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/fault"
	"github.com/binlake/binlake/warehouse"
)

// allRows reads every column of snapshot dt=date, _pos included, in key
// order, as text.
func allRows(t *testing.T, whDir, date string) string {
	t.Helper()
	glob := duckdbtest.QuoteString(filepath.Join(whDir, "snapshot", "orders", "dt="+date, "*.parquet"))
	return duckdbtest.Query(t, "SELECT * FROM read_parquet("+glob+") ORDER BY _source_db, _source_table, id").String()
}

func TestSnapshotResumesAfterInterruption(t *testing.T) {
	duckdbtest.Require(t)
	srv := fixture(t, 40)

	// Uninterrupted.
	whole := t.TempDir()
	run(t, testOptions(t, testConfig(t, whole, srv, "")))

	// Interrupted after 30 chunks, then resumed.
	dir := t.TempDir()
	o := testOptions(t, testConfig(t, dir, srv, ""))
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("interrupted by the test")
	chunks := 0
	o.Progress = func(p Progress) {
		if chunks = p.Chunks; chunks >= 30 {
			cancel(stop)
		}
	}
	if _, err := Run(ctx, o); err == nil {
		t.Fatal("the interrupted run succeeded")
	}
	if ok, _ := storage.Exists(context.Background(), o.Store, warehouse.SnapshotManifest("orders", o.Date)); ok {
		t.Fatal("an interrupted snapshot is visible")
	}
	var staged []string
	_ = o.Store.List(context.Background(), stagingPrefix("orders"), func(obj storage.Object) error {
		if strings.HasSuffix(obj.Key, ".json") && !strings.HasSuffix(obj.Key, "state.json") {
			staged = append(staged, obj.Key)
		}
		return nil
	})
	if len(staged) < 30 {
		t.Fatalf("%d chunks staged, want at least 30", len(staged))
	}
	o.Progress = nil
	// A resume with another date is refused and names the staged one.
	o2 := o
	o2.Date = warehouse.Date{Year: 2024, Month: 3, Day: 2}
	if _, err := Run(context.Background(), o2); err == nil || !strings.Contains(err.Error(), "--date 2024-03-01") {
		t.Fatalf("resuming with another date: %v", err)
	}
	s := run(t, o)
	if s.Resumed < 30 || s.Resumed >= s.Chunks {
		t.Errorf("resumed %d of %d chunks, want at least 30 and not all", s.Resumed, s.Chunks)
	}
	if got, want := allRows(t, dir, "2024-03-01"), allRows(t, whole, "2024-03-01"); got != want {
		t.Errorf("resumed snapshot differs from an uninterrupted one:\n%s", firstDiff(got, want))
	}

}

// firstDiff shows the first differing line of two renderings.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

// A run that published and then died while removing the staging area is
// finished by the next run without reading the source again.
func TestSnapshotFinishesAPublishedRun(t *testing.T) {
	srv := fixture(t, 10)
	dir := t.TempDir()
	o := testOptions(t, testConfig(t, dir, srv, ""))
	plain := o.Store
	fs := fault.New(plain)
	fs.Add(fault.Rule{Op: fault.Delete, Nth: 3})
	o.Store = fs
	_, err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "staging area was not removed") {
		t.Fatalf("run with a failing delete: %v", err)
	}
	if ok, _ := storage.Exists(context.Background(), plain, stateKey("orders")); !ok {
		t.Fatal("the state is gone although the staging area was not removed")
	}
	o.Store = plain
	s := run(t, o)
	if s.Chunks != 0 || s.Rows != int64(fixtureDBs*fixtureTables*10) {
		t.Errorf("the finishing run read %d chunks, %d rows", s.Chunks, s.Rows)
	}
	var left []string
	_ = plain.List(context.Background(), stagingPrefix("orders"), func(obj storage.Object) error {
		left = append(left, obj.Key)
		return nil
	})
	if len(left) > 0 {
		t.Errorf("staging left: %v", left)
	}
	if ok, _ := storage.Exists(context.Background(), plain, warehouse.SnapshotSuccess("orders", o.Date)); !ok {
		t.Error("no _SUCCESS")
	}
}
