// Command bench is the merge benchmark of issue 4: binlake merge against
// the same merge in DuckDB SQL, on the same files.
//
// It builds a local warehouse with a table of -rows rows (10 data columns,
// the shape of tools/bench's orders) as snapshot dt=D-1 — written by
// binlake merge itself, from binlog files of inserts — and then a day D of
// -changes changes (80% updates, 10% deletes, 10% inserts of new keys) as
// binlog files with commit records and ready markers, in one of two
// shapes:
//
//   - uniform: the changes fall on keys spread over the whole table;
//   - clustered: on the newest 5% of the keys (and new keys after them),
//     as for tables whose recent rows are the ones that change.
//
// Then, alternating the sides over -runs rounds, it times
//
//   - binlake: `binlake merge --config F --date D` (built from ./cmd/binlake)
//     as a child process, the day's previous output removed first;
//   - DuckDB: node @duckdb/node-api (tools/duckdb/query.mjs) with SET
//     threads=-threads, running row_number() over the day's changes by
//     key ordered by _pos desc, an anti-join of the base against the
//     winners, UNION ALL the winning upserts, COPY TO zstd Parquet.
//
// Each run reports wall time, CPU (user+sys of the child) and peak RSS
// (the child's maxrss); the summary gives the medians, the ratios and the
// goals (uniform ≤ 0.7× DuckDB wall, clustered ≤ 0.2×, peak RSS ≤ 0.5×
// DuckDB's and ≤ 1 GiB). Both outputs are checked to hold the same rows.
// The generated warehouse is kept in -dir and reused when it matches.
//
//	go run ./merge/bench -rows 20000000 -changes 2000000 -runs 3
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// Goals of issue 4.
const (
	goalUniform   = 0.7
	goalClustered = 0.2
	goalRSSRatio  = 0.5
	goalRSSBytes  = 1 << 30
)

var columns = []string{
	"id", "int",
	"customer_id", "bigint unsigned",
	"shop_id", "smallint",
	"amount", "decimal(10,2)",
	"note", "varchar(255)",
	"status", "enum('new','paid','shipped','delivered','cancelled')",
	"created_at", "datetime(6)",
	"updated_at", "timestamp",
	"is_gift", "tinyint",
	"version", "bigint",
}

var notes = []string{"leave at the door", "call before delivery, the bell is broken", "gift wrap please",
	"deliver after 6pm", "second floor, blue door", "fragile: glassware inside", "customer asked for an invoice"}
var statuses = []string{"new", "paid", "shipped", "delivered", "cancelled"}

type options struct {
	rows, changes int
	runs          int
	threads       int
	dir           string
	shapes        string
	fileSize      string
	budget        string
	intEncoding   string
}

func main() {
	var o options
	flag.IntVar(&o.rows, "rows", 20_000_000, "rows of the base snapshot")
	flag.IntVar(&o.changes, "changes", 2_000_000, "changes of the merged day")
	flag.IntVar(&o.runs, "runs", 3, "timed runs of each side, alternating")
	flag.IntVar(&o.threads, "threads", 2, "DuckDB threads (SET threads)")
	flag.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "binlake-merge-bench"), "where the generated warehouses are kept")
	flag.StringVar(&o.shapes, "shapes", "uniform,clustered", "which change shapes to run")
	flag.StringVar(&o.fileSize, "file-size", "128MiB", "merge.file_size of the configuration")
	flag.StringVar(&o.budget, "memory-budget", "1GiB", "merge.memory_budget of the configuration")
	flag.StringVar(&o.intEncoding, "integer-encoding", "plain", "merge.integer_encoding of the configuration: plain or delta")
	genWH := flag.String("generate", "", "internal: generate the warehouse of -shapes in this directory and exit")
	flag.Parse()
	if *genWH != "" {
		// A child process of its own, so that the benchmark process stays
		// small: Linux counts the parent's RSS at fork in a child's maxrss.
		if err := generate(context.Background(), o, *genWH, o.shapes); err != nil {
			fmt.Fprintln(os.Stderr, "bench: generate:", err)
			os.Exit(1)
		}
		return
	}
	if err := bench(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var (
	dayBase = warehouse.Date{Year: 2024, Month: 3, Day: 1}
	day     = warehouse.Date{Year: 2024, Month: 3, Day: 2}
)

func bench(ctx context.Context, o options) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	bin := filepath.Join(o.dir, "binlake")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/binlake").CombinedOutput(); err != nil {
		return fmt.Errorf("build binlake: %w\n%s", err, out)
	}
	_ = root
	fmt.Printf("merge benchmark: %d base rows, %d changes, %d runs per side, DuckDB threads=%d, GOMAXPROCS=%d, %d CPUs, load %s\n",
		o.rows, o.changes, o.runs, o.threads, runtime.GOMAXPROCS(0), runtime.NumCPU(), loadAverage())
	var results []shapeResult
	for _, shape := range strings.Split(o.shapes, ",") {
		r, err := benchShape(ctx, o, bin, shape)
		if err != nil {
			return fmt.Errorf("%s: %w", shape, err)
		}
		results = append(results, r)
	}
	fmt.Println()
	fmt.Println("summary (medians)")
	for _, r := range results {
		r.print()
	}
	return nil
}

