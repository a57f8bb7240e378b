package snapshot

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// rowsWithout reads snapshot dt=2024-03-01 of orders without the columns
// named, in key order.
func rowsWithout(t *testing.T, whDir string, exclude ...string) string {
	t.Helper()
	glob := duckdbtest.QuoteString(filepath.Join(whDir, "snapshot", "orders", "dt=2024-03-01", "*.parquet"))
	return duckdbtest.Query(t, "SELECT * EXCLUDE ("+strings.Join(exclude, ", ")+") FROM read_parquet("+glob+") ORDER BY _source_db, _source_table, id").String()
}

// An export written by another writer (DuckDB, as Parquet and as CSV)
// publishes the same rows as a snapshot from MySQL, at the declared
// position.
func TestImportFromFiles(t *testing.T) {
	duckdbtest.Require(t)
	srv := fixture(t, 20)
	orig := t.TempDir()
	run(t, testOptions(t, testConfig(t, orig, srv, "")))
	exp := t.TempDir()
	glob := duckdbtest.QuoteString(filepath.Join(orig, "snapshot", "orders", "dt=2024-03-01", "*.parquet"))
	pq, cs := filepath.Join(exp, "export.parquet"), filepath.Join(exp, "export.csv")
	duckdbtest.Query(t, "COPY (SELECT * EXCLUDE (_pos) FROM read_parquet("+glob+", hive_partitioning = false)) TO "+duckdbtest.QuoteString(pq)+" (FORMAT parquet)")
	duckdbtest.Query(t, "COPY (SELECT * EXCLUDE (_pos, payload) FROM read_parquet("+glob+", hive_partitioning = false)) TO "+duckdbtest.QuoteString(cs)+` (FORMAT csv, HEADER, NULLSTR '\N')`)

	for _, c := range []struct {
		file    string
		exclude []string
	}{
		{pq, []string{"_pos"}},
		{cs, []string{"_pos", "payload"}},
	} {
		t.Run(filepath.Ext(c.file), func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(t, testConfig(t, dir, srv, ""))
			s, err := Import(context.Background(), ImportOptions{Store: o.Store, Config: o.Config, Table: "orders", Date: o.Date,
				Files: []string{c.file}, Position: "mysql-bin.000003:1000"})
			if err != nil {
				t.Fatal(err)
			}
			if s.Rows != int64(fixtureDBs*fixtureTables*20) {
				t.Errorf("imported %d rows", s.Rows)
			}
			if got, want := rowsWithout(t, dir, c.exclude...), rowsWithout(t, orig, c.exclude...); got != want {
				t.Errorf("imported rows differ from the snapshot's:\n%s", firstDiff(got, want))
			}
			b, err := storage.ReadAll(context.Background(), o.Store, warehouse.SnapshotManifest("orders", o.Date))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"kind": "import"`) || !strings.Contains(string(b), `"position": "mysql-bin.000003:1000"`) {
				t.Errorf("manifest:\n%s", b)
			}
			res := duckdbtest.Query(t, "SELECT DISTINCT CAST(_pos AS VARCHAR) AS p FROM read_parquet("+duckdbtest.QuoteString(filepath.Join(dir, "snapshot", "orders", "dt=2024-03-01", "*.parquet"))+")")
			if res.Len() != 1 || res.Text(0, "p") != posText(warehouse.Pos{File: 3, Offset: 999, Row: maxRow}) {
				t.Errorf("_pos: %s", res)
			}
		})
	}

	// Without --position, or rows of no known physical table: refused.
	o := testOptions(t, testConfig(t, t.TempDir(), srv, ""))
	if _, err := Import(context.Background(), ImportOptions{Store: o.Store, Config: o.Config, Table: "orders", Files: []string{pq}}); err == nil || !strings.Contains(err.Error(), "--position is required") {
		t.Errorf("import without a position: %v", err)
	}
	bare := filepath.Join(exp, "bare.parquet")
	duckdbtest.Query(t, "COPY (SELECT * EXCLUDE (_pos, _source_db, _source_table) FROM read_parquet("+glob+", hive_partitioning = false) WHERE _source_table = 'orders_0' AND _source_db = 'shop_0') TO "+duckdbtest.QuoteString(bare)+" (FORMAT parquet)")
	if _, err := Import(context.Background(), ImportOptions{Store: o.Store, Config: o.Config, Table: "orders", Files: []string{bare}, Position: "mysql-bin.000003:1000"}); err == nil || !strings.Contains(err.Error(), "--source DB.TABLE") {
		t.Errorf("import of rows of no physical table: %v", err)
	}
	s, err := Import(context.Background(), ImportOptions{Store: o.Store, Config: o.Config, Table: "orders", Files: []string{bare}, Position: "mysql-bin.000003:1000", Source: "shop_0.orders_0"})
	if err != nil || s.Rows != 20 {
		t.Errorf("import with --source: %v, %+v", err, s)
	}
}
