package snapshot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/internal/mariadbtest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// Bad input fails before anything is copied, with an error naming it.
func TestSnapshotRefusesTablesItCannotPage(t *testing.T) {
	srv := mariadbtest.Start(t)
	srv.Exec(t, "CREATE DATABASE shop_0",
		"CREATE TABLE shop_0.orders_0 (id INT NOT NULL, code VARCHAR(10) NULL, v INT, UNIQUE KEY (code))",
		"CREATE TABLE shop_0.orders_1 (id INT NOT NULL PRIMARY KEY, v INT)")
	for _, c := range []struct {
		name, rule, want string
	}{
		{"no primary key, key not unique", "    key: [id]\n", "table shop_0.orders_0: the key [id] of rule orders is not a unique key of NOT NULL columns, and the table has no primary key"},
		{"key not unique", "    key: [v]\n", "the key [v] of rule orders is not a unique key of NOT NULL columns"},
		{"nullable unique key", "    key: [code]\n", "the key [code] of rule orders is not a unique key of NOT NULL columns"},
		{"key not a column", "    key: [nope]\n", "key column nope of rule orders is not a column of it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			y := "    match: '^shop_0\\.orders_\\d$'\n" + c.rule
			cfg := testConfig(t, t.TempDir(), srv, "")
			cfg2, err := parseRule(cfg, srv, y)
			if err != nil {
				t.Fatal(err)
			}
			o := testOptions(t, cfg2)
			_, err = Run(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			if s, _ := readState(context.Background(), o.Store, "orders"); s != nil {
				t.Error("a state was written for a snapshot that cannot run")
			}
		})
	}
	// No binary log position, and the format needs one.
	cfg := testConfig(t, t.TempDir(), srv, "")
	cfg2, err := parseRule(cfg, srv, "    match: '^shop_0\\.orders_1$'\n    key: [id]\n")
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions(t, cfg2)
	o.Position = "start"
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "--position is for the offset-ordered formats") {
		t.Fatalf("--position without canal or rowjson: %v", err)
	}
}

// Shards without rows publish an empty day that a merge can build on.
func TestSnapshotOfEmptyTables(t *testing.T) {
	srv := fixture(t, 0)
	o := testOptions(t, testConfig(t, t.TempDir(), srv, ""))
	s := run(t, o)
	if s.Rows != 0 || s.Shards != fixtureDBs*fixtureTables || s.Chunks != s.Shards {
		t.Fatalf("summary %+v", s)
	}
	b, err := storage.ReadAll(context.Background(), o.Store, warehouse.SnapshotManifest("orders", o.Date))
	if err != nil {
		t.Fatal(err)
	}
	var m warehouse.Manifest
	if err := warehouse.Unmarshal("m", b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Kind != "bootstrap" || m.Rows != 0 || len(m.Files) != 0 || m.SchemaVersion != 1 || len(m.Columns) != len(fixtureColumns) {
		t.Errorf("manifest %+v", m)
	}
}

// --rate bounds the rows read per second over all shards.
func TestSnapshotRate(t *testing.T) {
	srv := fixture(t, 60) // 1440 rows
	o := testOptions(t, testConfig(t, t.TempDir(), srv, ""))
	o.Rate, o.ChunkRows, o.Parallel = 400, 20, 4
	start := time.Now()
	s := run(t, o)
	// A second's worth of rows may go at once; the rest at the rate.
	if min := time.Duration(float64(s.Rows-400) / 400 * float64(time.Second)); time.Since(start) < min {
		t.Errorf("%d rows in %v at --rate 400, want at least %v", s.Rows, time.Since(start), min)
	}
}