type measurement struct {
	wall   time.Duration
	cpu    time.Duration
	maxRSS int64
	out    int64
	note   string
}

type shapeResult struct {
	shape      string
	goal       float64
	bl, duck   []measurement
	blSummary  string
	sameOutput bool
}

func median[T int64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func (r shapeResult) print() {
	pick := func(ms []measurement) (w, c time.Duration, rss int64) {
		var ws, cs []time.Duration
		var rs []int64
		for _, m := range ms {
			ws, cs, rs = append(ws, m.wall), append(cs, m.cpu), append(rs, m.maxRSS)
		}
		return median(ws), median(cs), median(rs)
	}
	bw, bc, br := pick(r.bl)
	dw, dc, dr := pick(r.duck)
	wr, cr, rr := bw.Seconds()/dw.Seconds(), bc.Seconds()/dc.Seconds(), float64(br)/float64(dr)
	fmt.Printf("  %-9s binlake %7.2fs wall %7.2fs cpu %6.0f MiB | DuckDB %7.2fs wall %7.2fs cpu %6.0f MiB | wall %.2fx (goal ≤ %.1fx: %s) cpu %.2fx rss %.2fx (goal ≤ %.1fx and ≤ 1 GiB: %s)\n",
		r.shape, bw.Seconds(), bc.Seconds(), mib(br), dw.Seconds(), dc.Seconds(), mib(dr),
		wr, r.goal, verdict(wr <= r.goal), cr, rr, goalRSSRatio, verdict(rr <= goalRSSRatio && br <= goalRSSBytes))
	fmt.Printf("  %-9s same rows in both outputs: %v; binlake: %s\n", "", r.sameOutput, r.blSummary)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// benchShape generates (or reuses) the warehouse of a shape and times both
// sides on it.
func benchShape(ctx context.Context, o options, bin, shape string) (shapeResult, error) {
	r := shapeResult{shape: shape, goal: goalUniform}
	if shape == "clustered" {
		r.goal = goalClustered
	} else if shape != "uniform" {
		return r, fmt.Errorf("unknown shape %q", shape)
	}
	// The base day is written in the encoding being measured, so each
	// encoding has a warehouse of its own.
	dir := filepath.Join(o.dir, fmt.Sprintf("%s-%d-%d-%s", shape, o.rows, o.changes, o.intEncoding))
	wh := filepath.Join(dir, "wh")
	cfg := filepath.Join(dir, "binlake.yaml")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`warehouse: %s
tables:
  - name: orders
    match: '^shop\.orders$'
    key: [id]
    bootstrap: empty
merge:
  file_size: %s
  memory_budget: %s
  spill_dir: %s
  integer_encoding: %s
`, wh, o.fileSize, o.budget, filepath.Join(dir, "spill"), o.intEncoding)), 0o644); err != nil {
		return r, err
	}
	if _, err := os.Stat(filepath.Join(wh, warehouse.SnapshotManifest("orders", dayBase))); err != nil {
		fmt.Printf("%s: generating the warehouse in %s …\n", shape, wh)
		if err := os.RemoveAll(wh); err != nil {
			return r, err
		}
		self, err := os.Executable()
		if err != nil {
			return r, err
		}
		gen := exec.Command(self, "-generate", wh, "-shapes", shape, "-rows", fmt.Sprint(o.rows), "-changes", fmt.Sprint(o.changes))
		gen.Stdout, gen.Stderr = os.Stdout, os.Stderr
		if err := gen.Run(); err != nil {
			return r, fmt.Errorf("generate: %w", err)
		}
		start := time.Now()
		if out, err := exec.Command(bin, "merge", "--config", cfg, "--date", dayBase.String(), "--log-level", "warn").CombinedOutput(); err != nil {
			return r, fmt.Errorf("merge the base day: %w\n%s", err, out)
		}
		fmt.Printf("%s: base day merged from %d inserts in %v\n", shape, o.rows, time.Since(start).Round(time.Second))
	}
	st, err := local.New(wh)
	if err != nil {
		return r, err
	}
	base, err := readManifest(st, dayBase)
	if err != nil {
		return r, err
	}
	changeFiles, err := dayFiles(wh)
	if err != nil {
		return r, err
	}
	var baseBytes int64
	var basePaths []string
	for _, f := range base.Files {
		basePaths = append(basePaths, filepath.Join(wh, f.Key))
		baseBytes += f.Bytes
	}
	fmt.Printf("%s: base %d rows in %d files (%.0f MiB), day %d change files\n", shape, base.Rows, len(base.Files), mib(baseBytes), len(changeFiles))
	duckOut := filepath.Join(dir, "duckdb-out.parquet")
	sql := duckdbSQL(o.threads, basePaths, changeFiles, duckOut)
	script := filepath.Join(mustRoot(), "tools", "duckdb", "query.mjs")
	for i := range o.runs {
		sides := []string{"binlake", "duckdb"}
		if i%2 == 1 {
			sides = []string{"duckdb", "binlake"}
		}
		for _, side := range sides {
			var m measurement
			var err error
			if side == "binlake" {
				m, err = runBinlake(bin, cfg, wh, dir)
				r.blSummary = m.note
				r.bl = append(r.bl, m)
			} else {
				m, err = runDuckDB(script, sql, duckOut)
				r.duck = append(r.duck, m)
			}
			if err != nil {
				return r, err
			}
			fmt.Printf("  %s run %d %-7s %7.2fs wall %7.2fs cpu %6.0f MiB peak RSS, %6.0f MiB out\n", shape, i+1, side, m.wall.Seconds(), m.cpu.Seconds(), mib(m.maxRSS), mib(m.out))
		}
	}
	same, err := sameRows(script, st, wh, duckOut)
	if err != nil {
		return r, err
	}
	r.sameOutput = same
	return r, nil
}

