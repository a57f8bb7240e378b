package merge_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/fault"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// TestStoreFailures fails each store call of a merge in turn — the Nth
// Put, Copy, Delete, PutIfAbsent, Get, List or Stat, and also calls that
// succeed but whose answer is lost — and then runs the merge again without
// faults. A failed run publishes nothing (or, if it failed after its
// manifest, the complete day); the next run succeeds with the same day as
// a run that never failed, and leaves nothing behind.
func TestStoreFailures(t *testing.T) {
	ctx := context.Background()
	d1, d2 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02")
	st, pristine, w := ordersWarehouse(t, 3000, d1)
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d1
	o.RowGroupRows, o.FileSize = 200, 8<<10
	runMerge(t, o)
	rows := []fakeingest.Row{orderRow("update", 10_000, 10, "x"), orderRow("delete", 10_001, 1500, ""), orderRow("insert", 10_002, 9000, "y")}
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d2, Hour: 1}, Version: 1, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	// The reference, and how many calls of each kind a clean run makes.
	refDir := t.TempDir()
	copyDir(t, pristine, refDir)
	refSt, _ := local.New(refDir)
	counter := fault.New(refSt)
	o.Store, o.Date = counter, d2
	runMerge(t, o)
	ref := readSnapshot(t, refSt, "orders", d2)
	ops := []fault.Op{fault.Put, fault.Copy, fault.Delete, fault.PutIfAbsent, fault.Get, fault.List, fault.Stat}
	cases := 0
	for _, op := range ops {
		for n := 1; n <= counter.Calls(op); n++ {
			for _, after := range []bool{false, true} {
				if after && op != fault.Put && op != fault.Copy && op != fault.PutIfAbsent {
					continue
				}
				cases++
				dir := t.TempDir()
				copyDir(t, pristine, dir)
				ls, _ := local.New(dir)
				fs := fault.New(ls)
				fs.Add(fault.Rule{Op: op, Nth: n, After: after})
				o.Store = fs
				_, ferr := merge.Run(ctx, o)
				if ferr == nil {
					// Some failures are not fatal (removing the previous
					// version's files is retried by the next run).
					got := readSnapshot(t, ls, "orders", d2)
					if !slices.Equal(got.rows, ref.rows) {
						t.Fatalf("%s #%d (after=%v): run succeeded with different rows", op, n, after)
					}
				} else if ok, _ := existsFile(dir, warehouse.SnapshotManifest("orders", d2)); ok {
					// Failed after publishing: the day must be complete.
					got := readSnapshot(t, ls, "orders", d2)
					if !slices.Equal(got.rows, ref.rows) {
						t.Fatalf("%s #%d (after=%v) failed (%v) leaving a different published day", op, n, after, ferr)
					}
				}
				o.Store = ls
				if _, err := merge.Run(ctx, o); err != nil {
					t.Fatalf("%s #%d (after=%v): the run after the failure (%v) failed: %v", op, n, after, ferr, err)
				}
				got := readSnapshot(t, ls, "orders", d2)
				if !slices.Equal(got.rows, ref.rows) || !slices.Equal(got.tombstones, ref.tombstones) {
					t.Fatalf("%s #%d (after=%v): day differs after recovery", op, n, after)
				}
				checkNoLeftovers(t, dir, got.manifest, d2)
			}
		}
	}
	t.Logf("%d failure cases", cases)
}

func existsFile(dir, key string) (bool, error) {
	_, err := fsStat(filepath.Join(dir, key))
	return err == nil, err
}

var fsStat = os.Stat

// checkNoLeftovers: dt=D holds the manifest's files, the manifest,
// _SUCCESS and lock records, nothing else.
func checkNoLeftovers(t *testing.T, dir string, m *warehouse.Manifest, d warehouse.Date) {
	t.Helper()
	listed := map[string]bool{}
	for _, f := range slices.Concat(m.Files, m.Tombstones) {
		listed[f.Key] = true
	}
	root := filepath.Join(dir, warehouse.SnapshotDir(m.Table, d))
	_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		name := e.Name()
		if !listed[filepath.ToSlash(rel)] && name != warehouse.ManifestName && name != warehouse.SuccessName && !strings.HasPrefix(name, warehouse.LockPrefix) {
			t.Errorf("left over: %s", rel)
		}
		return nil
	})
	if ok, _ := existsFile(dir, warehouse.SnapshotSuccess(m.Table, d)); !ok {
		t.Errorf("no _SUCCESS")
	}
}

// TestChangeFileOfWrongColumnTypes checks that a committed file whose
// bookkeeping columns are not of a binlog file's physical types is
// refused, naming the file and the column, before any row of it is read.
func TestChangeFileOfWrongColumnTypes(t *testing.T) {
	ctx := context.Background()
	d1, d2 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02")
	st, _, w := ordersWarehouse(t, 100, d1)
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d1
	runMerge(t, o)
	seq, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d2, Hour: 1}, Version: 1, Rows: []fakeingest.Row{orderRow("update", 10_000, 10, "x")}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := storage.ReadAll(ctx, st, warehouse.CommitKey(w.Topic, 0, seq))
	if err != nil {
		t.Fatal(err)
	}
	var c warehouse.Commit
	if err := warehouse.Unmarshal("commit", b, &c); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		col  string
		node parquet.Node
		want string
	}{
		{"_op", parquet.Int(32), "_op column of INT32 values"},
		{"_pos", parquet.Int(64), "_pos column of INT64 values"},
		{"_source_table", parquet.Int(64), "_source_table column of INT64 values"},
	} {
		t.Run(tc.col, func(t *testing.T) {
			cols := parquet.Group{
				"_op":           parquet.String(),
				"_pos":          parquet.Leaf(parquet.FixedLenByteArrayType(16)),
				"_source_db":    parquet.String(),
				"_source_table": parquet.String(),
			}
			cols[tc.col] = tc.node
			var buf bytes.Buffer
			pw := parquet.NewGenericWriter[any](&buf, parquet.NewSchema("binlog", cols))
			if err := pw.Close(); err != nil {
				t.Fatal(err)
			}
			if err := st.Put(ctx, c.Files[0].Key, &buf); err != nil {
				t.Fatal(err)
			}
			o.Date = d2
			_, err := merge.Run(ctx, o)
			if err == nil || !strings.Contains(err.Error(), c.Files[0].Key) || !strings.Contains(err.Error(), tc.want+": not a binlog file") {
				t.Fatalf("merge of a file whose %s is %s: %v, want an error naming %s and %q", tc.col, tc.node.Type(), err, c.Files[0].Key, tc.want)
			}
		})
	}
}
