package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// measurement is one timed run of one side.
type measurement struct {
	side   string
	run    int
	wall   time.Duration
	cpu    time.Duration // user+sys of the child
	maxRSS int64         // bytes, the child's peak resident set
	out    int64         // bytes of Parquet written
	files  int
	// faults is the child's minor page faults: fresh memory it touched.
	faults int64
	// broker is the CPU the in-process kfake broker (this process) spent
	// while the run read from it; binlake runs only.
	broker time.Duration
	note   string
}

// childUsage runs cmd to completion and returns its wall time, its
// rusage and its peak resident set.
//
// The peak is the child's own VmHWM, polled from /proc while it runs:
// rusage's maxrss is no good here, because Go starts children with
// vfork, and Linux folds the parent's high-water mark — this process,
// holding every message in kfake — into the child's maxrss at exec.
func childUsage(cmd *exec.Cmd) (time.Duration, *syscall.Rusage, int64, error) {
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, nil, 0, err
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		for {
			if hwm := vmHWM(status); hwm > peak.Load() {
				peak.Store(hwm)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(stop)
	<-polled
	if cmd.ProcessState == nil {
		return wall, nil, 0, err
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return wall, nil, 0, errors.Join(err, errors.New("no rusage for the child"))
	}
	return wall, ru, peak.Load(), err
}

// vmHWM reads the peak resident set (bytes) from a /proc status file, or
// 0 when the process is gone.
func vmHWM(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func cpuOf(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return cpuOf(&ru)
}

// binlakeSide runs `binlake ingest` as a child process against the kfake
// cluster, each run into a fresh warehouse.
type binlakeSide struct {
	name       string // the side: binlake, or baseline for -baseline
	bin        string
	config     string
	warehouse  string
	summary    string
	gomaxprocs int
	n          int
}

// writeConfig writes the ingest configuration: a local warehouse, the
// kfake brokers, Canal, and one rule for every shard of orders. Nothing
// else is set: the ingest section keeps its defaults.
func writeConfig(path, warehouse string, brokers []string) error {
	cfg := fmt.Sprintf(`# written by tools/bench
warehouse: %s
timezone: UTC
kafka:
  brokers: [%s]
  topics: [%s]
  format: canal
tables:
  - name: orders
    match: '^shop_\d+\.orders_\d+$'
    key: [id]
    bootstrap: empty
`, warehouse, strings.Join(brokers, ", "), topic)
	return os.WriteFile(path, []byte(cfg), 0o644)
}

// run times one ingest; keepOut keeps the warehouse it wrote.
func (b *binlakeSide) run(ctx context.Context, i int, keepOut bool) (measurement, error) {
	m := measurement{side: b.name, run: i}
	if err := os.RemoveAll(b.warehouse); err != nil {
		return m, err
	}
	_ = os.Remove(b.summary)
	cmd := exec.CommandContext(ctx, b.bin, "ingest", "--config", b.config, "--summary", b.summary,
		"--log-format", "json", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(b.gomaxprocs))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cpu0 := selfCPU()
	wall, ru, peak, err := childUsage(cmd)
	m.broker = selfCPU() - cpu0
	if err != nil {
		return m, fmt.Errorf("%s ingest run %d: %w\n%s", b.name, i, err, tail(stderr.String(), 4000))
	}
	m.wall, m.cpu, m.maxRSS, m.faults = wall, cpuOf(ru), peak, ru.Minflt
	line := lastLine(stderr.String())
	if err := checkIngestSummary(b.summary, b.n); err != nil {
		return m, fmt.Errorf("%s ingest run %d: %w\nsummary line: %s", b.name, i, err, line)
	}
	if !strings.Contains(line, " "+strconv.Itoa(b.n)+" records,") {
		return m, fmt.Errorf("%s ingest run %d: summary line does not say %d records: %s", b.name, i, b.n, line)
	}
	m.out, m.files = parquetBytes(filepath.Join(b.warehouse, "binlog"))
	m.note = line
	if keepOut {
		return m, nil
	}
	return m, os.RemoveAll(b.warehouse)
}

// checkIngestSummary checks the --summary JSON: every record read, every
// one a row of orders, nothing in the dead-letter queue or skipped.
func checkIngestSummary(path string, n int) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read summary: %w", err)
	}
	var s struct {
		Status  string `json:"status"`
		Details struct {
			Records int64            `json:"records"`
			Rows    map[string]int64 `json:"rows"`
			DLQ     int64            `json:"dlq"`
			Skipped map[string]int64 `json:"skipped"`
		} `json:"details"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("parse summary: %w", err)
	}
	d := s.Details
	if s.Status != "ok" || d.Records != int64(n) || d.Rows["orders"] != int64(n) || d.DLQ != 0 || len(d.Skipped) > 0 {
		return fmt.Errorf("want status ok, %d records, %d rows of orders, no dead letters and nothing skipped; the summary says: %s", n, n, raw)
	}
	return nil
}

// duckdbSide runs DuckDB (node @duckdb/node-api, through
// tools/duckdb/query.mjs) converting the JSON-lines file to Parquet.
type duckdbSide struct {
	script string // tools/duckdb/query.mjs
	sql    string
	outDir string
	n      int
}

// duckdbSQL is the DuckDB equivalent of what binlake ingest does with the
// same messages: parse every line, take the row image (data[1]; all
// messages are single-row), type each value as binlake's schema does
// (MySQL type → Parquet logical type, DESIGN.md §7; see benchColumn), map
// the enum index to its label, derive the change's op and event time from
// type and es, and write zstd Parquet split by hour (hive dt=/hr=
// directories, as binlake splits files by table-hour).
func duckdbSQL(jsonl, outDir string, cols []benchColumn, threads int, partitioned bool) string {
	var structCols, selects []string
	for _, c := range cols {
		structCols = append(structCols, c.name+" VARCHAR")
		selects = append(selects, fmt.Sprintf("    %s AS %s,\n", c.duckdb, c.name))
	}
	out := filepath.Join(outDir, "orders.parquet")
	opts := "FORMAT parquet, COMPRESSION zstd"
	if partitioned {
		out = outDir
		opts += ", PARTITION_BY (dt, hr)"
	}
	return fmt.Sprintf(`SET threads=%d;
COPY (
  SELECT
    lower(m.type) AS _op,
    make_timestamp(m.es * 1000)::TIMESTAMPTZ AS _event_time,
    m.database AS _source_db,
    m."table" AS _source_table,
%s    strftime(make_timestamp(m.es * 1000), '%%Y-%%m-%%d') AS dt,
    strftime(make_timestamp(m.es * 1000), '%%H') AS hr
  FROM (
    SELECT type, es, database, "table", data[1] AS d
    FROM read_json('%s', format = 'newline_delimited',
      columns = {database: 'VARCHAR', "table": 'VARCHAR', type: 'VARCHAR', es: 'BIGINT',
                 data: 'STRUCT(%s)[]'})
  ) m
) TO '%s' (%s);`, threads, strings.Join(selects, ""), jsonl, strings.Join(structCols, ", "), out, opts)
}

// run times one conversion; keepOut keeps the files it wrote.
func (d *duckdbSide) run(ctx context.Context, i int, keepOut bool) (measurement, error) {
	m := measurement{side: "duckdb", run: i}
	if err := os.RemoveAll(d.outDir); err != nil {
		return m, err
	}
	if err := os.MkdirAll(d.outDir, 0o755); err != nil {
		return m, err
	}
	cmd := exec.CommandContext(ctx, "node", d.script)
	cmd.Stdin = strings.NewReader(d.sql)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	wall, ru, peak, err := childUsage(cmd)
	if err != nil {
		return m, fmt.Errorf("duckdb run %d: %w\n%s", i, err, tail(stderr.String(), 4000))
	}
	m.wall, m.cpu, m.maxRSS, m.faults = wall, cpuOf(ru), peak, ru.Minflt
	// COPY returns the number of rows written.
	var res struct {
		Rows [][]*string `json:"rows"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return m, fmt.Errorf("duckdb run %d: output %q: %w", i, tail(stdout.String(), 500), err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 || res.Rows[0][0] == nil {
		return m, fmt.Errorf("duckdb run %d: unexpected output %q", i, tail(stdout.String(), 500))
	}
	if got := *res.Rows[0][0]; got != strconv.Itoa(d.n) {
		return m, fmt.Errorf("duckdb run %d: COPY wrote %s rows, want %d", i, got, d.n)
	}
	m.out, m.files = parquetBytes(d.outDir)
	m.note = fmt.Sprintf("%d rows", d.n)
	if keepOut {
		return m, nil
	}
	return m, os.RemoveAll(d.outDir)
}

// parquetBytes sums the sizes of the .parquet files under dir.
func parquetBytes(dir string) (int64, int) {
	var n int64
	var files int
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(e.Name(), ".parquet") {
			return nil
		}
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
			files++
		}
		return nil
	})
	return n, files
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// sharedColumns are the columns both sides write.
func sharedColumns(cols []benchColumn) string {
	names := []string{"_op", "_event_time", "_source_db", "_source_table"}
	for _, c := range cols {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// verify checks with DuckDB that binlake's binlog files and DuckDB's
// Parquet hold the same rows in the columns both write (binlake adds _pos,
// _kafka_topic, _kafka_partition, _kafka_offset and _late), so the two
// sides did the same work.
func verify(ctx context.Context, script, warehouse, duckOut string, cols []benchColumn, n int) error {
	shared := sharedColumns(cols)
	bl := fmt.Sprintf("SELECT %s FROM read_parquet('%s', hive_partitioning = false)", shared, filepath.Join(warehouse, "binlog", "orders", "*", "*", "*.parquet"))
	dd := fmt.Sprintf("SELECT %s FROM read_parquet('%s', hive_partitioning = false)", shared, filepath.Join(duckOut, "**", "*.parquet"))
	sql := fmt.Sprintf("SELECT (SELECT count(*) FROM (%s)), (SELECT count(*) FROM (%s)), (SELECT count(*) FROM (%s EXCEPT ALL %s)), (SELECT count(*) FROM (%s EXCEPT ALL %s))", bl, dd, bl, dd, dd, bl)
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Stdin = strings.NewReader(sql)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("verify: %w\n%s", err, stderr.String())
	}
	var res struct {
		Rows [][]*string `json:"rows"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("verify: output %q: %w", tail(string(out), 500), err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 4 {
		return fmt.Errorf("verify: unexpected output %q", tail(string(out), 500))
	}
	c := make([]string, 4)
	for i, v := range res.Rows[0] {
		if v != nil {
			c[i] = *v
		}
	}
	want := strconv.Itoa(n)
	if c[0] != want || c[1] != want || c[2] != "0" || c[3] != "0" {
		return fmt.Errorf("verify: the outputs differ: binlake %s rows, DuckDB %s rows, %s rows only in binlake's, %s only in DuckDB's", c[0], c[1], c[2], c[3])
	}
	return nil
}