func readManifest(st *local.Store, d warehouse.Date) (*warehouse.Manifest, error) {
	b, err := os.ReadFile(filepath.Join(st.Root(), warehouse.SnapshotManifest("orders", d)))
	if err != nil {
		return nil, err
	}
	m := new(warehouse.Manifest)
	return m, warehouse.Unmarshal("manifest", b, m)
}

// dayFiles lists the binlog files of the merged day (for DuckDB: binlake
// finds them through the commit records).
func dayFiles(wh string) ([]string, error) {
	return filepath.Glob(filepath.Join(wh, "binlog", "orders", "dt="+day.String(), "hr=*", "*.parquet"))
}

// generate writes the base day's inserts and the merged day's changes.
func generate(ctx context.Context, o options, wh, shape string) error {
	st, err := local.New(wh)
	if err != nil {
		return err
	}
	w := fakeingest.New(st, "orders", "binlog")
	w.Now = func() time.Time { return time.Date(2024, 3, 3, 0, 30, 0, 0, time.UTC) }
	if err := w.Schema(ctx, 1, columns...); err != nil {
		return err
	}
	start := time.Now()
	// Base: ids 0 … rows-1 in files of 250k rows, partition p = file % 2.
	const per = 250_000
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for f := 0; f*per < o.rows; f++ {
		g.Go(func() error {
			rng := rand.New(rand.NewPCG(uint64(f), 1))
			var rows []fakeingest.Row
			for id := f * per; id < min((f+1)*per, o.rows); id++ {
				rows = append(rows, row(rng, "insert", int64(id)+1, int64(id), 1))
			}
			_, err := w.Commit(gctx, int32(f%2), fakeingest.File{Hour: warehouse.Hour{Date: dayBase, Hour: f % 24}, Version: 1, Rows: rows})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// The day: changes in 48 files (2 partitions × 24 hours), positions
	// after every base position.
	rng := rand.New(rand.NewPCG(7, 7))
	nextID := int64(o.rows)
	var all []fakeingest.Row
	for i := range o.changes {
		pos := int64(100_000_000 + i)
		var id int64
		switch shape {
		case "uniform":
			id = rng.Int64N(int64(o.rows))
		default:
			lo := int64(o.rows) * 95 / 100
			id = lo + rng.Int64N(int64(o.rows)-lo)
		}
		op := "update"
		switch rng.IntN(10) {
		case 0:
			op = "delete"
		case 1:
			op, id = "insert", nextID
			nextID++
		}
		all = append(all, row(rng, op, pos, id, 2))
	}
	for h := range 24 {
		for p := range 2 {
			lo, hi := (h*2+p)*len(all)/48, (h*2+p+1)*len(all)/48
			if _, err := w.Commit(ctx, int32(p), fakeingest.File{Hour: warehouse.Hour{Date: day, Hour: h}, Version: 1, Rows: all[lo:hi]}); err != nil {
				return err
			}
		}
	}
	zone := warehouse.NewZone(nil)
	for _, d := range []warehouse.Date{dayBase, day} {
		if err := w.Ready(ctx, zone, d); err != nil {
			return err
		}
	}
	fmt.Printf("%s: generated %d inserts and %d changes in %v\n", shape, o.rows, o.changes, time.Since(start).Round(time.Second))
	return nil
}

func row(rng *rand.Rand, op string, pos, id, version int64) fakeingest.Row {
	created := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Second)
	return fakeingest.Row{Op: op, Pos: warehouse.Pos{File: 1, Offset: pos}, Event: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		DB: "shop", Table: "orders", Values: []schema.Value{
			schema.IntValue(id), schema.UintValue(uint64(id*7919) % 5_000_000), schema.IntValue(id % 500),
			schema.DecimalValue(fmt.Sprintf("%d.%02d", rng.IntN(100_000), rng.IntN(100))), schema.StringValue(notes[rng.IntN(len(notes))]),
			schema.StringValue(statuses[rng.IntN(len(statuses))]), schema.DateTimeOf(created), schema.TimestampOf(created.Add(time.Hour)),
			schema.IntValue(int64(rng.IntN(2))), schema.IntValue(version),
		}}
}

// duckdbSQL is the DuckDB equivalent of the merge.
func duckdbSQL(threads int, base, changes []string, out string) string {
	q := func(ps []string) string {
		var s []string
		for _, p := range ps {
			s = append(s, "'"+p+"'")
		}
		return "[" + strings.Join(s, ", ") + "]"
	}
	var cols []string
	for i := 0; i < len(columns); i += 2 {
		cols = append(cols, columns[i])
	}
	c := strings.Join(cols, ", ")
	return fmt.Sprintf(`SET threads=%d;
COPY (
  WITH w AS (
    SELECT * FROM (
      SELECT _op, _pos, _source_db, _source_table, %s,
             row_number() OVER (PARTITION BY _source_db, _source_table, id ORDER BY _pos DESC) AS rn
      FROM read_parquet(%s))
    WHERE rn = 1)
  SELECT b._pos, b._source_db, b._source_table, %s FROM read_parquet(%s) b
    ANTI JOIN w USING (_source_db, _source_table, id)
  UNION ALL
  SELECT _pos, _source_db, _source_table, %s FROM w WHERE _op <> 'delete'
) TO '%s' (FORMAT parquet, COMPRESSION zstd);`, threads, c, q(changes), prefixed("b.", cols), q(base), c, out)
}

func prefixed(p string, cols []string) string {
	var s []string
	for _, c := range cols {
		s = append(s, p+c)
	}
	return strings.Join(s, ", ")
}

// childUsage runs cmd and returns its wall time and rusage.
func childUsage(cmd *exec.Cmd) (time.Duration, *syscall.Rusage, error) {
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		return wall, nil, err
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return wall, nil, errors.Join(err, errors.New("no rusage"))
	}
	return wall, ru, err
}

func cpuOf(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runBinlake(bin, cfg, wh, dir string) (measurement, error) {
	var m measurement
	if err := os.RemoveAll(filepath.Join(wh, warehouse.SnapshotDir("orders", day))); err != nil {
		return m, err
	}
	summary := filepath.Join(dir, "summary.json")
	cmd := exec.Command(bin, "merge", "--config", cfg, "--date", day.String(), "--summary", summary, "--log-format", "json", "--log-level", "warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	wall, ru, err := childUsage(cmd)
	if err != nil {
		return m, fmt.Errorf("binlake merge: %w\n%s", err, stderr.String())
	}
	m.wall, m.cpu, m.maxRSS = wall, cpuOf(ru), ru.Maxrss<<10
	var s struct {
		Details struct {
			Tables []struct {
				RowsOut      int64 `json:"rows_out"`
				BytesWritten int64 `json:"bytes_written"`
				FilesWritten int   `json:"files_written"`
				FilesCarried int   `json:"files_carried"`
				RGCopied     int   `json:"row_groups_copied"`
				RGRewritten  int   `json:"row_groups_rewritten"`
				SpillRuns    int   `json:"spill_runs"`
			} `json:"tables"`
		} `json:"details"`
	}
	b, err := os.ReadFile(summary)
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		return m, fmt.Errorf("summary: %w", err)
	}
	if len(s.Details.Tables) != 1 {
		return m, fmt.Errorf("summary %s: %d tables, want 1", summary, len(s.Details.Tables))
	}
	t := s.Details.Tables[0]
	m.out = t.BytesWritten
	m.note = fmt.Sprintf("%d rows out; files %d written, %d carried; row groups %d rewritten, %d copied; %d spill runs",
		t.RowsOut, t.FilesWritten, t.FilesCarried, t.RGRewritten, t.RGCopied, t.SpillRuns)
	return m, nil
}

func runDuckDB(script, sql, out string) (measurement, error) {
	var m measurement
	_ = os.Remove(out)
	cmd := exec.Command("node", script)
	cmd.Stdin = strings.NewReader(sql)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	wall, ru, err := childUsage(cmd)
	if err != nil {
		return m, fmt.Errorf("duckdb: %w\n%s", err, stderr.String())
	}
	m.wall, m.cpu, m.maxRSS = wall, cpuOf(ru), ru.Maxrss<<10
	if fi, err := os.Stat(out); err == nil {
		m.out = fi.Size()
	}
	return m, nil
}

// sameRows checks with DuckDB that binlake's day and DuckDB's output hold
// the same rows (count and an order-independent hash).
func sameRows(script string, st *local.Store, wh, duckOut string) (bool, error) {
	m, err := readManifest(st, day)
	if err != nil {
		return false, err
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, "'"+filepath.Join(wh, f.Key)+"'")
	}
	var cols []string
	for i := 0; i < len(columns); i += 2 {
		cols = append(cols, columns[i])
	}
	h := "sum(hash(_pos, _source_db, _source_table, " + strings.Join(cols, ", ") + ") % 1000000007)"
	sql := fmt.Sprintf(`SELECT (SELECT count(*) || ':' || %s FROM read_parquet([%s], hive_partitioning=false)) AS a,
	                           (SELECT count(*) || ':' || %s FROM read_parquet('%s')) AS b`, h, strings.Join(paths, ","), h, duckOut)
	cmd := exec.Command("node", script)
	cmd.Stdin = strings.NewReader(sql)
	out, err := cmd.Output()
	if err != nil {
		return false, fmt.Errorf("compare outputs: %w", err)
	}
	var res struct {
		Rows [][]*string `json:"rows"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Rows) != 1 {
		return false, fmt.Errorf("compare outputs: %q", out)
	}
	a, b := res.Rows[0][0], res.Rows[0][1]
	return a != nil && b != nil && *a == *b, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run from inside the binlake module")
	}
	if err := os.Chdir(filepath.Dir(gomod)); err != nil {
		return "", err
	}
	return filepath.Dir(gomod), nil
}

func mustRoot() string {
	wd, _ := os.Getwd()
	return wd
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
