package merge_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/warehouse"
)

// TestSourceKeysAcrossBatches merges a change file of thousands of rows
// (many batches, pages and row groups) whose source tables change in runs
// of random length, some across batch boundaries: every source table has
// the same ids, so a change given another row's source in its key would
// replace that row. Every row must come out, in key order.
func TestSourceKeysAcrossBatches(t *testing.T) {
	st, w := newOrders(t)
	d := mustDate(t, "2024-03-01")
	ev := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(11, 12))
	srcs := [][2]string{{"shop", "orders_0"}, {"shop", "orders_1"}, {"shop_b", "orders_0"}, {"s", "orders_00"}}
	const ids = 1500
	next := make([]int, len(srcs)) // each source's next id
	var rows []fakeingest.Row
	var want []string
	for len(rows) < ids*len(srcs) {
		s := rng.IntN(len(srcs))
		for range 1 + rng.IntN(600) {
			if next[s] == ids {
				break
			}
			id := next[s]
			next[s]++
			rows = append(rows, fakeingest.Row{Op: "insert", Pos: warehouse.Pos{Offset: int64(100 + len(rows))}, Event: ev,
				DB: srcs[s][0], Table: srcs[s][1], Values: []schema.Value{schema.IntValue(int64(id)), schema.StringValue("n")}})
			want = append(want, fmt.Sprintf("%s %s id=%d", srcs[s][0], srcs[s][1], id))
		}
	}
	if _, err := w.Commit(context.Background(), 0, fakeingest.File{Hour: warehouse.Hour{Date: d, Hour: 10}, Version: 1, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d
	o.RowGroupRows = 1000
	runMerge(t, o)
	var got []string
	for _, r := range readSnapshot(t, st, "orders", d).rows {
		f := strings.Fields(r)
		i := slices.IndexFunc(f, func(s string) bool { return strings.HasPrefix(s, "id=") })
		if len(f) < 4 || i < 0 {
			t.Fatalf("row %q: no source or id", r)
		}
		got = append(got, f[1]+" "+f[2]+" "+f[i]) // after _pos
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	// In key order: source database, table, then id.
	slices.SortFunc(want, func(a, b string) int {
		fa, fb := strings.Fields(a), strings.Fields(b)
		if c := strings.Compare(fa[0]+"\x00"+fa[1], fb[0]+"\x00"+fb[1]); c != 0 {
			return c
		}
		x, _ := strconv.Atoi(strings.TrimPrefix(fa[2], "id="))
		y, _ := strconv.Atoi(strings.TrimPrefix(fb[2], "id="))
		return x - y
	})
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d: %s, want %s", i, got[i], want[i])
		}
	}
}
