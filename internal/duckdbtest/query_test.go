package duckdbtest_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/binlake/binlake/internal/duckdbtest"
)

func TestQueryCanonicalForms(t *testing.T) {
	res := duckdbtest.Query(t, `SELECT
		true AS b, -5::TINYINT AS i8, 18446744073709551615::UBIGINT AS u64,
		-170141183460469231731687303715884105727::HUGEINT AS i128,
		-0.05::DECIMAL(10,2) AS d, 1::DECIMAL(10,2) AS d1,
		0.1::DOUBLE AS f64, 1e21::DOUBLE AS big, 1.5e-7::DOUBLE AS small, 100::DOUBLE AS hundred,
		'NaN'::DOUBLE AS nan, '-inf'::DOUBLE AS ninf, 0.1::FLOAT AS f32,
		'it''s' AS s, '\xAA\x00'::BLOB AS bl, ''::BLOB AS empty_blob,
		DATE '2024-02-29' AS dt, 'infinity'::DATE AS dinf,
		TIME '01:02:03' AS tm,
		TIMESTAMP '2024-01-02 03:04:05.5' AS ts,
		TIMESTAMPTZ '2024-01-02 03:04:05.123456+08' AS tstz,
		TIMESTAMP_NS '2024-01-01 00:00:00.123456789' AS tsns,
		[1, NULL] AS list, {'x': 1, 'y': NULL} AS st, MAP {'k': 2.5} AS mp,
		NULL::INTEGER AS n`)
	want := map[string][2]string{ // column → {type, value}
		"b":          {"BOOLEAN", "true"},
		"i8":         {"TINYINT", "-5"},
		"u64":        {"UBIGINT", "18446744073709551615"},
		"i128":       {"HUGEINT", "-170141183460469231731687303715884105727"},
		"d":          {"DECIMAL(10,2)", "-0.05"},
		"d1":         {"DECIMAL(10,2)", "1.00"},
		"f64":        {"DOUBLE", "0.1"},
		"big":        {"DOUBLE", "1e+21"},
		"small":      {"DOUBLE", "1.5e-7"},
		"hundred":    {"DOUBLE", "100"},
		"nan":        {"DOUBLE", "NaN"},
		"ninf":       {"DOUBLE", "-Infinity"},
		"f32":        {"FLOAT", "0.1"},
		"s":          {"VARCHAR", "it's"},
		"bl":         {"BLOB", "aa00"},
		"empty_blob": {"BLOB", ""},
		"dt":         {"DATE", "2024-02-29"},
		"dinf":       {"DATE", "infinity"},
		"tm":         {"TIME", "01:02:03.000000"},
		"ts":         {"TIMESTAMP", "2024-01-02T03:04:05.500000"},
		"tstz":       {"TIMESTAMP WITH TIME ZONE", "2024-01-01T19:04:05.123456+00:00"},
		"tsns":       {"TIMESTAMP_NS", "2024-01-01T00:00:00.123456789"},
		"list":       {"INTEGER[]", `["1",null]`},
		"st":         {"STRUCT(x INTEGER, y INTEGER)", `{"x":"1","y":null}`},
		"mp":         {"MAP(VARCHAR, DECIMAL(2,1))", `[["k","2.5"]]`},
	}
	if res.Len() != 1 {
		t.Fatalf("got %d rows, want 1:\n%s", res.Len(), res)
	}
	types := res.Types()
	for name, tv := range want {
		if types[name] != tv[0] && (name != "st" || strings.ReplaceAll(types[name], `"`, "") != tv[0]) {
			t.Errorf("%s: type %q, want %q", name, types[name], tv[0])
		}
		if got := res.Cell(0, name); got == nil || *got != tv[1] {
			t.Errorf("%s: value %s, want %q", name, show(got), tv[1])
		}
	}
	if got := res.Cell(0, "n"); got != nil {
		t.Errorf("NULL came back as %q", *got)
	}
	if res.Column("nope") != -1 || res.Column("b") != 0 {
		t.Errorf("Column: got %d and %d", res.Column("nope"), res.Column("b"))
	}
}

