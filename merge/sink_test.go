package merge_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// chunkBytes returns the compressed bytes of every column chunk of a
// file's row groups.
func chunkBytes(t *testing.T, path string) [][][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out [][][]byte
	for _, rg := range f.Metadata().RowGroups {
		var cols [][]byte
		for _, c := range rg.Columns {
			start := c.MetaData.DataPageOffset
			if c.MetaData.DictionaryPageOffset > 0 && c.MetaData.DictionaryPageOffset < start {
				start = c.MetaData.DictionaryPageOffset
			}
			cols = append(cols, b[start:start+c.MetaData.TotalCompressedSize])
		}
		out = append(out, cols)
	}
	return out
}

// TestCopiedRowGroupsAreVerbatim: a row group no change falls in is
// copied byte for byte, not decoded and encoded again — also when its
// text column holds more distinct values than a dictionary may (each of
// its chunks has a single data page, so the writer's fall back to PLAIN
// never leaves a chunk of mixed encodings, which could not be copied).
func TestCopiedRowGroupsAreVerbatim(t *testing.T) {
	ctx := context.Background()
	d1, d2 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02")
	dir := t.TempDir()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := fakeingest.New(st, "orders", "binlog")
	if err := w.Schema(ctx, 1, "id", "int", "name", "varchar(64)", "amount", "decimal(10,2)"); err != nil {
		t.Fatal(err)
	}
	row := func(op string, pos, id int64, name string) fakeingest.Row {
		return fakeingest.Row{Op: op, Pos: warehouse.Pos{Offset: pos}, Event: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC),
			DB: "shop", Table: "orders_0",
			Values: []schema.Value{schema.IntValue(id), schema.StringValue(name), schema.DecimalValue(fmt.Sprintf("%d.%02d", id, id%100))}}
	}
	var rows []fakeingest.Row
	for i := range 90_000 {
		rows = append(rows, row("insert", int64(i+1), int64(i), fmt.Sprintf("%040x", uint64(i)*0x9e3779b97f4a7c15)))
	}
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d1, Hour: 10}, Version: 1, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d1
	o.RowGroupRows = 30_000
	runMerge(t, o)
	m1 := readManifest(t, st, "orders", d1)
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d2, Hour: 3}, Version: 1, Rows: []fakeingest.Row{row("update", 100_000, 45_000, "changed")}}); err != nil {
		t.Fatal(err)
	}
	o.Date = d2
	s := runMerge(t, o)
	m2 := readManifest(t, st, "orders", d2)
	if s.RowGroupsCopied != 2 || s.RowGroupsRewritten != 1 || len(m1.Files) != 1 || len(m2.Files) != 1 {
		t.Fatalf("%s; row groups copied %d rewritten %d; files %d then %d", s.Line(), s.RowGroupsCopied, s.RowGroupsRewritten, len(m1.Files), len(m2.Files))
	}
	before := chunkBytes(t, filepath.Join(dir, m1.Files[0].Key))
	after := chunkBytes(t, filepath.Join(dir, m2.Files[0].Key))
	for _, rg := range []int{0, 2} {
		for c := range before[rg] {
			if !bytes.Equal(before[rg][c], after[rg][c]) {
				t.Errorf("row group %d column %d: %d bytes, copied as %d other bytes", rg, c, len(before[rg][c]), len(after[rg][c]))
			}
		}
	}
}

// slowStore finishes each data file's Put a while after it has read the
// file's bytes, as a store syncing or uploading its last part does, and
// records when the puts return and when the manifest is written.
type slowStore struct {
	storage.Store
	mu       sync.Mutex
	lastData time.Time
	manifest time.Time
	data     int
}

func (s *slowStore) Put(ctx context.Context, key string, r io.Reader) error {
	err := s.Store.Put(ctx, key, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case strings.Contains(key, "/part-"):
		s.mu.Unlock()
		time.Sleep(30 * time.Millisecond)
		s.mu.Lock()
		s.data++
		s.lastData = time.Now()
	case path.Base(key) == warehouse.ManifestName:
		s.manifest = time.Now()
	}
	return err
}

// TestManifestAfterEveryDataFile: the manifest is written only once the
// store has every data file whole (DESIGN.md §3.2), also when the store
// finishes a file after the merge has gone on to the next.
func TestManifestAfterEveryDataFile(t *testing.T) {
	d1, d2 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02")
	st, _, w := ordersWarehouse(t, 3000, d1)
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d1
	o.RowGroupRows, o.FileSize = 200, 8<<10
	runMerge(t, o)
	rows := []fakeingest.Row{orderRow("update", 10_000, 10, "x"), orderRow("insert", 10_002, 9000, "y")}
	if _, err := w.Commit(context.Background(), 0, fakeingest.File{Hour: warehouse.Hour{Date: d2, Hour: 1}, Version: 1, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	slow := &slowStore{Store: st}
	o.Store, o.Date = slow, d2
	runMerge(t, o)
	if slow.data < 2 || slow.manifest.IsZero() || !slow.manifest.After(slow.lastData) {
		t.Errorf("%d data files, the last finished at %s; manifest written at %s", slow.data, slow.lastData.Format(time.StampMicro), slow.manifest.Format(time.StampMicro))
	}
}

// TestTombstonesOfManyDeletes: the tombstone writer reuses its buffers
// after every 1024 rows; thousands of deletes in one day leave each key's
// tombstone with its own position.
func TestTombstonesOfManyDeletes(t *testing.T) {
	d1, d2 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02")
	st, _, w := ordersWarehouse(t, 3000, d1)
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d1
	runMerge(t, o)
	var rows []fakeingest.Row
	want := map[string]bool{}
	for i := range 2500 {
		id := int64(2999 - i)
		rows = append(rows, orderRow("delete", int64(10_000+i), id, ""))
		want[fmt.Sprintf("shop orders_0 id=%d @0:%d:0 _deleted_on=2024-03-02", id, 10_000+i)] = true
	}
	if _, err := w.Commit(context.Background(), 0, fakeingest.File{Hour: warehouse.Hour{Date: d2, Hour: 1}, Version: 1, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	o.Date = d2
	runMerge(t, o)
	snap := readSnapshot(t, st, "orders", d2)
	if len(snap.rows) != 500 || len(snap.tombstones) != len(want) {
		t.Fatalf("%d rows and %d tombstones, want 500 and %d", len(snap.rows), len(snap.tombstones), len(want))
	}
	for _, tomb := range snap.tombstones {
		if !want[tomb] {
			t.Errorf("tombstone %q: no such delete", tomb)
		}
		delete(want, tomb)
	}
}
