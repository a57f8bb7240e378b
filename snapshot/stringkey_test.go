package snapshot

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/internal/mariadbtest"
)

// A composite key led by a case-insensitive string column: keyset
// pagination in the collation's order visits every row once, the
// published files are in byte order, and verify finds them equal, with
// the source columns in the key or (keys unique across the shards) not.
func TestSnapshotCompositeStringKey(t *testing.T) {
	duckdbtest.Require(t)
	t.Run("key includes source", func(t *testing.T) { testSnapshotCompositeStringKey(t, false) })
	t.Run("unique keys", func(t *testing.T) { testSnapshotCompositeStringKey(t, true) })
}

func testSnapshotCompositeStringKey(t *testing.T, unique bool) {
	srv := mariadbtest.Start(t)
	regions := []string{"a", "B", "c", "Ö", "é", "z", "Zebra", "ß", "a b", "😀"}
	// seq of the second shard's rows: 1-15, or 101-115 when unique.
	off := 0
	rule := "    match: '^str_\\d\\.kv$'\n    key: [region, seq]\n"
	if unique {
		off = 100
		rule += "    key_includes_source: false\n"
	}
	var stmts, rows []string
	for i, db := range []string{"str_0", "str_1"} {
		rows = rows[:0]
		for _, r := range regions {
			for seq := 1; seq <= 15; seq++ {
				rows = append(rows, fmt.Sprintf("('%s', %d, 'n')", r, seq+i*off))
			}
		}
		stmts = append(stmts, "CREATE DATABASE "+db,
			"CREATE TABLE "+db+".kv (region VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL, seq INT NOT NULL, note VARCHAR(5), PRIMARY KEY (region, seq))",
			"INSERT INTO "+db+".kv VALUES "+strings.Join(rows, ","))
	}
	srv.Exec(t, stmts...)
	dir := t.TempDir()
	cfg, err := parseRule(testConfig(t, dir, srv, ""), srv, rule)
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions(t, cfg)
	o.ChunkRows = 4
	s := run(t, o)
	want := int64(2 * len(rows))
	if s.Rows != want {
		t.Fatalf("read %d rows, want %d", s.Rows, want)
	}
	glob := duckdbtest.QuoteString(filepath.Join(dir, "snapshot", "orders", "dt=2024-03-01", "*.parquet"))
	res := duckdbtest.Query(t, "SELECT count(*) AS n, count(DISTINCT (_source_db, region, seq)) AS k FROM read_parquet("+glob+")")
	if res.Text(0, "n") != fmt.Sprint(want) || res.Text(0, "k") != fmt.Sprint(want) {
		t.Fatalf("published %s rows, %s distinct keys, want %d", res.Text(0, "n"), res.Text(0, "k"), want)
	}
	rep, err := Verify(context.Background(), VerifyOptions{Store: o.Store, Config: cfg, Table: "orders", ChunkRows: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Equal() {
		t.Fatalf("verify: %s %v", rep.Line(), rep.Keys)
	}

	// Keys compared by the snapshot side held in memory find each kind
	// of difference.
	srv.Exec(t, "UPDATE str_0.kv SET note = 'x' WHERE region = 'Zebra' AND seq = 3",
		fmt.Sprintf("DELETE FROM str_1.kv WHERE region = 'ß' AND seq = %d", 7+off),
		fmt.Sprintf("INSERT INTO str_1.kv VALUES ('new', %d, 'n')", 1+off))
	rep, err = Verify(context.Background(), VerifyOptions{Store: o.Store, Config: cfg, Table: "orders", ChunkRows: 4})
	if err != nil {
		t.Fatal(err)
	}
	got := differences(rep)
	wantKeys := []string{`changed str_0.kv ["Zebra" 3]`, fmt.Sprintf(`only_in_snapshot str_1.kv ["ß" %d]`, 7+off), fmt.Sprintf(`only_in_source str_1.kv ["new" %d]`, 1+off)}
	if rep.Differences != 3 || !slices.Equal(got, wantKeys) {
		t.Errorf("verify found %d differences %q, want %q", rep.Differences, got, wantKeys)
	}
}
