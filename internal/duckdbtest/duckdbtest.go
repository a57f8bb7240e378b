package duckdbtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Module is the module path whose go.mod marks the repository root.
const Module = "github.com/binlake/binlake"

// InstallCommand installs the node packages, run from the repository root.
const InstallCommand = "npm ci --prefix tools/duckdb"

// QueryTimeout bounds one query.
const QueryTimeout = 2 * time.Minute

// Column is one result column: its name and its DuckDB type name.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Result is the result of the last statement of a query.
type Result struct {
	Columns []Column    `json:"columns"`
	Rows    [][]*string `json:"rows"` // nil = NULL; see the package doc for the forms
	t       testing.TB
}

// Column returns the index of the first column with that name, or -1.
func (r *Result) Column(name string) int {
	for i, c := range r.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Names returns the column names in order.
func (r *Result) Names() []string {
	names := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		names[i] = c.Name
	}
	return names
}

// Types returns column name → DuckDB type name.
func (r *Result) Types() map[string]string {
	m := make(map[string]string, len(r.Columns))
	for _, c := range r.Columns {
		m[c.Name] = c.Type
	}
	return m
}

// Len returns the number of rows.
func (r *Result) Len() int { return len(r.Rows) }

// Cell returns the value in row i of the named column (nil = NULL). It fails
// the test if there is no such column or row.
func (r *Result) Cell(i int, column string) *string {
	r.t.Helper()
	c := r.Column(column)
	if c < 0 {
		r.t.Fatalf("duckdbtest: no column %q in result with columns %q", column, r.Names())
	}
	if i < 0 || i >= len(r.Rows) {
		r.t.Fatalf("duckdbtest: row %d out of range: result has %d rows", i, len(r.Rows))
	}
	return r.Rows[i][c]
}

// Text is Cell as a string, with "NULL" for NULL (so it cannot tell NULL
// from the text NULL; use Cell where that matters).
func (r *Result) Text(i int, column string) string {
	r.t.Helper()
	if v := r.Cell(i, column); v != nil {
		return *v
	}
	return "NULL"
}

// ColumnValues returns the named column's values, top to bottom.
func (r *Result) ColumnValues(column string) []*string {
	r.t.Helper()
	c := r.Column(column)
	if c < 0 {
		r.t.Fatalf("duckdbtest: no column %q in result with columns %q", column, r.Names())
	}
	vals := make([]*string, len(r.Rows))
	for i, row := range r.Rows {
		vals[i] = row[c]
	}
	return vals
}

// String renders the result as a table, for failure messages (NULL as NULL,
// strings quoted with %q).
func (r *Result) String() string {
	var b strings.Builder
	for i, c := range r.Columns {
		if i > 0 {
			b.WriteString(" | ")
		}
		fmt.Fprintf(&b, "%s %s", c.Name, c.Type)
	}
	b.WriteByte('\n')
	for _, row := range r.Rows {
		for i, v := range row {
			if i > 0 {
				b.WriteString(" | ")
			}
			if v == nil {
				b.WriteString("NULL")
			} else {
				fmt.Fprintf(&b, "%q", *v)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Ptr returns &s, for building expected rows.
func Ptr(s string) *string { return &s }

// QuoteString returns s as a SQL string literal.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// ParquetTable returns the SQL table expression read_parquet('<path>') for
// use in queries. DuckDB expands glob characters (*, ?, [...]) in path, so a
// pattern such as dir+"/*.parquet" reads every file of a partition.
func ParquetTable(path string) string {
	return "read_parquet(" + QuoteString(path) + ")"
}

// Query runs sql and returns the result of its last statement; it fails the
// test when DuckDB rejects the query.
func Query(t testing.TB, sql string) *Result {
	t.Helper()
	r, err := TryQuery(t, sql)
	if err != nil {
		t.Fatalf("duckdbtest: %v\nquery: %s", err, sql)
	}
	return r
}

// TryQuery is Query that returns DuckDB's error instead of failing the test.
// A missing or broken DuckDB setup still skips or fails the test.
func TryQuery(t testing.TB, sql string) (*Result, error) {
	t.Helper()
	Require(t)
	r, qerr, err := defaultPool.query(sql, QueryTimeout)
	if err != nil {
		t.Fatalf("duckdbtest: %v", err)
	}
	if qerr != nil {
		return nil, qerr
	}
	r.t = t
	return r, nil
}

// ReadParquet returns every row of the Parquet file(s) at path, in file
// order: SELECT * FROM read_parquet('<path>').
func ReadParquet(t testing.TB, path string) *Result {
	t.Helper()
	return Query(t, "SELECT * FROM "+ParquetTable(path))
}

// DescribeParquet returns column name → DuckDB type name of the Parquet file
// at path. Use ReadParquet(...).Columns when the order matters.
func DescribeParquet(t testing.TB, path string) map[string]string {
	t.Helper()
	return Query(t, "SELECT * FROM "+ParquetTable(path)+" LIMIT 0").Types()
}

// ParquetSchema returns DuckDB's parquet_schema() of the file: one row per
// schema element with name, type (physical), type_length, repetition_type,
// num_children, converted_type, scale, precision, field_id, logical_type.
func ParquetSchema(t testing.TB, path string) *Result {
	t.Helper()
	return Query(t, "SELECT * FROM parquet_schema("+QuoteString(path)+")")
}

// Require skips (locally) or fails (in CI) the test when node or the DuckDB
// node packages are missing. Query calls it; call it directly to skip before
// expensive setup.
func Require(t testing.TB) {
	t.Helper()
	s := locate()
	if s.err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("duckdbtest: %v (CI is set, so this fails instead of skipping)", s.err)
	}
	t.Skipf("duckdbtest: %v", s.err)
}

// setup is where node and query.mjs are.
type setup struct {
	node   string // node binary
	script string // tools/duckdb/query.mjs
	err    error
}

var (
	locateOnce sync.Once
	located    setup
)

func locate() setup {
	locateOnce.Do(func() { located = doLocate() })
	return located
}

func doLocate() setup {
	root, err := repoRoot()
	if err != nil {
		return setup{err: err}
	}
	dir := filepath.Join(root, "tools", "duckdb")
	s := setup{script: filepath.Join(dir, "query.mjs")}
	if _, err := os.Stat(s.script); err != nil {
		return setup{err: fmt.Errorf("%s is missing: %w", s.script, err)}
	}
	s.node, err = exec.LookPath("node")
	if err != nil {
		return setup{err: fmt.Errorf("node (Node.js 20+) is not on PATH; install it (apt-get install -y nodejs) and run: %s", InstallCommand)}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api", "package.json")); err != nil {
		return setup{err: fmt.Errorf("%s/node_modules/@duckdb/node-api is missing; run: %s (in %s)", dir, InstallCommand, root)}
	}
	return s
}

// repoRoot walks up from this source file's directory, then from the working
// directory, to the go.mod of Module.
func repoRoot() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for {
			if isModuleRoot(dir) {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("no go.mod of module %s above %q", Module, starts)
}

func isModuleRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "module" && strings.Trim(f[1], `"`) == Module {
			return true
		}
	}
	return false
}

// QueryError is DuckDB's rejection of a query.
type QueryError struct {
	Message string
}

func (e *QueryError) Error() string { return "duckdb: " + e.Message }

// IsQueryError reports whether err is (or wraps) a *QueryError.
func IsQueryError(err error) bool {
	var qe *QueryError
	return errors.As(err, &qe)
}
