package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/workload"
)

// binlake demo runs end to end, passes its self-check, and can be run
// again in the same directory; the self-check fails against a model the
// warehouse does not hold.
func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	runs := []string{"1", "2"} // days; the second run re-uses the directory
	if raceEnabled {
		runs = runs[:1] // the race detector makes 49 ingest runs take a minute
	}
	for run, days := range runs {
		code, out, stderr := invoke(t, nil, "demo", "--dir", dir, "--days", days, "--events-per-hour", "8", "--partitions", "2")
		if code != exitOK {
			t.Fatalf("run %d: exit %d\n%s\n%s", run, code, out, stderr)
		}
		for _, want := range []string{"PASS orders  dt=2024-03-0" + days, "PASS users   dt=2024-03-01", "read_parquet('" + dir, `CREATE TABLE IF NOT EXISTS "demo"."orders" (`, `"ship_date" DATE`, "not_ready: day 2024-03-01"} {
			if !strings.Contains(out, want) {
				t.Errorf("run %d: output does not say %q:\n%s", run, want, out)
			}
		}
		if strings.Contains(out, "FAIL") || !strings.Contains(stderr, "binlake demo: ok: PASS") {
			t.Fatalf("run %d:\n%s\n%s", run, out, stderr)
		}
		// The DuckDB queries it prints run and find rows.
		duckdb := out[strings.Index(out, "\nDuckDB"):strings.Index(out, "\nTrino")]
		queries := 0
		for _, line := range strings.Split(duckdb, "\n") {
			if q := strings.TrimSpace(line); strings.HasPrefix(q, "SELECT") {
				queries++
				if r := duckdbtest.Query(t, q); r.Len() == 0 {
					t.Errorf("no rows from the printed query %s", q)
				}
			}
		}
		if queries != 2 {
			t.Errorf("%d DuckDB queries printed, want 2:\n%s", queries, duckdb)
		}
	}

	cfg := workload.DefaultConfig()
	cfg.EventsPerHour, cfg.Seed, cfg.Days = 8, 2, len(runs)
	other, err := workload.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := local.New(filepath.Join(dir, "warehouse"))
	if err != nil {
		t.Fatal(err)
	}
	d := &demo{out: io.Discard}
	if failed := d.selfCheck(context.Background(), st, other); failed != 2*len(runs) {
		t.Fatalf("self-check against another history: %d table-days failed, want %d", failed, 2*len(runs))
	}
}

func TestDemoRefusesAForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := invoke(t, nil, "demo", "--dir", dir)
	if code != exitUsage || !strings.Contains(stderr, "not made by binlake demo") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "precious.txt")); err != nil {
		t.Fatal("the demo removed a file it did not make")
	}
	code, _, stderr = invoke(t, nil, "demo", "--dir", t.TempDir(), "--format", "avro")
	if code != exitUsage || !strings.Contains(stderr, `--format "avro"`) {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}
