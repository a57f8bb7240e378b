package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // time zones without a zoneinfo database on the machine

	"github.com/go-sql-driver/mysql"
)

const minimalTables = `
tables:
  - name: orders
    match: '^shop_\d+\.orders_\d+$'
    key: [id]
`

func mustParse(t *testing.T, yml string, env map[string]string) *Config {
	t.Helper()
	c, err := Parse("test.yaml", []byte(yml), mapEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func parseErr(t *testing.T, yml string, env map[string]string) string {
	t.Helper()
	c, err := Parse("test.yaml", []byte(yml), mapEnv(env))
	if err == nil {
		t.Fatalf("Parse succeeded, want an error: %+v", c)
	}
	return err.Error()
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"CustomerId":    "customer_id",
		"CUSTOMER_ID":   "customer_id",
		"customerId":    "customer_id",
		"HTTPServer":    "http_server",
		"already_snake": "already_snake",
		"id2Name":       "id2_name",
		"id":            "id",
		"ID":            "id",
		"Customer_Id":   "customer_id",
		"MD5Hash":       "md5_hash",
		"getHTTPCode":   "get_http_code",
		"_id":           "_id",
		"order date":    "order_date",
		"order-date":    "order_date",
		"ÄpfelCount":    "äpfel_count",
		"":              "",
	} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestColumnRulesName(t *testing.T) {
	rules := ColumnRules{
		Case:    CaseSnake,
		Rename:  map[string]string{"CustName": "customer_name", "LegacyID": "LegacyKey"},
		Exclude: []string{"password_hash", "CustName2"},
		Boolean: []string{"is_active"},
	}
	for _, tc := range []struct {
		source, name string
		keep         bool
	}{
		{"CustomerId", "customer_id", true}, // case applies
		{"CustName", "customer_name", true}, // rename wins over case
		{"custname", "customer_name", true}, // source names match case-insensitively
		{"LegacyID", "LegacyKey", true},     // a rename target is final: case does not touch it
		{"password_hash", "", false},        // exclude
		{"Password_Hash", "", false},        // exclude, case-insensitively
		{"custName2", "", false},            // exclude comes before everything
		{"already_snake", "already_snake", true},
	} {
		name, keep := rules.Name(tc.source)
		if name != tc.name || keep != tc.keep {
			t.Errorf("Name(%q) = %q, %v; want %q, %v", tc.source, name, keep, tc.name, tc.keep)
		}
	}
	if !rules.IsBoolean("IS_ACTIVE") || rules.IsBoolean("is_deleted") {
		t.Errorf("IsBoolean: want is_active only, case-insensitively")
	}

	var zero ColumnRules
	if name, keep := zero.Name("CustomerId"); name != "CustomerId" || !keep {
		t.Errorf("zero ColumnRules: Name(CustomerId) = %q, %v; want it kept as is", name, keep)
	}
}

func TestColumnRulesFromYAML(t *testing.T) {
	c := mustParse(t, `
tables:
  - name: customers
    match: '^crm\.customers$'
    key: [id]
    columns:
      case: snake
      rename: {CustName: customer_name}
      exclude: [password_hash]
      boolean: [is_active]
`, nil)
	got := c.Tables[0].Columns
	want := ColumnRules{
		Case:    CaseSnake,
		Rename:  map[string]string{"CustName": "customer_name"},
		Exclude: []string{"password_hash"},
		Boolean: []string{"is_active"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("columns = %+v, want %+v", got, want)
	}
	if c := mustParse(t, minimalTables, nil); c.Tables[0].Columns.Case != CaseKeep {
		t.Errorf("default case = %q, want keep", c.Tables[0].Columns.Case)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0":          0,
		"1048576":    1 << 20,
		"512MiB":     512 << 20,
		"512 MiB":    512 << 20,
		"512mib":     512 << 20,
		"1GiB":       1 << 30,
		"2TiB":       2 << 40,
		"4KiB":       4096,
		"64MB":       64e6,
		"1GB":        1e9,
		"3KB":        3000,
		"100B":       100,
		" 7 GiB ":    7 << 30,
		"8388607TiB": 8388607 << 40,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"":                     "expected a number",
		"MiB":                  "expected a number",
		"512M":                 `unknown unit "M"`,
		"512 Mb/s":             `unknown unit "Mb/s"`,
		"1.5GiB":               "whole number",
		"-1":                   "negative",
		"-1GiB":                "negative",
		"8388608TiB":           "too large",
		"99999999999999999999": "too large",
	} {
		if _, err := ParseSize(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseSize(%q) error = %v, want it to contain %q", in, err, msg)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0", 1: "1", 1000: "1KB", 1024: "1KiB", 1536: "1536", 512 << 20: "512MiB",
		1 << 30: "1GiB", 64e6: "64MB", 1e9: "1GB", 1 << 40: "1TiB", 12345: "12345",
	} {
		got := formatSize(n)
		if got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
		if back, err := ParseSize(got); err != nil || back != n {
			t.Errorf("ParseSize(formatSize(%d)) = %d, %v", n, back, err)
		}
	}
}

func TestExpand(t *testing.T) {
	env := mapEnv(map[string]string{"A": "x", "EMPTY": "", "PW": "p#a:s s"})
	for in, want := range map[string]string{
		"plain":           "plain",
		"${A}":            "x",
		"a${A}b${A}":      "axbx",
		"$$":              "$",
		"$${A}":           "${A}",
		"$$$${A}":         "$${A}",
		"$$${A}":          "$x",
		"^binlog_.*$":     "^binlog_.*$",
		"cost$":           "cost$",
		"$1 and $x":       "$1 and $x",
		"[${EMPTY}]":      "[]",
		"u:${PW}@tcp(h)/": "u:p#a:s s@tcp(h)/",
	} {
		got, err := expand(in, env)
		if err != nil || got != want {
			t.Errorf("expand(%q) = %q, %v; want %q", in, got, err, want)
		}
		// escapeDollars is expand's inverse for values without variables.
		if back, err := expand(escapeDollars(want), nil); err != nil || back != want {
			t.Errorf("expand(escapeDollars(%q)) = %q, %v", want, back, err)
		}
	}
	for in, msg := range map[string]string{
		"${MISSING}":   "environment variable MISSING is not set",
		"${A":          "unterminated ${",
		"${}":          `invalid environment variable name ""`,
		"${A B}":       `invalid environment variable name "A B"`,
		"${1A}":        `invalid environment variable name "1A"`,
		"x${A}${NOPE}": "environment variable NOPE is not set",
	} {
		if _, err := expand(in, env); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("expand(%q) error = %v, want %q", in, err, msg)
		}
	}
}

func TestEnvExpansionInYAML(t *testing.T) {
	// A password with YAML's special characters cannot break the file,
	// quoted or not, because expansion happens after parsing.
	const pw = `p#ss: w"rd'{x}[y], &*!|>%@`
	env := map[string]string{"PW": pw, "DAYS": "9", "RATIO": "0.5", "YES": "true", "PORT": "3307"}
	c := mustParse(t, `
merge:
  tombstone_days: ${DAYS}
ingest:
  max_dlq_ratio: ${RATIO}
sources:
  plain:
    dsn: u:${PW}@tcp(10.0.0.5:${PORT})/
    tls: ${YES}
  quoted: {dsn: 'u:${PW}@tcp(10.0.0.5:3306)/'}
  literal:
    dsn: |-
      u:${PW}@tcp(10.0.0.5:3306)/
tables:
  - name: orders
    match: '^shop\.orders$$|^shop\.orders_\d+$'
    key: [id]
`+"\n", env)
	if c.Merge.TombstoneDays != 9 || c.Ingest.MaxDLQRatio != 0.5 || !c.Sources["plain"].TLS {
		t.Errorf("typed values from env: tombstone_days %d, max_dlq_ratio %v, tls %v",
			c.Merge.TombstoneDays, c.Ingest.MaxDLQRatio, c.Sources["plain"].TLS)
	}
	for name, s := range c.Sources {
		cfg, err := mysql.ParseDSN(s.DSN)
		if err != nil {
			t.Fatalf("sources.%s: %v", name, err)
		}
		if cfg.Passwd != pw {
			t.Errorf("sources.%s password = %q, want %q", name, cfg.Passwd, pw)
		}
	}
	if c.Sources["plain"].DSN != "u:"+pw+"@tcp(10.0.0.5:3307)/" {
		t.Errorf("sources.plain.dsn = %q", c.Sources["plain"].DSN)
	}
	if got := c.Tables[0].Match.String(); got != `^shop\.orders$|^shop\.orders_\d+$` {
		t.Errorf("$$ not unescaped: match = %s", got)
	}

	// A quoted value stays a string, even when it looks like a number.
	msg := parseErr(t, "merge:\n  tombstone_days: '${DAYS}'\n"+minimalTables, env)
	if want := `test.yaml:2: merge.tombstone_days: expected a whole number, got "9"`; msg != want {
		t.Errorf("quoted ${DAYS}:\n got %s\nwant %s", msg, want)
	}

	// The error names the file, line, key path and variable.
	msg = parseErr(t, "sources:\n  rds1:\n    dsn: 'u:${RDS1_PASSWORD}@tcp(h:3306)/'\n"+minimalTables, nil)
	if want := "test.yaml:3: sources.rds1.dsn: environment variable RDS1_PASSWORD is not set"; msg != want {
		t.Errorf("missing variable:\n got %s\nwant %s", msg, want)
	}

	// Keys are not expanded; unknown keys are reported, their values not expanded.
	msg = parseErr(t, "${X}: 1\n"+minimalTables, nil)
	if !strings.Contains(msg, "test.yaml:1: ${X}: unknown key") || strings.Contains(msg, "not set") {
		t.Errorf("expansion in keys: %s", msg)
	}
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, minimalTables, nil)
	cwd, _ := os.Getwd()
	want := Warehouse{Raw: "./warehouse", Scheme: "file", Path: filepath.Join(cwd, "warehouse")}
	if c.Warehouse != want {
		t.Errorf("warehouse = %+v, want %+v", c.Warehouse, want)
	}
	if c.Location != time.UTC || c.Kafka != nil || c.S3 != nil || c.Sources != nil {
		t.Errorf("location %v, kafka %v, s3 %v, sources %v; want UTC and nothing else", c.Location, c.Kafka, c.S3, c.Sources)
	}
	if want := (Ingest{Grace: 15 * time.Minute, MaxDLQRatio: 0.01, MemoryBudget: 512 << 20, MaxFileSize: 256 << 20}); c.Ingest != want {
		t.Errorf("ingest = %+v, want %+v", c.Ingest, want)
	}
	if want := (Merge{MemoryBudget: 1 << 30, FileSize: 128 << 20, TombstoneDays: 7, SpillDir: os.TempDir(), IntegerEncoding: IntegerPlain}); c.Merge != want {
		t.Errorf("merge = %+v, want %+v", c.Merge, want)
	}
	tb := c.Tables[0]
	if !tb.KeyIncludesSource || tb.Bootstrap != BootstrapSnapshot || tb.Sources != nil || tb.EventTimeField != "" {
		t.Errorf("table defaults: %+v", tb)
	}
	if !tb.Match.MatchString("shop_01.orders_7") || tb.Match.MatchString("shop_01.orders_x") {
		t.Errorf("match %s compiled wrongly", tb.Match)
	}

}

func TestResolvedValues(t *testing.T) {
	c := mustParse(t, `
timezone: Asia/Shanghai
kafka:
  brokers: [k:9092]
  topic_pattern: ^binlog_
  format: rowjson
  source_timezone: America/New_York
  event_time_field: updated_at
ingest:
  grace: 0
  max_dlq_ratio: 0
sources:
  b: {dsn: 'u@tcp(h:3306)/'}
  a: {dsn: 'u@tcp(h:3306)/'}
tables:
  - name: orders
    match: x
    key: [id]
  - name: items
    match: y
    key: [id]
    event_time_field: changed_at
    key_includes_source: false
    sources: [b]
`, nil)
	if c.Location.String() != "Asia/Shanghai" || c.Kafka.SourceLocation.String() != "America/New_York" {
		t.Errorf("zones: %v, %v", c.Location, c.Kafka.SourceLocation)
	}
	if c.Ingest.Grace != 0 || c.Ingest.MaxDLQRatio != 0 {
		t.Errorf("explicit zeros replaced by defaults: %+v", c.Ingest)
	}
	if c.Kafka.Start != StartEarliest || c.Kafka.TopicPattern.String() != "^binlog_" || c.Kafka.Format != FormatRowJSON {
		t.Errorf("kafka = %+v", c.Kafka)
	}
	orders, items := c.Table("orders"), c.Table("items")
	if orders == nil || items == nil || c.Table("nope") != nil {
		t.Fatalf("Table lookup: %v %v %v", orders, items, c.Table("nope"))
	}
	if !reflect.DeepEqual(orders.Sources, []string{"a", "b"}) || !reflect.DeepEqual(items.Sources, []string{"b"}) {
		t.Errorf("sources: orders %v (want every source, sorted), items %v", orders.Sources, items.Sources)
	}
	if orders.EventTimeField != "updated_at" || items.EventTimeField != "changed_at" || items.KeyIncludesSource {
		t.Errorf("orders %+v, items %+v", orders, items)
	}
}

func TestParseWarehouse(t *testing.T) {
	cwd, _ := os.Getwd()
	for raw, want := range map[string]Warehouse{
		"s3://lake/ods":      {Scheme: "s3", Bucket: "lake", Prefix: "ods"},
		"s3://lake/ods/x/":   {Scheme: "s3", Bucket: "lake", Prefix: "ods/x"},
		"s3://lake":          {Scheme: "s3", Bucket: "lake"},
		"S3://lake/":         {Scheme: "s3", Bucket: "lake"},
		"file:///data/lake/": {Scheme: "file", Path: "/data/lake"},
		"file://localhost/d": {Scheme: "file", Path: "/d"},
		"/data/lake":         {Scheme: "file", Path: "/data/lake"},
		"lake":               {Scheme: "file", Path: filepath.Join(cwd, "lake")},
		"../lake":            {Scheme: "file", Path: filepath.Join(filepath.Dir(cwd), "lake")},
		"data:lake":          {Scheme: "file", Path: filepath.Join(cwd, "data:lake")},
	} {
		want.Raw = raw
		got, err := parseWarehouse(raw)
		if err != nil || got != want {
			t.Errorf("parseWarehouse(%q) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
	for raw, msg := range map[string]string{
		"s3:///ods":         "has no bucket",
		"s3a://lake/ods":    `write s3:// instead`,
		"hdfs://nn/lake":    `unsupported scheme "hdfs"`,
		"gs://lake":         `unsupported scheme "gs"`,
		"file://host/lake":  `names host "host"`,
		"file://":           "has no absolute path",
		"s3://lake/ods?x=1": "no ?query",
	} {
		if _, err := parseWarehouse(raw); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("parseWarehouse(%q) error = %v, want %q", raw, err, msg)
		}
	}
	if got := (Warehouse{Scheme: "s3", Bucket: "b", Prefix: "p/q"}).String(); got != "s3://b/p/q" {
		t.Errorf("String() = %s", got)
	}
	if got := (Warehouse{Scheme: "file", Path: "/d"}).String(); got != "file:///d" {
		t.Errorf("String() = %s", got)
	}
}

func TestErrorValues(t *testing.T) {
	_, err := Parse("c.yaml", []byte("kafka:\n  format: nope\n"+minimalTables+"    bootstrap: never\n"), nil)
	var all []*Error
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *Error
		if !errors.As(e, &ce) {
			t.Fatalf("%T is not an *Error", e)
		}
		all = append(all, ce)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Line < all[i-1].Line {
			t.Errorf("errors not sorted by line: %v", err)
		}
	}
	var first *Error
	if !errors.As(err, &first) || first.File != "c.yaml" || first.Line != 1 || first.Path != "kafka.brokers" {
		t.Errorf("first error = %+v", first)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(all) || n < 4 {
		t.Errorf("want one line per error (at least 4), got %d:\n%v", n, err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "binlake.yaml")
	if err := os.WriteFile(path, []byte(minimalTables+"    bootstrap: never\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, nil)
	if err == nil || !strings.HasPrefix(err.Error(), path+":6: tables[0].bootstrap: ") {
		t.Errorf("Load error = %v, want it to start with the path and line", err)
	}
	_, err = Load(filepath.Join(dir, "missing.yaml"), nil)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("Load of a missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte(minimalTables), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, os.LookupEnv); err != nil {
		t.Error(err)
	}
}

func TestSyntaxErrorLines(t *testing.T) {
	for yml, want := range map[string]string{
		"a: 1\nb:\n  c: 2\n d: 3\n":                    "t.yaml:4: invalid YAML: did not find expected key",
		"a: 1\nb: [1, 2\nc: 3\n":                       "t.yaml:2: invalid YAML: did not find expected ',' or ']'",
		"a: 1\nb: x: y\n":                              "t.yaml:2: invalid YAML: mapping values are not allowed in this context",
		"a: 1\nb: *nope\n":                             "t.yaml:2: invalid YAML: unknown anchor 'nope' referenced",
		"a: 1\nb: 'abc\nc: 3\n":                        "t.yaml:2: invalid YAML: found unexpected end of stream",
		"tables: []\n---\ntables: []\n":                "t.yaml:2: a second YAML document (after ---); binlake reads one document per file",
		"- a\n- b\n":                                   "t.yaml:1: expected a mapping of keys (warehouse:, kafka:, tables:, …) at the top, got a list",
		"warehouse: x\nwarehouse: y\n" + minimalTables: "t.yaml:2: warehouse: duplicate key (first set on line 1)",
	} {
		_, err := Parse("t.yaml", []byte(yml), nil)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q) error:\n got %v\nwant prefix %s", yml, err, want)
		}
	}
}

func TestMergeKeys(t *testing.T) {
	// Explicit keys override merged ones; a problem inside the shared
	// mapping is reported once, at its own line.
	msg := parseErr(t, `
tables:
  - &base
    name: a
    match: x
    key: [id]
    bootstrap: never
  - <<: *base
    name: b
  - <<: [*base]
    name: c
    bootstrap: empty
`, nil)
	want := "test.yaml:7: tables[0].bootstrap: unknown bootstrap \"never\" (one of snapshot, empty)\n" +
		"test.yaml:7: tables[1].bootstrap: unknown bootstrap \"never\" (one of snapshot, empty)"
	if msg != want {
		t.Errorf("got\n%s\nwant\n%s", msg, want)
	}
	c := mustParse(t, `
tables:
  - &base {name: a, match: x, key: [id], columns: {case: snake}}
  - {<<: *base, name: b, key: [id, ts]}
`, nil)
	if b := c.Table("b"); b == nil || len(b.Key) != 2 || b.Columns.Case != CaseSnake || b.Match.String() != "x" {
		t.Errorf("merged table b = %+v", b)
	}
}

func TestRedactedMasking(t *testing.T) {
	for dsn, want := range map[string]string{
		"u:secret@tcp(h:3306)/db":      "u:****@tcp(h:3306)/db",
		"u@tcp(h:3306)/db":             "u@tcp(h:3306)/db",
		"not a dsn with secret inside": "****",
	} {
		if got := maskDSN(dsn); got != want {
			t.Errorf("maskDSN(%q) = %q, want %q", dsn, got, want)
		}
	}
	c := &Config{
		Warehouse: Warehouse{Scheme: "s3", Bucket: "b"},
		Sources:   map[string]Source{"x": {DSN: "garbage secret"}},
		Tables:    []Table{{Name: "t", Key: []string{"id"}}},
	}
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "secret") || !strings.Contains(string(out), "dsn: '****'") {
		t.Errorf("unparseable DSN not masked whole:\n%s", out)
	}
}
