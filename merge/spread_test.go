package merge_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/warehouse"
)

// TestSpreadUpdatesInLargeRowGroups updates a random half of a day's
// rows, some twice, and rewrites row groups of thousands of rows: the
// runs of change rows are a row or two long, between runs of base rows,
// so the rewritten columns take the change values from blocks decoded
// ahead (hundreds of rows), runs cross from one block to the next, and
// batches of values fill up in the middle of them. Every row must have
// its last change's values and _pos, or its day-1 ones.
func TestSpreadUpdatesInLargeRowGroups(t *testing.T) {
	ctx := context.Background()
	d1, d2 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02")
	const n = 6000
	st, _, w := ordersWarehouse(t, n, d1)
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d1
	o.RowGroupRows = 5000
	runMerge(t, o)

	// want[id] is the row as read back: day 1's insert
	// (ordersWarehouse), then its last update.
	want := make([]string, n)
	row := func(id int64, pos warehouse.Pos, name, amount string) string {
		return fmt.Sprintf("id=%d @%s name=%s amount=%s", id, pos, name, amount)
	}
	for id := range int64(n) {
		r := orderRow("insert", id+1, id, fmt.Sprintf("n%d", id))
		want[id] = row(id, r.Pos, r.Values[1].String(), r.Values[2].String())
	}
	rng := rand.New(rand.NewPCG(21, 22))
	ids := rng.Perm(n)[:n/2]
	ids = append(ids, ids[:n/10]...) // updated twice
	var rows []fakeingest.Row
	ev := time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC)
	for k, id := range ids {
		pos := int64(100_000 + k)
		name, amount := schema.StringValue(fmt.Sprintf("u%d", k)), schema.DecimalValue(fmt.Sprintf("%d.%02d", k, k%100))
		rows = append(rows, fakeingest.Row{Op: "update", Pos: warehouse.Pos{Offset: pos}, Event: ev, DB: "shop", Table: "orders_0",
			Values: []schema.Value{schema.IntValue(int64(id)), name, amount}})
		want[id] = row(int64(id), warehouse.Pos{Offset: pos}, name.String(), amount.String())
	}
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d2, Hour: 10}, Version: 1, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	o.Date = d2
	s := runMerge(t, o)
	if s.RowGroupsRewritten != 2 || s.Updated != n/2 || s.RowsOut != n {
		t.Errorf("row groups rewritten %d, updated %d, rows out %d; want 2, %d, %d", s.RowGroupsRewritten, s.Updated, s.RowsOut, n/2, n)
	}
	m := readManifest(t, st, "orders", d2)
	types := map[string]schema.Type{warehouse.ColSourceDB: {Kind: schema.Text}, warehouse.ColSourceTable: {Kind: schema.Text}}
	for _, c := range m.Columns {
		ty, err := schema.ParseType(c.Type)
		if err != nil {
			t.Fatal(err)
		}
		types[c.Name] = ty
	}
	var got []string
	for _, f := range m.Files {
		for _, r := range readParquetRows(t, st, f.Key, types) {
			got = append(got, fmt.Sprintf("id=%s @%s name=%s amount=%s", r.vals["id"], r.vals[warehouse.ColPos], r.vals["name"], r.vals["amount"]))
		}
	}
	if len(got) != n {
		t.Fatalf("%d rows, want %d", len(got), n)
	}
	bad := 0
	for i := range got {
		if got[i] != want[i] {
			if bad++; bad <= 10 {
				t.Errorf("row %d: %s, want %s", i, got[i], want[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d rows differ", bad, n)
	}
}
