package ingest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
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
	produce(t, kc, sameTableRecords(base, 6000)...)
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

// Runs that learn a new table at once (processes owning its partitions
// each) create the same schema version: the one that finds it created
// meanwhile reads it, finds its own columns, and goes on.
func TestSchemaVersionCreatedAlikeMeanwhile(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 2)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	produce(t, kc, sameTableRecords(base, 6000)...)
	st := fault.New(mem.New())
	// The version is created, and the run told that another run did it.
	st.Add(fault.Rule{Op: fault.PutIfAbsent, Nth: 1, Err: storage.ErrExists, After: true})
	if _, err := ingest.Run(ctx, options(t, kc, st, base.Add(5*time.Hour))); err != nil {
		t.Fatalf("a schema version created alike by another run: %v", err)
	}
	if n := committedCount(t, st); n != 6000 {
		t.Errorf("%d of 6000 records committed", n)
	}
}

// Two processes, a partition each, started at once on a new table: both
// succeed, whichever creates the schema version.
func TestNewTableByTwoProcessesAtOnce(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 2)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	produce(t, kc, sameTableRecords(base, 6000)...)
	st2 := mem.New()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for p := range 2 {
		wg.Go(func() {
			o := options(t, kc, st2, base.Add(5*time.Hour))
			o.Kafka.Partitions = map[string][]int32{topic: {int32(p)}}
			_, errs[p] = ingest.Run(ctx, o)
		})
	}
	wg.Wait()
	for p, err := range errs {
		if err != nil {
			t.Errorf("the process of partition %d: %v", p, err)
		}
	}
	if n := committedCount(t, st2); n != 6000 {
		t.Errorf("two processes: %d of 6000 records committed", n)
	}
}

// A schema version created meanwhile with other columns fails the run,
// whose files were laid out for its own, naming both; nothing is
// committed, and the next run continues from the other run's version.
func TestSchemaVersionCreatedOtherwiseMeanwhile(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 2)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	produce(t, kc, sameTableRecords(base, 6000)...)
	inner := mem.New()
	theirs, err := warehouse.Marshal(warehouse.SchemaVersion{FormatVersion: warehouse.FormatVersion, Version: 1, Reason: "test",
		Columns: []warehouse.CatalogColumn{{Name: "id", Type: "int"}, {Name: "note", Type: "varchar(200)"}}})
	if err != nil {
		t.Fatal(err)
	}
	st := &racedStore{Store: inner, theirs: theirs}
	_, err = ingest.Run(ctx, options(t, kc, st, base.Add(5*time.Hour)))
	if err == nil || !strings.Contains(err.Error(), "schema version 1 was created by another run meanwhile with other columns (its: id int, note varchar(200); this run's: amount decimal(10,2), ") {
		t.Fatalf("err = %v, want the other run's version and this run's columns named", err)
	}
	if got := committedFiles(t, inner); len(got) != 0 {
		t.Errorf("%d files committed by the run that lost its schema version", len(got))
	}
	if _, err := ingest.Run(ctx, options(t, kc, inner, base.Add(5*time.Hour))); err != nil {
		t.Fatalf("the next run: %v", err)
	}
	if n := committedCount(t, inner); n != 6000 {
		t.Errorf("%d of 6000 records committed", n)
	}
	if _, err := storage.ReadAll(ctx, inner, warehouse.CatalogVersionKey("orders", 2)); err != nil {
		t.Errorf("the next run added its columns as version 2: %v", err)
	}
}

// racedStore creates its version theirs of a table's schema just before
// the first schema version the run creates, as another run would.
type racedStore struct {
	storage.Store
	theirs []byte
	once   sync.Once
}

func (s *racedStore) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if strings.HasPrefix(key, warehouse.CatalogPrefix) && strings.HasSuffix(key, ".json") {
		s.once.Do(func() {
			if err := s.Store.PutIfAbsent(ctx, key, s.theirs); err != nil {
				panic(err)
			}
		})
	}
	return s.Store.PutIfAbsent(ctx, key, data)
}

// committedCount is how many records the warehouse's commits hold.
func committedCount(t *testing.T, st storage.Store) int {
	n := 0
	for _, offs := range committedOffsets(t, st) {
		n += len(offs)
	}
	return n
}

// sameTableRecords are n inserts into one table over three hours and two
// partitions.
func sameTableRecords(base time.Time, n int) []*kgo.Record {
	var recs []*kgo.Record
	for i := range n {
		es := base.Add(time.Duration(i%3) * time.Hour)
		recs = append(recs, rec(int32(i%2), canalMessage("shop_01", "orders_00", "INSERT", es,
			[]orderRow{{ID: i, Customer: 1, Cents: int64(i), Status: 1, Created: es}}, nil)))
	}
	return recs
}
