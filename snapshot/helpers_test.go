package snapshot

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/internal/mariadbtest"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// The sharded fixture: shop_0 … shop_2, each with orders_0 … orders_7,
// ids colliding across shards, every type of DESIGN.md §7.
const (
	fixtureDBs    = 3
	fixtureTables = 8
)

const fixtureDDL = `CREATE TABLE %s (
	id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
	amount DECIMAL(12,2),
	ratio FLOAT,
	score DOUBLE,
	created DATETIME(6),
	updated TIMESTAMP(6) NULL DEFAULT NULL,
	day DATE,
	dur TIME(3),
	yr YEAR,
	doc JSON,
	status ENUM('new','paid','shipped'),
	tags SET('a','b','c'),
	payload BLOB,
	flag BIT(1),
	bits BIT(8),
	note VARCHAR(100) CHARACTER SET utf8mb4,
	tiny TINYINT,
	small SMALLINT,
	med MEDIUMINT UNSIGNED,
	num INT,
	big BIGINT
) DEFAULT CHARSET=utf8mb4`

// fixtureColumns are the data columns in order.
var fixtureColumns = []string{"id", "amount", "ratio", "score", "created", "updated", "day", "dur", "yr", "doc", "status",
	"tags", "payload", "flag", "bits", "note", "tiny", "small", "med", "num", "big"}

// fixtureRow returns an INSERT's VALUES tuple for row i of a shard; seed
// varies the values between shards.
func fixtureRow(id uint64, rng *rand.Rand) string {
	null := func(s string) string {
		if rng.IntN(7) == 0 {
			return "NULL"
		}
		return s
	}
	days := []string{"'2024-02-29'", "'0000-00-00'", "'2024-00-10'", "'1970-01-01'", "'9999-12-31'", "'1000-01-01'"}
	notes := []string{"'plain'", "'héllo wörld'", "'日本語テキスト'", "'emoji 😀🎉'", "''", "'tab\\tand\\nnewline'", "'quote '' here'"}
	return fmt.Sprintf("(%d, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
		id,
		null(fmt.Sprintf("%d.%02d", rng.IntN(2000000)-1000000, rng.IntN(100))),
		null(fmt.Sprintf("%g", rng.Float32()*1000-500)),
		null(fmt.Sprintf("%.17g", rng.NormFloat64()*1e6)),
		null([]string{"'2024-03-01 12:34:56.123456'", "'0000-00-00 00:00:00'", "'1999-12-31 23:59:59.999999'", "'2038-01-19 03:14:08'"}[rng.IntN(4)]),
		null([]string{"'2024-03-01 12:34:56.654321'", "'1970-01-01 00:00:01'", "'2038-01-19 03:14:07.999999'"}[rng.IntN(3)]),
		null(days[rng.IntN(len(days))]),
		null([]string{"'-838:59:59'", "'838:59:59'", "'00:00:00.5'", "'12:34:56.789'", "'-00:00:01'"}[rng.IntN(5)]),
		null([]string{"1901", "2155", "0", "2024"}[rng.IntN(4)]),
		null([]string{`'{"a": 1, "b": [true, null]}'`, `'[]'`, `'"text ✓"'`}[rng.IntN(3)]),
		null([]string{"'new'", "'paid'", "'shipped'", "''"}[rng.IntN(4)]),
		null([]string{"''", "'a'", "'a,c'", "'a,b,c'"}[rng.IntN(4)]),
		null([]string{"X''", "X'00FF10'", "X'DEADBEEF00'"}[rng.IntN(3)]),
		null([]string{"b'0'", "b'1'"}[rng.IntN(2)]),
		null(fmt.Sprintf("b'%b'", rng.IntN(256))),
		null(notes[rng.IntN(len(notes))]),
		null(fmt.Sprint(rng.IntN(256)-128)),
		null(fmt.Sprint(rng.IntN(65536)-32768)),
		null(fmt.Sprint(rng.IntN(1<<24))),
		null(fmt.Sprint(int64(rng.Int32()))),
		null([]string{"-9223372036854775808", "9223372036854775807", "0", fmt.Sprint(rng.Int64())}[rng.IntN(4)]),
	)
}

