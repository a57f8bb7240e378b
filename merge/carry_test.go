package merge_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// ordersWarehouse is a local warehouse with table orders (id int, name
// varchar, amount decimal) and n rows inserted on day d1.
func ordersWarehouse(t *testing.T, n int, d1 warehouse.Date) (*local.Store, string, *fakeingest.Warehouse) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := fakeingest.New(st, "orders", "binlog")
	if err := w.Schema(ctx, 1, "id", "int", "name", "varchar(20)", "amount", "decimal(10,2)"); err != nil {
		t.Fatal(err)
	}
	var rows []fakeingest.Row
	for i := range n {
		rows = append(rows, orderRow("insert", int64(i+1), int64(i), fmt.Sprintf("n%d", i)))
	}
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d1, Hour: 10}, Version: 1, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	return st, dir, w
}

func orderRow(op string, pos, id int64, name string) fakeingest.Row {
	return fakeingest.Row{Op: op, Pos: warehouse.Pos{Offset: pos}, Event: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC),
		DB: "shop", Table: "orders_0",
		Values: []schema.Value{schema.IntValue(id), schema.StringValue(name), schema.DecimalValue(fmt.Sprintf("%d.%02d", id, id%100))}}
}

// TestCarriesUntouchedFilesAndRowGroups: a file no change falls in is
// carried (a hard link on local disk); in a touched file, row groups no
// change falls in are copied (without decoding when the encodings agree)
// and DuckDB reads the result. So it does when day 2 writes its integers
// in another encoding than day 1's files have (merge.integer_encoding
// changed in between): parquet-go then re-encodes the copied row groups.
func TestCarriesUntouchedFilesAndRowGroups(t *testing.T) {
	for _, enc := range []config.IntegerEncoding{config.IntegerPlain, config.IntegerDelta} {
		t.Run("day2-"+string(enc), func(t *testing.T) { testCarries(t, enc) })
	}
}

func testCarries(t *testing.T, day2 config.IntegerEncoding) {
	ctx := context.Background()
	d1, d2 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02")
	st, dir, w := ordersWarehouse(t, 10_000, d1)
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d1
	o.RowGroupRows = 500
	o.FileSize = 16 << 10
	s := runMerge(t, o)
	m1 := readManifest(t, st, "orders", d1)
	if len(m1.Files) < 4 {
		t.Fatalf("want several files, got %d", len(m1.Files))
	}
	t.Logf("day 1: %s", s.Line())
	// Day 2: change one key in the middle of the key space and append
	// one after the end.
	rows := []fakeingest.Row{orderRow("update", 20_000, 5_000, "changed"), orderRow("insert", 20_001, 50_000, "new")}
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d2, Hour: 3}, Version: 1, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	o.Date, o.IntegerEncoding = d2, day2
	s = runMerge(t, o)
	t.Logf("day 2: %s; touched %d carried %d, row groups copied %d rewritten %d", s.Line(), s.BaseFilesTouched, s.BaseFilesCarried, s.RowGroupsCopied, s.RowGroupsRewritten)
	if s.BaseFilesTouched != 2 || s.BaseFilesCarried != len(m1.Files)-2 {
		t.Errorf("touched %d carried %d of %d files, want 2 touched", s.BaseFilesTouched, s.BaseFilesCarried, len(m1.Files))
	}
	if s.RowGroupsRewritten != 2 || s.RowGroupsCopied == 0 {
		t.Errorf("row groups: %d rewritten, %d copied; want 2 rewritten", s.RowGroupsRewritten, s.RowGroupsCopied)
	}
	if s.Updated != 1 || s.Inserted != 1 || s.RowsOut != 10_001 {
		t.Errorf("summary %+v", s)
	}
	m2 := readManifest(t, st, "orders", d2)
	links := 0
	for _, f := range m2.Files {
		if f.CarriedFrom == "" {
			continue
		}
		a, err1 := os.Stat(filepath.Join(dir, f.Key))
		b, err2 := os.Stat(filepath.Join(dir, f.CarriedFrom))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if os.SameFile(a, b) {
			links++
		}
		if a.Sys().(*syscall.Stat_t).Nlink < 2 {
			t.Errorf("%s is not a hard link", f.Key)
		}
	}
	if links != s.BaseFilesCarried {
		t.Errorf("%d of %d carried files are hard links", links, s.BaseFilesCarried)
	}
	snap := readSnapshot(t, st, "orders", d2)
	if len(snap.rows) != 10_001 {
		t.Fatalf("%d rows", len(snap.rows))
	}
	// DuckDB reads every file, in manifest order the keys ascend, and the
	// changed values are there.
	var paths []string
	for _, f := range m2.Files {
		paths = append(paths, duckdbtest.QuoteString(filepath.Join(dir, f.Key)))
	}
	res := duckdbtest.Query(t, fmt.Sprintf(`SELECT count(*) AS n, count(DISTINCT id) AS d,
		bool_and(ok) AS sorted,
		max(CASE WHEN id = 5000 THEN name END) AS changed,
		max(CASE WHEN id = 50000 THEN amount END) AS new_amount
		FROM (SELECT id, name, amount, id > lag(id) OVER (ORDER BY filename, file_row_number) OR lag(id) OVER (ORDER BY filename, file_row_number) IS NULL AS ok
		      FROM read_parquet([%s], filename=true, file_row_number=true))`, strings.Join(paths, ",")))
	if res.Text(0, "n") != "10001" || res.Text(0, "d") != "10001" || res.Text(0, "sorted") != "true" ||
		res.Text(0, "changed") != "changed" || res.Text(0, "new_amount") != "50000.00" {
		t.Errorf("DuckDB: %s", res)
	}
}
