package ingest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/fault"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/warehouse"
)

// A file's schema is fixed while it is written: a column learned and a
// column widened in the middle of one table-hour finish the open file and
// start a new one, and every value lands, read back by DuckDB. The update
// widens its column in the before image, after the after image's values
// were typed: they are typed again (the run fails without that).
func TestSchemaChangesMidFile(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 1)
	es := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)
	maxwell := func(typ, data, old string, pos int) []byte {
		m := fmt.Sprintf(`{"database":"shop_01","table":"orders_00","type":%q,"ts":%d,"xid":7,"position":"mysql-bin.000003:%d","primary_key_columns":["id"],"data":%s`,
			typ, es.Unix(), 1000+pos, data)
		if old != "" {
			m += `,"old":` + old
		}
		return []byte(m + "}")
	}
	produce(t, kc,
		rec(0, maxwell("insert", `{"id":1,"code":5}`, "", 0)),
		rec(0, maxwell("insert", `{"id":2,"code":6,"extra":"x"}`, "", 1)),             // learns extra
		rec(0, maxwell("update", `{"id":2,"code":7,"extra":"y"}`, `{"code":1.5}`, 2)), // widens code to double
		rec(0, maxwell("insert", `{"id":3,"code":2.5,"extra":"z"}`, "", 3)),
	)
	dir := t.TempDir()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := options(t, kc, st, es.Add(2*time.Hour))
	o.Kafka.Format = config.FormatMaxwell
	sum, err := ingest.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.DLQ != 0 || sum.Rows["orders"] != 4 {
		t.Fatalf("rows %v, %d dead letters", sum.Rows, sum.DLQ)
	}
	files := committedFiles(t, st)
	if len(files) != 3 {
		t.Errorf("%d files, want 3: one per schema of the table-hour", len(files))
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, "'"+filepath.Join(dir, f.Key)+"'")
	}
	res := duckdbtest.Query(t, fmt.Sprintf(`SELECT concat_ws('|', _op, id, CAST(code AS DOUBLE), coalesce(extra, 'NULL'))
		FROM read_parquet([%s], union_by_name = true) ORDER BY _kafka_offset`, strings.Join(paths, ",")))
	var got []string
	for _, r := range res.Rows {
		got = append(got, *r[0])
	}
	want := []string{"insert|1|5.0|NULL", "insert|2|6.0|x", "update|2|7.0|y", "insert|3|2.5|z"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	types := duckdbtest.Query(t, fmt.Sprintf(`SELECT DISTINCT typeof(code) FROM read_parquet('%s')`, filepath.Join(dir, files[len(files)-1].Key)))
	if len(types.Rows) != 1 || *types.Rows[0][0] != "DOUBLE" {
		t.Errorf("the last file's code column: %v, want DOUBLE", types.Rows)
	}
}

// A schema version is written while the run goes on, and no file of the
// version is written unless the version was: when another run created the
// version first, the run fails with that, leaving no data file and no
// commit.
func TestSchemaVersionLostLeavesNoFile(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 2)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var recs []*kgo.Record
	for i := range 6000 {
		es := base.Add(time.Duration(i%3) * time.Hour)
		recs = append(recs, rec(int32(i%2), canalMessage("shop_01", "orders_00", "INSERT", es,
			[]orderRow{{ID: i, Customer: 1, Cents: int64(i), Status: 1, Created: es}}, nil)))
	}
	produce(t, kc, recs...)
	st := fault.New(mem.New())
	// The run's first create-if-absent is the table's first schema version.
	st.Add(fault.Rule{Op: fault.PutIfAbsent, Nth: 1, Err: storage.ErrExists})
	_, err := ingest.Run(ctx, options(t, kc, st, base.Add(5*time.Hour)))
	if err == nil || !strings.Contains(err.Error(), "schema version 1 was created by another run meanwhile") {
		t.Fatalf("err = %v, want the lost schema version", err)
	}
	if err := st.List(ctx, "", func(o storage.Object) error {
		if strings.HasSuffix(o.Key, ".parquet") || strings.HasPrefix(o.Key, warehouse.CommitsPrefix) {
			t.Errorf("%s written without its schema version", o.Key)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
