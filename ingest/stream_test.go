package ingest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// Files large enough to be compressed while they grow (their encoders run
// during the read) are finished at their size cap and when the memory
// budget needs room; the budget holds, the files of one table-hour and
// partition cover consecutive offsets, and DuckDB reads every record back
// exactly once.
func TestLargeFilesStreamed(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 2)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	const n = 40000
	var recs []*kgo.Record
	for i := range n {
		es := base.Add(time.Duration(i%3) * time.Hour)
		recs = append(recs, rec(int32(i%2), canalMessage("shop_01", "orders_00", "INSERT", es,
			[]orderRow{{ID: i, Customer: 1, Cents: int64(i), Status: 1, Note: strp(fmt.Sprintf("note %d", i)), Created: es}}, nil)))
	}
	produce(t, kc, recs...)
	dir := t.TempDir()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := options(t, kc, st, base.Add(5*time.Hour))
	const budget = 16 << 20
	o.MemoryBudget, o.MaxFileSize = budget, 5<<20
	sum, err := ingest.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.PeakBuffered > budget+4096 {
		t.Errorf("peak buffered %d bytes, budget %d", sum.PeakBuffered, budget)
	}
	files := committedFiles(t, st)
	if len(files) <= 6 {
		t.Errorf("%d files for 6 table-hour-partitions: none was finished early", len(files))
	}
	// A file of more than 4096 rows (when ingest starts a file's encoder)
	// had an encoder while it grew.
	if !slices.ContainsFunc(files, func(f warehouse.CommitFile) bool { return f.Rows > 4096 }) {
		t.Error("no file grew past one chunk of rows")
	}
	// Per table-hour and partition, the files' offset ranges follow one
	// another.
	byPart := map[string][]warehouse.CommitFile{}
	var paths []string
	for _, f := range files {
		k := f.Hour + "/" + strings.Split(filepath.Base(f.Key), "-")[1]
		byPart[k] = append(byPart[k], f)
		paths = append(paths, "'"+filepath.Join(dir, f.Key)+"'")
	}
	for k, fs := range byPart {
		slices.SortFunc(fs, func(a, b warehouse.CommitFile) int { return int(a.FirstOffset - b.FirstOffset) })
		for i := 1; i < len(fs); i++ {
			if fs[i].FirstOffset <= fs[i-1].LastOffset {
				t.Errorf("%s: files %s and %s overlap", k, fs[i-1].Key, fs[i].Key)
			}
		}
	}
	res := duckdbtest.Query(t, fmt.Sprintf(`SELECT count(*), count(DISTINCT (_kafka_partition, _kafka_offset)), count(DISTINCT id), sum(amount)
		FROM read_parquet([%s])`, strings.Join(paths, ",")))
	got := make([]string, 4)
	for i, v := range res.Rows[0] {
		got[i] = *v
	}
	// sum(amount) = sum of i cents for i < n.
	want := []string{fmt.Sprint(n), fmt.Sprint(n), fmt.Sprint(n), fmt.Sprintf("%d.%02d", n*(n-1)/2/100, n*(n-1)/2%100)}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("count, distinct offsets, distinct ids, sum(amount) = %v, want %v", got, want)
	}
	t.Logf("%d files, peak buffered %d bytes (budget %d)", len(files), sum.PeakBuffered, budget)
}

// Files of row counts around the sizes where ingest hands rows to an
// encoder (chunks of 512 rows; a file's own encoder from 4096 rows on) hold
// every row once and in offset order, whether the flusher's workers or the
// file's own encoder wrote them.
func TestFileRowsAroundChunkSizes(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 1)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	sizes := []int{1, 511, 512, 513, 1500, 4095, 4096, 4097, 6000}
	var recs []*kgo.Record
	for h, n := range sizes {
		es := base.Add(time.Duration(h) * time.Hour)
		for range n {
			i := len(recs)
			recs = append(recs, rec(0, canalMessage("shop_01", "orders_00", "INSERT", es,
				[]orderRow{{ID: i, Customer: 1, Cents: int64(i), Status: 1, Created: es}}, nil)))
		}
	}
	produce(t, kc, recs...)
	st, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(ctx, options(t, kc, st, base.Add(time.Duration(len(sizes)+1)*time.Hour))); err != nil {
		t.Fatal(err)
	}
	files := committedFiles(t, st)
	if len(files) != len(sizes) {
		t.Fatalf("%d files, want one for each of %d hours", len(files), len(sizes))
	}
	slices.SortFunc(files, func(a, b warehouse.CommitFile) int { return int(a.FirstOffset - b.FirstOffset) })
	var next int64
	for i, f := range files {
		rows := readMeta(t, st, f.Key)
		if len(rows) != sizes[i] || f.Rows != int64(sizes[i]) {
			t.Errorf("%s: %d rows (commit says %d), want %d", f.Key, len(rows), f.Rows, sizes[i])
		}
		for _, r := range rows {
			if r.Offset != next {
				t.Fatalf("%s: row of offset %d where %d was next", f.Key, r.Offset, next)
			}
			next++
		}
	}
}