// fixture starts a server with the sharded table filled with rowsPer rows
// per shard.
func fixture(t *testing.T, rowsPer int) *mariadbtest.Server {
	t.Helper()
	srv := mariadbtest.Start(t)
	stmts := []string{"SET SESSION sql_mode = ''"}
	for d := range fixtureDBs {
		db := fmt.Sprintf("shop_%d", d)
		stmts = append(stmts, "CREATE DATABASE "+db)
		for tb := range fixtureTables {
			name := fmt.Sprintf("%s.orders_%d", db, tb)
			stmts = append(stmts, fmt.Sprintf(fixtureDDL, name))
			rng := rand.New(rand.NewPCG(uint64(d), uint64(tb)))
			var rows []string
			for i := range rowsPer {
				id := uint64(i + 1)
				if i%5 == 4 {
					id = 18446744073709551615 - uint64(i)
				}
				rows = append(rows, fixtureRow(id, rng))
			}
			if len(rows) > 0 {
				stmts = append(stmts, "INSERT INTO "+name+" VALUES "+strings.Join(rows, ", "))
			}
		}
	}
	// A database the rule does not match.
	stmts = append(stmts, "CREATE DATABASE other", fmt.Sprintf(fixtureDDL, "other.orders_0"))
	srv.Exec(t, stmts...)
	return srv
}

