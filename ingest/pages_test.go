package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/mem"
)

// dictRow is the dictionary-encoded columns of a binlog row and its
// offset.
type dictRow struct {
	Op     string `parquet:"_op"`
	DB     string `parquet:"_source_db"`
	Table  string `parquet:"_source_table"`
	Topic  string `parquet:"_kafka_topic"`
	Offset int64  `parquet:"_kafka_offset"`
}

// The pages of a dictionary-encoded column end every ingest.DictPageRows
// rows (before parquet-go's buffer of their indexes would grow), those of
// the other columns at parquet-go's page size, and the file holds every
// row's values.
func TestDictionaryPagesEndEveryDictPageRows(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 1)
	es := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	const n = 2*ingest.DictPageRows + 1000
	ops := []string{"INSERT", "DELETE"}
	want := make([]dictRow, n)
	var recs []*kgo.Record
	for i := range n {
		want[i] = dictRow{Op: strings.ToLower(ops[i%2]), DB: fmt.Sprintf("shop_%02d", i%3), Table: fmt.Sprintf("orders_%02d", i%7), Topic: topic, Offset: int64(i)}
		recs = append(recs, rec(0, canalMessage(want[i].DB, want[i].Table, ops[i%2], es, []orderRow{{ID: i, Customer: 1, Cents: int64(i), Status: 1, Created: es}}, nil)))
	}
	produce(t, kc, recs...)
	st := mem.New()
	if _, err := ingest.Run(ctx, options(t, kc, st, es.Add(2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	files := committedFiles(t, st)
	if len(files) != 1 {
		t.Fatalf("%d files, want 1", len(files))
	}
	b, err := storage.ReadAll(ctx, st, files[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	dictCols := 0
	for i, leaf := range f.Schema().Columns() {
		meta := f.Metadata().RowGroups[0].Columns[i].MetaData
		dict := meta.DictionaryPageOffset != 0
		for _, e := range meta.Encoding {
			dict = dict || e == format.RLEDictionary
		}
		locs := f.OffsetIndexes()[i].PageLocations
		var rows []int64
		for p := range locs {
			end := int64(n)
			if p+1 < len(locs) {
				end = locs[p+1].FirstRowIndex
			}
			rows = append(rows, end-locs[p].FirstRowIndex)
		}
		if dict {
			dictCols++
			if len(rows) != 3 || rows[0] != ingest.DictPageRows || rows[1] != ingest.DictPageRows {
				t.Errorf("dictionary column %v: pages of %v rows, want two of %d and the rest", leaf, rows, ingest.DictPageRows)
			}
		} else if len(rows) > 2 {
			t.Errorf("column %v: pages of %v rows, want at most two (parquet-go's page size)", leaf, rows)
		}
	}
	if dictCols != 4 {
		t.Errorf("%d dictionary-encoded columns, want 4 (_op, _source_db, _source_table, _kafka_topic)", dictCols)
	}
	got, err := parquet.Read[dictRow](bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d rows, want %d", len(got), n)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
