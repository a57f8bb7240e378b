package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

const topic = "binlog_shop"

// startKafka starts an in-process Kafka with one topic.
func startKafka(t *testing.T, partitions int32) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// produce writes values to given partitions of the topic.
func produce(t *testing.T, c *kfake.Cluster, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func rec(partition int32, value []byte) *kgo.Record {
	return &kgo.Record{Partition: partition, Value: value}
}

func options(t *testing.T, c *kfake.Cluster, st storage.Store, now time.Time) ingest.Options {
	o := ingest.DefaultOptions()
	o.Store = st
	o.Kafka = &config.Kafka{
		Brokers: c.ListenAddrs(),
		Topics:  []string{topic},
		Format:  config.FormatCanal,
		Start:   config.StartEarliest,
	}
	o.Tables = []config.Table{{
		Name:              "orders",
		Match:             regexp.MustCompile(`^shop_\d+\.orders_\d+$`),
		Key:               []string{"id"},
		KeyIncludesSource: true,
		Bootstrap:         config.BootstrapEmpty,
	}}
	o.Now = func() time.Time { return now }
	// Long: a run that idles stops short (nothing is lost), and a test
	// under the race detector on a busy machine can wait seconds for a
	// fetch.
	o.IdleTimeout = 30 * time.Second
	o.Log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	return o
}

func strp(s string) *string { return &s }

// committedFiles lists the binlog files the commit records of the
// warehouse name.
func committedFiles(t *testing.T, st storage.Store) []warehouse.CommitFile {
	t.Helper()
	var files []warehouse.CommitFile
	for _, c := range allCommits(t, st) {
		files = append(files, c.Files...)
	}
	return files
}

// committedOffsets returns the Kafka offsets of the committed rows by
// partition, sorted, and fails on any committed twice.
func committedOffsets(t *testing.T, st storage.Store) map[int32][]int64 {
	t.Helper()
	out := map[int32][]int64{}
	for _, f := range committedFiles(t, st) {
		for _, r := range readMeta(t, st, f.Key) {
			out[r.Partition] = append(out[r.Partition], r.Offset)
		}
	}
	for p, offs := range out {
		slices.Sort(offs)
		for i := 1; i < len(offs); i++ {
			if offs[i] == offs[i-1] {
				t.Fatalf("partition %d offset %d committed twice", p, offs[i])
			}
		}
	}
	return out
}

func TestIngestCanal(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 3)
	dir := t.TempDir()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	created := time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.UTC)
	produce(t, kc,
		rec(0, canalMessage("shop_01", "orders_00", "INSERT", base.Add(1*time.Minute), []orderRow{
			{ID: 1, Customer: 18446744073709551615, Cents: 1999, Status: 1, Note: strp("first 🎉"), Created: created},
			{ID: 2, Customer: 7, Cents: -5, Status: 2, Created: created},
		}, nil)),
		rec(1, canalMessage("shop_02", "orders_03", "INSERT", base.Add(2*time.Minute), []orderRow{
			{ID: 1, Customer: 8, Cents: 100, Status: 3, Created: created},
		}, nil)),
		rec(0, canalMessage("shop_01", "orders_00", "UPDATE", base.Add(61*time.Minute), []orderRow{
			{ID: 10, Customer: 18446744073709551615, Cents: 1999, Status: 2, Note: strp("first 🎉"), Created: created},
		}, []map[string]*string{{"id": strp("1"), "status": strp("1")}})),
		rec(0, canalMessage("shop_01", "orders_00", "DELETE", base.Add(62*time.Minute), []orderRow{
			{ID: 2, Customer: 7, Cents: -5, Status: 2, Created: created},
		}, nil)),
		rec(1, canalMessage("other", "users", "INSERT", base.Add(3*time.Minute), []orderRow{{ID: 5}}, nil)),
		rec(1, []byte(`{"not": "canal"}`)),
		// A message whose second row cannot be decoded: its first row,
		// decoded already, must not be written either.
		rec(1, bytes.Replace(canalMessage("shop_02", "orders_03", "INSERT", base.Add(4*time.Minute), []orderRow{
			{ID: 2, Customer: 9, Cents: 200, Status: 1, Created: created},
			{ID: 3, Customer: 9, Cents: 300, Status: 1, Created: created},
		}, nil), []byte(`"id":"3"`), []byte(`"id":{}`), 1)),
		rec(1, canalMessage("shop_02", "orders_03", "INSERT", base.Add(5*time.Minute), []orderRow{
			{ID: 4, Customer: 9, Cents: 400, Status: 1, Created: created},
		}, nil)),
	)
	o := options(t, kc, st, base.Add(3*time.Hour))
	o.MaxDLQRatio = 0.5
	var last ingest.Progress
	o.Progress = func(p ingest.Progress) { last = p }
	sum, err := ingest.Run(ctx, o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Logf("summary: %s", sum.Line())
	if last.Records != 8 || last.Total != 8 || last.Rows != 7 {
		t.Errorf("last progress report: %+v", last)
	}
	if sum.Records != 8 || sum.Rows["orders"] != 7 || sum.DLQ != 2 || sum.Skipped["no-table-rule"] != 1 {
		t.Errorf("summary: records %d rows %v dlq %d skipped %v", sum.Records, sum.Rows, sum.DLQ, sum.Skipped)
	}
	if len(sum.Unmatched) != 1 || sum.Unmatched["other.users"] != 1 {
		t.Errorf("summary: unmatched tables %v, want other.users once", sum.Unmatched)
	}

	files := committedFiles(t, st)
	var paths []string
	for _, f := range files {
		paths = append(paths, "'"+filepath.Join(dir, f.Key)+"'")
	}
	slices.Sort(paths)
	if len(files) != 3 {
		t.Fatalf("want 3 files (p0 hour 10, p0 hour 11, p1 hour 10), got %d: %v", len(files), paths)
	}
	res := duckdbtest.Query(t, fmt.Sprintf(`SELECT _op, _pos::VARCHAR AS pos, _event_time, _source_db, _source_table, _kafka_partition, _kafka_offset, _late,
		id, customer_id, amount, status, note, created_at
		FROM read_parquet([%s]) ORDER BY _kafka_partition, _kafka_offset, _pos`, strings.Join(paths, ",")))
	got := res.String()
	t.Logf("rows:\n%s", got)
	for _, f := range files {
		checkBounds(t, st, f.Key)
	}
	types := duckdbtest.DescribeParquet(t, filepath.Join(dir, files[0].Key))
	wantTypes := map[string]string{
		"_op": "VARCHAR", "_pos": "DECIMAL(38,0)", "_event_time": "TIMESTAMP WITH TIME ZONE",
		"_kafka_partition": "INTEGER", "_kafka_offset": "BIGINT", "_late": "BOOLEAN",
		"id": "INTEGER", "customer_id": "DECIMAL(20,0)", "amount": "DECIMAL(10,2)",
		"status": "VARCHAR", "note": "VARCHAR", "created_at": "TIMESTAMP",
	}
	for col, want := range wantTypes {
		if types[col] != want {
			t.Errorf("column %s: DuckDB type %s, want %s", col, types[col], want)
		}
	}
	want := [][]string{
		{"insert", "0", "2024-03-01T10:01:00.000000+00:00", "shop_01", "orders_00", "0", "0", "false", "1", "18446744073709551615", "19.99", "new", "first 🎉", "2024-02-29T23:59:59.123456"},
		{"insert", "1", "2024-03-01T10:01:00.000000+00:00", "shop_01", "orders_00", "0", "0", "false", "2", "7", "-0.05", "paid", "", "2024-02-29T23:59:59.123456"},
		{"delete", "1000000000", "2024-03-01T11:01:00.000000+00:00", "shop_01", "orders_00", "0", "1", "false", "1", "18446744073709551615", "19.99", "new", "first 🎉", "2024-02-29T23:59:59.123456"},
		{"update", "1000000000", "2024-03-01T11:01:00.000000+00:00", "shop_01", "orders_00", "0", "1", "false", "10", "18446744073709551615", "19.99", "paid", "first 🎉", "2024-02-29T23:59:59.123456"},
		{"delete", "2000000000", "2024-03-01T11:02:00.000000+00:00", "shop_01", "orders_00", "0", "2", "false", "2", "7", "-0.05", "paid", "", "2024-02-29T23:59:59.123456"},
		{"insert", "0", "2024-03-01T10:02:00.000000+00:00", "shop_02", "orders_03", "1", "0", "false", "1", "8", "1.00", "shipped", "", "2024-02-29T23:59:59.123456"},
		{"insert", "4000000000", "2024-03-01T10:05:00.000000+00:00", "shop_02", "orders_03", "1", "4", "false", "4", "9", "4.00", "new", "", "2024-02-29T23:59:59.123456"},
	}
	if len(res.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(res.Rows), len(want))
	}
	for i, w := range want {
		for j, cell := range w {
			g := res.Rows[i][j]
			gs := ""
			if g != nil {
				gs = *g
			}
			if gs != cell {
				t.Errorf("row %d column %s: got %q, want %q", i, res.Columns[j].Name, gs, cell)
			}
		}
	}

	// A second run with nothing new commits nothing twice and reads from
	// where the first stopped.
	sum2, err := ingest.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Records != 0 {
		t.Errorf("second run read %d records again", sum2.Records)
	}
	if got := len(committedFiles(t, st)); got != 3 {
		t.Errorf("after the second run: %d files", got)
	}
}

