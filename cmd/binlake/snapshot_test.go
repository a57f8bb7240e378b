package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/binlake/binlake/internal/mariadbtest"
)

// snapshotSource starts a server with two shards of orders (ids
// colliding) and writes a configuration reading it.
func snapshotSource(t *testing.T) (*mariadbtest.Server, string) {
	t.Helper()
	srv := mariadbtest.Start(t)
	var stmts []string
	for _, db := range []string{"shop_0", "shop_1"} {
		stmts = append(stmts, "CREATE DATABASE "+db,
			"CREATE TABLE "+db+".orders_0 (id INT NOT NULL PRIMARY KEY, note VARCHAR(20), amount DECIMAL(10,2), updated TIMESTAMP(6) NULL)")
		var rows []string
		for i := 1; i <= 50; i++ {
			rows = append(rows, fmt.Sprintf("(%d, 'n%d', %d.25, '2020-01-01 00:00:00')", i, i, i))
		}
		stmts = append(stmts, "INSERT INTO "+db+".orders_0 VALUES "+strings.Join(rows, ","))
	}
	srv.Exec(t, stmts...)
	cfg := writeConfig(t, "warehouse: "+filepath.Join(t.TempDir(), "wh")+`
sources:
  rds1: {dsn: 'root@tcp(`+srv.Addr()+`)/'}
tables:
  - name: orders
    match: '^shop_\d+\.orders_\d+$'
    key: [id]
`)
	return srv, cfg
}

func TestVerifyFindsARowChangedBehindBinlakesBack(t *testing.T) {
	srv, cfg := snapshotSource(t)
	if code, _, errs := invoke(t, nil, "snapshot", "--config", cfg, "--table", "orders", "--date", "2024-03-01", "--chunk-rows", "7"); code != exitOK {
		t.Fatalf("snapshot: exit %d\n%s", code, errs)
	}
	if code, out, errs := invoke(t, nil, "verify", "--config", cfg, "--table", "orders", "--chunk-rows", "7"); code != exitOK {
		t.Fatalf("verify of an untouched source: exit %d\n%s%s", code, out, errs)
	}

	// Behind binlake's back: a changed value, a new row, a deleted row.
	srv.Exec(t, "UPDATE shop_1.orders_0 SET amount = 99.99 WHERE id = 17",
		"INSERT INTO shop_0.orders_0 VALUES (1000, 'new', 1, '2020-01-01')",
		"DELETE FROM shop_0.orders_0 WHERE id = 3")
	code, out, errs := invoke(t, nil, "verify", "--config", cfg, "--table", "orders", "--chunk-rows", "7")
	if code != exitFailed {
		t.Fatalf("verify after changes: exit %d, want %d\n%s%s", code, exitFailed, out, errs)
	}
	for _, want := range []string{"changed\tshop_1.orders_0\t[17]", "only_in_source\tshop_0.orders_0\t[1000]", "only_in_snapshot\tshop_0.orders_0\t[3]"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, "3 keys differ") {
		t.Errorf("summary line: %s", errs)
	}

	// With --updated-column, a change stamped after the snapshot started
	// is expected; the ones stamped before are not.
	srv.Exec(t, "UPDATE shop_1.orders_0 SET amount = 1.5, updated = NOW(6) + INTERVAL 1 HOUR WHERE id = 20")
	code, out, errs = invoke(t, nil, "verify", "--config", cfg, "--table", "orders", "--updated-column", "updated")
	if code != exitFailed || !strings.Contains(out, "expected_changed\tshop_1.orders_0\t[20]") || !strings.Contains(out, "changed\tshop_1.orders_0\t[17]") {
		t.Fatalf("verify --updated-column: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, "3 keys differ") || !strings.Contains(errs, "1 changed after the cut-off") {
		t.Errorf("summary line: %s", errs)
	}

	// Put the source back as the snapshot has it: equal again.
	srv.Exec(t, "UPDATE shop_1.orders_0 SET amount = 17.25 WHERE id = 17",
		"UPDATE shop_1.orders_0 SET amount = 20.25, updated = '2020-01-01' WHERE id = 20",
		"DELETE FROM shop_0.orders_0 WHERE id = 1000",
		"INSERT INTO shop_0.orders_0 VALUES (3, 'n3', 3.25, '2020-01-01')")
	if code, out, errs := invoke(t, nil, "verify", "--config", cfg, "--table", "orders"); code != exitOK {
		t.Fatalf("verify of a restored source: exit %d\n%s%s", code, out, errs)
	}
}