// testConfig is a configuration with the warehouse in dir, the server as
// source rds1, and extra YAML appended.
func testConfig(t *testing.T, dir string, srv *mariadbtest.Server, extra string) *config.Config {
	t.Helper()
	y := fmt.Sprintf(`warehouse: %s
sources:
  rds1: {dsn: 'root@tcp(%s)/'}
tables:
  - name: orders
    match: '^shop_\d+\.orders_\d+$'
    key: [id]
%s`, dir, srv.Addr(), extra)
	cfg, err := config.Parse("test.yaml", []byte(y), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// parseRule is cfg with its table rule's match and key replaced by
// ruleYAML (indented as under "- name: orders").
func parseRule(cfg *config.Config, srv *mariadbtest.Server, ruleYAML string) (*config.Config, error) {
	y := fmt.Sprintf("warehouse: %s\nsources:\n  rds1: {dsn: 'root@tcp(%s)/'}\ntables:\n  - name: orders\n%s", cfg.Warehouse.Path, srv.Addr(), ruleYAML)
	return config.Parse("test.yaml", []byte(y), nil)
}

func testOptions(t *testing.T, cfg *config.Config) Options {
	t.Helper()
	st, err := local.New(cfg.Warehouse.Path)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Store: st, Config: cfg, Table: "orders", Date: warehouse.Date{Year: 2024, Month: 3, Day: 1}, ChunkRows: 7, Parallel: 3}
}

// sourceRows renders every row of the fixture as DuckDB renders the
// snapshot's columns (see duckdbtest's Format functions), computed by
// MariaDB itself; floats come through the binary protocol and are
// formatted in Go. Zero and partly zero dates are NULL (DESIGN.md §7).
// Rows are ordered by _source_db, _source_table, id.
func sourceRows(t *testing.T, db *sql.DB) [][]*string {
	t.Helper()
	zeroDate := func(c string) string {
		return fmt.Sprintf("(YEAR(%[1]s) = 0 OR MONTH(%[1]s) = 0 OR DAYOFMONTH(%[1]s) = 0)", c)
	}
	exprs := []string{
		"CAST(id AS CHAR)", "CAST(amount AS CHAR)", "ratio", "score",
		"IF(" + zeroDate("created") + ", NULL, DATE_FORMAT(created, '%Y-%m-%dT%H:%i:%s.%f'))",
		"DATE_FORMAT(updated, '%Y-%m-%dT%H:%i:%s.%f+00:00')",
		"IF(" + zeroDate("day") + ", NULL, DATE_FORMAT(day, '%Y-%m-%d'))",
		"CAST(dur AS CHAR)", "IF(yr = 0, NULL, CAST(yr AS CHAR))", "doc", "CAST(status AS CHAR)", "CAST(tags AS CHAR)",
		"LOWER(HEX(payload))", "CASE WHEN flag IS NULL THEN NULL WHEN flag = 1 THEN 'true' ELSE 'false' END", "CAST(bits + 0 AS CHAR)", "note",
		"CAST(tiny AS CHAR)", "CAST(small AS CHAR)", "CAST(med AS CHAR)", "CAST(num AS CHAR)", "CAST(big AS CHAR)",
	}
	var out [][]*string
	for d := range fixtureDBs {
		for tb := range fixtureTables {
			dbName, table := fmt.Sprintf("shop_%d", d), fmt.Sprintf("orders_%d", tb)
			stmt, err := db.Prepare(fmt.Sprintf("SELECT %s FROM %s.%s ORDER BY id", strings.Join(exprs, ", "), dbName, table))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := stmt.Query()
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				raw := make([]any, len(exprs))
				ptrs := make([]any, len(raw))
				for i := range raw {
					ptrs[i] = &raw[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				row := []*string{duckdbtest.Ptr(dbName), duckdbtest.Ptr(table)}
				for _, v := range raw {
					switch x := v.(type) {
					case nil:
						row = append(row, nil)
					case float32:
						row = append(row, duckdbtest.Ptr(duckdbtest.FormatFloat(x)))
					case float64:
						row = append(row, duckdbtest.Ptr(duckdbtest.FormatDouble(x)))
					case []byte:
						row = append(row, duckdbtest.Ptr(string(x)))
					default:
						row = append(row, duckdbtest.Ptr(fmt.Sprint(x)))
					}
				}
				out = append(out, row)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			stmt.Close()
		}
	}
	return out
}

// snapshotRows reads snapshot dt=date of orders with DuckDB, in the order
// of sourceRows.
func snapshotRows(t *testing.T, whDir string, date string) *duckdbtest.Result {
	t.Helper()
	glob := filepath.Join(whDir, "snapshot", "orders", "dt="+date, "*.parquet")
	cols := append([]string{"_source_db", "_source_table"}, fixtureColumns...)
	return duckdbtest.Query(t, fmt.Sprintf("SELECT %s FROM read_parquet(%s) ORDER BY _source_db, _source_table, id",
		strings.Join(cols, ", "), duckdbtest.QuoteString(glob)))
}

// sameRows compares DuckDB's rows with the source's, value for value.
func sameRows(t *testing.T, got *duckdbtest.Result, want [][]*string) {
	t.Helper()
	if got.Len() != len(want) {
		t.Fatalf("snapshot has %d rows, source %d", got.Len(), len(want))
	}
	names := got.Names()
	bad := 0
	for i, w := range want {
		for j, name := range names {
			g := got.Cell(i, name)
			if !sameCell(name, g, w[j]) {
				if bad++; bad <= 20 {
					t.Errorf("row %d (%s.%s id %s) column %s: snapshot %s, source %s", i, *w[0], *w[1], *w[2], name, show(g), show(w[j]))
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d values differ", bad)
	}
}

// sameCell compares a DuckDB cell with the source's. FLOAT columns compare
// as float32 values: the text of a float32 exactly halfway between two
// shortest decimals (-276.328125) is rounded one way by DuckDB and the
// other by Go, for the same value.
func sameCell(name string, got, want *string) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	if name == "ratio" {
		g, err1 := strconv.ParseFloat(*got, 32)
		w, err2 := strconv.ParseFloat(*want, 32)
		return err1 == nil && err2 == nil && float32(g) == float32(w)
	}
	return *got == *want
}

func show(s *string) string {
	if s == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *s)
}

func run(t *testing.T, o Options) *Summary {
	t.Helper()
	s, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return s
}

// posText is p as DuckDB prints the DECIMAL(38,0) _pos.
func posText(p warehouse.Pos) string {
	return fmt.Sprintf("%d%019d%09d", p.File, p.Offset, p.Row)
}