// checkBounds checks that a file keeps the bounds readers prune by, which
// its page headers leave out: every column chunk's statistics and every
// page's entry in the column index hold a min and a max unless all its
// values are NULL.
func checkBounds(t *testing.T, st storage.Store, path string) {
	t.Helper()
	b, err := storage.ReadAll(context.Background(), st, path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	leaves := f.Schema().Columns()
	indexes := f.ColumnIndexes()
	for g, rg := range f.Metadata().RowGroups {
		for c, cc := range rg.Columns {
			name := strings.Join(leaves[c], ".")
			st := cc.MetaData.Statistics
			if st.NullCount < cc.MetaData.NumValues && (st.MinValue == nil || st.MaxValue == nil) {
				t.Errorf("%s: row group %d column %s: no min and max in the chunk's statistics", path, g, name)
			}
			k := g*len(rg.Columns) + c
			if k >= len(indexes) {
				t.Fatalf("%s: no column index for row group %d column %s", path, g, name)
			}
			ci := indexes[k]
			if len(ci.NullPages) == 0 {
				t.Errorf("%s: row group %d column %s: empty column index", path, g, name)
			}
			for p, null := range ci.NullPages {
				if !null && (ci.MinValues[p] == nil || ci.MaxValues[p] == nil) {
					t.Errorf("%s: row group %d column %s page %d: no min and max in the column index", path, g, name, p)
				}
			}
		}
	}
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
