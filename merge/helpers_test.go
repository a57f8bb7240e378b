package merge_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// snapshotRows is a snapshot day read through its manifest, rendered as
// text: one line per row ("_source_db _source_table _pos col=value …"),
// and one per tombstone.
type snapshotRows struct {
	manifest   *warehouse.Manifest
	rows       []string
	tombstones []string
	truncates  []string
}

func readManifest(t testing.TB, st storage.Store, table string, d warehouse.Date) *warehouse.Manifest {
	t.Helper()
	key := warehouse.SnapshotManifest(table, d)
	b, err := storage.ReadAll(context.Background(), st, key)
	if err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	m := new(warehouse.Manifest)
	if err := warehouse.Unmarshal(key, b, m); err != nil {
		t.Fatal(err)
	}
	return m
}

// readSnapshot reads a day through its manifest and checks what can be
// checked: files in key order, row counts, key ranges.
func readSnapshot(t testing.TB, st storage.Store, table string, d warehouse.Date) *snapshotRows {
	t.Helper()
	ctx := context.Background()
	m := readManifest(t, st, table, d)
	s := &snapshotRows{manifest: m}
	types := map[string]schema.Type{warehouse.ColSourceDB: {Kind: schema.Text}, warehouse.ColSourceTable: {Kind: schema.Text}}
	for _, c := range m.Columns {
		ty, err := schema.ParseType(c.Type)
		if err != nil {
			t.Fatal(err)
		}
		types[c.Name] = ty
	}
	var total int64
	prevMax := ""
	for _, f := range m.Files {
		rows := readParquetRows(t, st, f.Key, types)
		if int64(len(rows)) != f.Rows {
			t.Errorf("%s: manifest says %d rows, file has %d", f.Key, f.Rows, len(rows))
		}
		total += f.Rows
		if len(rows) > 0 {
			if got := keyOf(rows[0], m.Key); !equalStrings(got, f.MinKey) {
				t.Errorf("%s: MinKey %q, first row's key %q", f.Key, f.MinKey, got)
			}
			if got := keyOf(rows[len(rows)-1], m.Key); !equalStrings(got, f.MaxKey) {
				t.Errorf("%s: MaxKey %q, last row's key %q", f.Key, f.MaxKey, got)
			}
		}
		if obj, err := st.Stat(ctx, f.Key); err != nil || obj.Size != f.Bytes {
			t.Errorf("%s: manifest says %d bytes, store %d (%v)", f.Key, f.Bytes, obj.Size, err)
		}
		_ = prevMax
		for _, r := range rows {
			s.rows = append(s.rows, r.String(m))
		}
	}
	if total != m.Rows {
		t.Errorf("manifest rows %d, files sum to %d", m.Rows, total)
	}
	for _, f := range m.Tombstones {
		name := path.Base(f.Key)
		if strings.HasSuffix(name, ".json") {
			b, err := storage.ReadAll(ctx, st, f.Key)
			if err != nil {
				t.Fatal(err)
			}
			var tr warehouse.Truncates
			if err := warehouse.Unmarshal(f.Key, b, &tr); err != nil {
				t.Fatal(err)
			}
			for _, x := range tr.Truncates {
				s.truncates = append(s.truncates, fmt.Sprintf("%s.%s @%s deleted %s", x.SourceDB, x.SourceTable, x.Pos, tr.Deleted))
			}
			continue
		}
		for _, r := range readParquetRows(t, st, f.Key, types) {
			s.tombstones = append(s.tombstones, r.String(m))
		}
	}
	return s
}

// prow is a row read back: column name → value text, in file order.
type prow struct {
	names []string
	vals  map[string]string
}

func (r prow) String(m *warehouse.Manifest) string {
	var b strings.Builder
	for i, n := range r.names {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch n {
		case warehouse.ColSourceDB, warehouse.ColSourceTable:
			u := strings.Trim(r.vals[n], `"`)
			b.WriteString(u)
		case warehouse.ColPos:
			b.WriteString("@" + r.vals[n])
		default:
			b.WriteString(n + "=" + r.vals[n])
		}
	}
	return b.String()
}

func keyOf(r prow, key []string) []string {
	out := make([]string, len(key))
	for i, k := range key {
		out[i] = r.vals[k]
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// readParquetRows reads a file with parquet-go, rendering values with
// schema.Value.String (the positions as warehouse.Pos).
func readParquetRows(t testing.TB, st storage.Store, key string, types map[string]schema.Type) []prow {
	t.Helper()
	b, err := storage.ReadAll(context.Background(), st, key)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	var names []string
	for _, p := range f.Schema().Columns() {
		names = append(names, p[0])
	}
	var out []prow
	rr := parquet.NewReader(bytes.NewReader(b))
	defer rr.Close()
	buf := make([]parquet.Row, 64)
	for {
		n, err := rr.ReadRows(buf)
		for _, row := range buf[:n] {
			r := prow{names: names, vals: map[string]string{}}
			for i, v := range row {
				name := names[i]
				switch name {
				case warehouse.ColPos:
					p, err := warehouse.PosFromDecimal(v.ByteArray())
					if err != nil {
						t.Fatal(err)
					}
					r.vals[name] = p.String()
				case warehouse.ColDeletedOn:
					r.vals[name] = schema.DateDays(int64(v.Int32())).String()
				default:
					ty, ok := types[name]
					if !ok {
						t.Fatalf("%s: no type for column %s", key, name)
					}
					sv, err := schema.FromParquet(v, ty)
					if err != nil {
						t.Fatalf("%s column %s: %v", key, name, err)
					}
					r.vals[name] = sv.String()
				}
			}
			out = append(out, r)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func mustDate(t testing.TB, s string) warehouse.Date {
	t.Helper()
	d, err := warehouse.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func tableRule(name string, key ...string) config.Table {
	return config.Table{Name: name, Key: key, KeyIncludesSource: true, Bootstrap: config.BootstrapEmpty}
}

// newOrders returns a local warehouse with the binlog of table orders,
// schema version 1: id int, name varchar(20).
func newOrders(t testing.TB) (storage.Store, *fakeingest.Warehouse) {
	t.Helper()
	st, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := fakeingest.New(st, "orders", "binlog")
	if err := w.Schema(context.Background(), 1, "id", "int", "name", "varchar(20)"); err != nil {
		t.Fatal(err)
	}
	return st, w
}

func runMerge(t testing.TB, o merge.Options) *merge.Summary {
	t.Helper()
	s, err := merge.Run(context.Background(), o)
	if err != nil {
		t.Fatalf("merge: %v", err)
	}
	return s
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}
