package ddl

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/binlake/binlake/warehouse"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// everyType has a column of every MySQL type family of DESIGN.md §7.
var everyType = []warehouse.CatalogColumn{
	{Name: "id", Type: "bigint unsigned"}, {Name: "tiny", Type: "tinyint"}, {Name: "small_u", Type: "smallint unsigned"},
	{Name: "medium", Type: "mediumint"}, {Name: "i", Type: "int"}, {Name: "i_u", Type: "int unsigned"},
	{Name: "big", Type: "bigint"}, {Name: "amount", Type: "decimal(12,2)"}, {Name: "wide", Type: "decimal(50,10)"},
	{Name: "f", Type: "float"}, {Name: "d", Type: "double"}, {Name: "day", Type: "date"},
	{Name: "created", Type: "datetime(6)"}, {Name: "updated", Type: "timestamp(3)"}, {Name: "span", Type: "time"},
	{Name: "yr", Type: "year"}, {Name: "code", Type: "char(2)"}, {Name: "name", Type: "varchar(64)"},
	{Name: "note", Type: "text"}, {Name: "state", Type: "enum('new','paid')"}, {Name: "tags", Type: "set('a','b')"},
	{Name: "doc", Type: "json"}, {Name: "raw", Type: "varbinary(16)"}, {Name: "img", Type: "blob"},
	{Name: "flag", Type: "bit(1)"}, {Name: "mask", Type: "bit(8)"}, {Name: "active", Type: "boolean"},
}

// TestGolden compares each dialect's DDL with testdata/<dialect>.sql
// (go test ./ddl -update rewrites them).
func TestGolden(t *testing.T) {
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			r, err := Generate(Options{Dialect: d, Table: "orders", Location: "s3://lake/ods", Columns: everyType})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Warnings) != 0 {
				t.Errorf("warnings: %v", r.Warnings)
			}
			path := filepath.Join("testdata", string(d)+".sql")
			if *update {
				if err := os.WriteFile(path, []byte(r.SQL), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if r.SQL != string(want) {
				t.Errorf("%s DDL differs from %s (go test ./ddl -update rewrites it):\n%s", d, path, r.SQL)
			}
		})
	}
}

func TestLocations(t *testing.T) {
	cases := []struct {
		d         Dialect
		loc, want string
	}{
		{Hive, "s3://lake/ods/", "s3a://lake/ods/snapshot/t'"},
		{Spark, "s3://lake/ods", "s3a://lake/ods/snapshot/t'"},
		{Trino, "s3a://lake/ods", "s3://lake/ods/snapshot/t'"},
		{DuckDB, "file:///data/wh", "'/data/wh/snapshot/t/dt=*/part-*.parquet'"},
		{Hive, "/data/wh", "file:///data/wh/snapshot/t'"},
	}
	for _, c := range cases {
		r, err := Generate(Options{Dialect: c.d, Table: "t", Location: c.loc})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.SQL, c.want) {
			t.Errorf("%s %s: no %s in\n%s", c.d, c.loc, c.want, r.SQL)
		}
	}
}

func TestNoCatalogWarns(t *testing.T) {
	r, err := Generate(Options{Dialect: Hive, Table: "t", Location: "s3://b/p"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "no catalog") || !strings.Contains(r.SQL, "`_pos` DECIMAL(38,0)") {
		t.Errorf("warnings %v\n%s", r.Warnings, r.SQL)
	}
}

func TestBadInput(t *testing.T) {
	for _, o := range []Options{
		{Dialect: "oracle", Table: "t", Location: "/x"},
		{Dialect: Hive, Table: "T", Location: "/x"},
		{Dialect: Hive, Table: "t", Location: "relative/path"},
		{Dialect: Hive, Table: "t", Location: "/x", Columns: []warehouse.CatalogColumn{{Name: "a", Type: "geometry"}}},
	} {
		if _, err := Generate(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