// FormatDouble/FormatFloat must match what query.mjs prints for any value.
func TestFormatFloatsMatchDuckDB(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var f64s []float64
	var f32s []float32
	for _, x := range []float64{0, 1, -1, 0.1, 1e21, 1e20, 123456789012345678901234.0, 1e-6, 1e-7, 1.5e-7,
		5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64, 2.5, -1234.5678, 1 << 53} {
		f64s = append(f64s, x)
		f32s = append(f32s, float32(x))
	}
	for range 300 {
		f64s = append(f64s, math.Float64frombits(rng.Uint64()))
		f32s = append(f32s, math.Float32frombits(rng.Uint32()))
	}
	var sel []string
	for i, x := range f64s {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		sel = append(sel, "'"+strconv.FormatFloat(x, 'g', -1, 64)+"'::DOUBLE AS d"+strconv.Itoa(i))
	}
	for i, x := range f32s {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			continue
		}
		sel = append(sel, "'"+strconv.FormatFloat(float64(x), 'g', -1, 32)+"'::FLOAT AS f"+strconv.Itoa(i))
	}
	res := duckdbtest.Query(t, "SELECT "+strings.Join(sel, ", "))
	for i, c := range res.Columns {
		idx, _ := strconv.Atoi(c.Name[1:])
		var want string
		if c.Name[0] == 'd' {
			want = duckdbtest.FormatDouble(f64s[idx])
		} else {
			want = duckdbtest.FormatFloat(f32s[idx])
		}
		if got := *res.Rows[0][i]; got != want {
			t.Errorf("%s: DuckDB %q, Go %q", c.Name, got, want)
		}
	}
}

func TestQueryMultipleStatementsAndIsolation(t *testing.T) {
	res := duckdbtest.Query(t, "CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (2), (1); SELECT x FROM t ORDER BY x")
	if got := res.ColumnValues("x"); len(got) != 2 || *got[0] != "1" || *got[1] != "2" {
		t.Fatalf("got\n%s", res)
	}
	// Each query gets a fresh database.
	_, err := duckdbtest.TryQuery(t, "SELECT * FROM t")
	if !duckdbtest.IsQueryError(err) || !strings.Contains(err.Error(), "t does not exist") {
		t.Fatalf("table from an earlier query is visible, or wrong error: %v", err)
	}
}

func TestTryQueryError(t *testing.T) {
	_, err := duckdbtest.TryQuery(t, "SELEC 1")
	if err == nil || !duckdbtest.IsQueryError(err) || !strings.Contains(err.Error(), "syntax error") {
		t.Fatalf("err = %v, want a DuckDB syntax error", err)
	}
	_, err = duckdbtest.TryQuery(t, "SELECT * FROM "+duckdbtest.ParquetTable("/nonexistent/x.parquet"))
	if err == nil {
		t.Fatal("reading a missing file succeeded")
	}
	// The worker still answers after errors.
	if got := duckdbtest.Query(t, "SELECT 1 AS one").Text(0, "one"); got != "1" {
		t.Fatalf("got %q", got)
	}
}

func TestQuoteString(t *testing.T) {
	s := "a'b''c\\n 😀"
	if got := duckdbtest.Query(t, "SELECT "+duckdbtest.QuoteString(s)+" AS s").Text(0, "s"); got != s {
		t.Fatalf("got %q, want %q", got, s)
	}
}

func TestConcurrentQueries(t *testing.T) {
	duckdbtest.Require(t) // skip or fail here, not in the goroutines
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := duckdbtest.TryQuery(t, "SELECT "+strconv.Itoa(i)+" AS i")
			if err != nil {
				t.Errorf("query %d: %v", i, err)
				return
			}
			if got := *res.Rows[0][0]; got != strconv.Itoa(i) {
				t.Errorf("query %d got %q", i, got)
			}
		}()
	}
	wg.Wait()
}

func TestLatency(t *testing.T) {
	duckdbtest.Query(t, "SELECT 1") // the worker may start here
	const n = 20
	start := time.Now()
	for range n {
		duckdbtest.Query(t, "SELECT 1")
	}
	per := time.Since(start) / n
	t.Logf("per-query latency with a running worker: %v", per)
	if per > 2*time.Second {
		t.Errorf("per-query latency %v is too slow", per)
	}
}

func BenchmarkQuery(b *testing.B) {
	duckdbtest.Query(b, "SELECT 1")
	for b.Loop() {
		duckdbtest.Query(b, "SELECT 1")
	}
}
