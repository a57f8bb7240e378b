package warehouse_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/warehouse"
)

func TestReadManifest(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	d, err := warehouse.ParseDate("2024-03-01")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := warehouse.ReadManifest(ctx, st, "orders", d); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("no manifest: %v, want ErrNotFound", err)
	}
	want := warehouse.Manifest{FormatVersion: warehouse.FormatVersion, Table: "orders", Date: d.String(), Kind: "merge", Rows: 7}
	b, err := warehouse.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, warehouse.SnapshotManifest("orders", d), bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	got, err := warehouse.ReadManifest(ctx, st, "orders", d)
	if err != nil || got.Rows != 7 || got.Kind != "merge" || got.Table != "orders" {
		t.Fatalf("ReadManifest = %+v, %v", got, err)
	}
}
