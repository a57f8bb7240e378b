package mariadbtest_test

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/binlake/binlake/internal/mariadbtest"
)

func TestStartCreateInsertRead(t *testing.T) {
	s := mariadbtest.Start(t)
	s.Exec(t,
		"CREATE DATABASE shop_1",
		`CREATE TABLE shop_1.orders_1 (
			id BIGINT UNSIGNED PRIMARY KEY,
			amount DECIMAL(10,2),
			note VARCHAR(100),
			created DATETIME(6),
			updated TIMESTAMP(6) NULL
		)`,
		`INSERT INTO shop_1.orders_1 VALUES
			(18446744073709551615, 12.50, 'héllo 😀', '2024-03-10 02:30:00.123456', '2024-03-10 02:30:00.123456'),
			(1, NULL, NULL, '0000-00-00 00:00:00', NULL)`,
	)
	db := s.DB(t)
	var sessionTZ, charset string
	if err := db.QueryRow("SELECT @@session.time_zone, @@character_set_server").Scan(&sessionTZ, &charset); err != nil {
		t.Fatal(err)
	}
	if sessionTZ != "+00:00" || charset != "utf8mb4" {
		t.Errorf("time_zone %q, character_set_server %q; want +00:00, utf8mb4", sessionTZ, charset)
	}
	rows, err := sql.Open("mysql", s.DSN("shop_1"))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	r, err := rows.Query("SELECT id, amount, note, created, updated FROM orders_1 ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []string
	for r.Next() {
		var id, amount, note, created, updated sql.NullString
		if err := r.Scan(&id, &amount, &note, &created, &updated); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s|%s|%s|%s|%s", show(id), show(amount), show(note), show(created), show(updated)))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1|NULL|NULL|0000-00-00 00:00:00.000000|NULL",
		"18446744073709551615|12.50|héllo 😀|2024-03-10 02:30:00.123456|2024-03-10 02:30:00.123456",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func show(s sql.NullString) string {
	if !s.Valid {
		return "NULL"
	}
	return s.String
}

func TestDSN(t *testing.T) {
	s := &mariadbtest.Server{Host: "127.0.0.1", Port: 3306}
	cfg, err := mysql.ParseDSN(s.DSN("db1"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "root" || cfg.Net != "tcp" || cfg.Addr != "127.0.0.1:3306" || cfg.DBName != "db1" ||
		cfg.ParseTime || cfg.Loc != time.UTC || cfg.Params["time_zone"] != "'+00:00'" {
		t.Errorf("DSN %q parsed as %+v", s.DSN("db1"), cfg)
	}
}

func TestBinlogStatus(t *testing.T) {
	s := mariadbtest.Start(t)
	db := s.DB(t)
	var format, image, logBin string
	if err := db.QueryRow("SELECT @@binlog_format, @@binlog_row_image, @@log_bin").Scan(&format, &image, &logBin); err != nil {
		t.Fatal(err)
	}
	if format != "ROW" || image != "FULL" || logBin != "1" {
		t.Errorf("binlog_format=%s binlog_row_image=%s log_bin=%s", format, image, logBin)
	}
	file1, pos1 := s.BinlogPosition(t)
	if !strings.HasPrefix(file1, "binlog.") || pos1 == 0 {
		t.Errorf("BinlogPosition = %q, %d", file1, pos1)
	}
	s.Exec(t, "CREATE DATABASE d", "CREATE TABLE d.t (id INT PRIMARY KEY)", "INSERT INTO d.t VALUES (1)")
	file2, pos2 := s.BinlogPosition(t)
	if file2 != file1 || pos2 <= pos1 {
		t.Errorf("after writes: %s:%d, before %s:%d", file2, pos2, file1, pos1)
	}
	// Both spellings answer on this server; report which.
	for _, q := range []string{"SHOW BINLOG STATUS", "SHOW MASTER STATUS"} {
		var file, pos, doDB, ignoreDB sql.NullString
		err := db.QueryRow(q).Scan(&file, &pos, &doDB, &ignoreDB)
		t.Logf("%s on %s: file=%s position=%s err=%v", q, s.Version, file.String, pos.String, err)
	}
	var events int
	r, err := db.Query("SHOW BINLOG EVENTS IN '" + file2 + "'")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cols, _ := r.Columns()
	var sawRows bool
	for r.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		events++
		if strings.HasPrefix(vals[2].String, "Write_rows") {
			sawRows = true
		}
	}
	if !sawRows {
		t.Errorf("no Write_rows event among %d binlog events (row-based logging off?)", events)
	}
}

func TestParallelServers(t *testing.T) {
	// Two servers alive at once, independent of each other.
	a, b := mariadbtest.Start(t), mariadbtest.Start(t)
	if a.Port == b.Port || a.DataDir == b.DataDir || a.Socket == b.Socket {
		t.Fatalf("servers share port/datadir/socket: %+v %+v", a, b)
	}
	a.Exec(t, "CREATE DATABASE d", "CREATE TABLE d.t (v INT)", "INSERT INTO d.t VALUES (1)")
	b.Exec(t, "CREATE DATABASE d", "CREATE TABLE d.t (v INT)", "INSERT INTO d.t VALUES (2), (2)")
	for want, s := range map[int]*mariadbtest.Server{1: a, 2: b} {
		var v, n int
		if err := s.DB(t).QueryRow("SELECT MAX(v), COUNT(*) FROM d.t").Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		if v != want || n != want {
			t.Errorf("server on port %d holds v=%d n=%d, want %d and %d", s.Port, v, n, want, want)
		}
	}

	// Three more started concurrently by parallel subtests.
	var mu sync.Mutex
	ports := map[int]string{a.Port: "a", b.Port: "b"}
	t.Run("concurrent", func(t *testing.T) {
		for i := range 3 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				s := mariadbtest.Start(t)
				mu.Lock()
				if other, dup := ports[s.Port]; dup {
					t.Errorf("port %d already used by %s", s.Port, other)
				}
				ports[s.Port] = t.Name()
				mu.Unlock()
				s.Exec(t, "CREATE DATABASE d", fmt.Sprintf("CREATE TABLE d.t%d (v INT)", i))
				var n int
				if err := s.DB(t).QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'd'").Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Errorf("database d holds %d tables, want 1", n)
				}
			})
		}
	})
}

func TestStopAndOptions(t *testing.T) {
	s := mariadbtest.StartWith(t, mariadbtest.Options{ExtraArgs: []string{"--default-time-zone=+08:00"}})
	var global string
	if err := s.DB(t).QueryRow("SELECT @@global.time_zone").Scan(&global); err != nil {
		t.Fatal(err)
	}
	if global != "+08:00" {
		t.Errorf("global time_zone = %q, want +08:00", global)
	}
	start := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped in %.2fs", time.Since(start).Seconds())
	db, _ := sql.Open("mysql", s.DSN("")+"&timeout=1s")
	defer db.Close()
	if err := db.Ping(); err == nil {
		t.Error("server still answers after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}
