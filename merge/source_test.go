package merge_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// TestSourceKeysAcrossBatches merges a change file of thousands of rows
// (many batches, pages and row groups) whose source tables change in runs
// of random length, some across batch and page boundaries: every source
// table has the same ids, so a change given another row's source in its
// key would replace that row. Every row must come out, in key order. A
// row group starts with another source than the last one's, so their
// dictionaries list the sources in different orders, and ends with a page
// of one row. So it must too when the source columns are PLAIN-encoded:
// their values then lie in page buffers that parquet-go recycles once a
// row group is read, the last value of a row group at the start of its
// buffer as the next one's first value is.
func TestSourceKeysAcrossBatches(t *testing.T) {
	t.Run("dictionary", func(t *testing.T) { testSourceKeysAcrossBatches(t, false) })
	t.Run("plain", func(t *testing.T) { testSourceKeysAcrossBatches(t, true) })
}

func testSourceKeysAcrossBatches(t *testing.T, plain bool) {
	st, w := newOrders(t)
	d := mustDate(t, "2024-03-01")
	h := warehouse.Hour{Date: d, Hour: 10}
	ev := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(11, 12))
	srcs := [][2]string{{"shop", "orders_0"}, {"shop", "orders_1"}, {"shop_b", "orders_0"}, {"s", "orders_00"}}
	const ids, pageRows, rgRows = 1500, 100, 7*100 + 1
	next := make([]int, len(srcs)) // each source's next id
	var rows []fakeingest.Row
	var want []string
	last := -1 // the source of the last row
	for len(rows) < ids*len(srcs) {
		// A row group starts with another source than the last row's,
		// unless only that one has ids left.
		var open []int
		for s := range srcs {
			if next[s] < ids && (s != last || len(rows)%rgRows != 0) {
				open = append(open, s)
			}
		}
		if len(open) == 0 {
			open = append(open, last)
		}
		s := open[rng.IntN(len(open))]
		for range 1 + rng.IntN(600) {
			if next[s] == ids {
				break
			}
			id := next[s]
			next[s]++
			rows = append(rows, fakeingest.Row{Op: "insert", Pos: warehouse.Pos{Offset: int64(100 + len(rows))}, Event: ev,
				DB: srcs[s][0], Table: srcs[s][1], Values: []schema.Value{schema.IntValue(int64(id)), schema.StringValue("n")}})
			want = append(want, fmt.Sprintf("%s %s id=%d", srcs[s][0], srcs[s][1], id))
			last = s
			if len(rows)%rgRows == 0 {
				break
			}
		}
	}
	f := fakeingest.File{Hour: h, Version: 1, Rows: rows, RowGroupRows: rgRows, PageRows: pageRows, PlainSource: plain}
	if _, err := w.Commit(context.Background(), 0, f); err != nil {
		t.Fatal(err)
	}
	// The file is as described.
	groups := sourceTablePages(t, st, warehouse.BinlogDir("orders", h))
	if n := (len(rows) + rgRows - 1) / rgRows; len(groups) != n {
		t.Fatalf("%d row groups, want %d", len(groups), n)
	}
	orders := map[string]bool{}
	for i, g := range groups {
		n := min(rgRows, len(rows)-i*rgRows)
		if want := (n + pageRows - 1) / pageRows; g.pages != want {
			t.Errorf("row group %d: %d pages of %s, want %d", i, g.pages, warehouse.ColSourceTable, want)
		}
		if (g.dict == nil) != plain {
			t.Errorf("row group %d: dictionary %q of %s", i, g.dict, warehouse.ColSourceTable)
		}
		orders[strings.Join(g.dict, " ")] = true
	}
	if !plain && len(orders) < 2 {
		t.Errorf("the dictionaries of %s list the sources in one order: %v", warehouse.ColSourceTable, orders)
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

// rowGroupPages is what sourceTablePages says of a row group.
type rowGroupPages struct {
	pages int
	dict  []string // the dictionary's values in order; nil: none
}

// sourceTablePages returns, for each row group of the one file under
// prefix, the pages and dictionary of its _source_table column.
func sourceTablePages(t *testing.T, st storage.Store, prefix string) []rowGroupPages {
	t.Helper()
	ctx := context.Background()
	var keys []string
	if err := st.List(ctx, prefix, func(o storage.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("files under %s: %q", prefix, keys)
	}
	b, err := storage.ReadAll(ctx, st, keys[0])
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	leaf, ok := f.Schema().Lookup(warehouse.ColSourceTable)
	if !ok {
		t.Fatalf("%s: no %s column", keys[0], warehouse.ColSourceTable)
	}
	var out []rowGroupPages
	for _, rg := range f.RowGroups() {
		var g rowGroupPages
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := p.Dictionary(); d != nil && g.dict == nil {
				for i := range d.Len() {
					g.dict = append(g.dict, d.Index(int32(i)).String())
				}
			}
			g.pages++
			parquet.Release(p)
		}
		pages.Close()
		out = append(out, g)
	}
	return out
}
