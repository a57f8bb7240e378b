// Command bench is the ingest benchmark of issue 3: binlake ingest against
// DuckDB on the same Canal change messages.
//
// It starts an in-process Kafka (kfake: one broker, one topic of
// -partitions partitions, 2 by default), produces -n single-row Canal
// flatMessages (INSERTs and UPDATEs of a table of -columns narrow, 3
// columns and ~375-byte messages, or wide, 10 columns and ~860 bytes,
// sharded over 128 physical tables, event times over three recent hours, partitioned by
// table as canal.mq.partitionHash does) and writes the same messages as a
// JSON-lines file. Then, alternating the two sides over -runs rounds, it
// times
//
//   - binlake: `binlake ingest --config F` (built from ./cmd/binlake, or
//     the binary -binary names) as a
//     child process with GOMAXPROCS=-procs, reading the topic into a fresh
//     local warehouse each run;
//   - DuckDB: node @duckdb/node-api (tools/duckdb/query.mjs) with
//     threads=-procs running COPY (SELECT … FROM read_json(file)) TO
//     Parquet (zstd), typing the values as binlake does.
//
// Each run reports wall time, CPU time (user+sys from the child's rusage)
// and peak RSS (the child's own VmHWM from /proc), and the summary gives best and median
// per side, the throughput ratio binlake/DuckDB and the goals of the issue.
// It exits 0 whether the goals are met or not; non-zero only on errors.
//
// With -profile FILE it then runs ingest.Run once more, in a child process
// of its own under runtime/pprof (so the profile holds binlake's work, not
// the broker's), and prints the top of the profile.
//
//	go run ./tools/bench -n 1000000 -runs 3 -profile /tmp/ingest.pprof
//
// With -baseline BIN it also times BIN, a binlake built from another
// commit, as a side of its own alternating with binlake, and prints the
// ratios of their medians: a comparison of two versions under the same
// load.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The goals of issue 3.
const (
	goalRatio     = 1.0
	goalEventsPS  = 250_000
	goalPeakRSSMB = 512
)

type options struct {
	n           int
	runs        int
	partitions  int
	procs       int
	dir         string
	keep        bool
	sides       string
	compression string
	partitioned bool
	cpuProfile  string
	memProfile  string
	trace       string
	columns     string
	baseline    string
	binary      string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == profileChildArg {
		if err := profileChild(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.IntVar(&o.n, "n", 1_000_000, "number of messages")
	flag.IntVar(&o.runs, "runs", 3, "timed runs of each side, interleaved")
	flag.IntVar(&o.partitions, "partitions", 2, "partitions of the Kafka topic")
	flag.IntVar(&o.procs, "procs", 2, "cores each side may use: GOMAXPROCS of binlake, threads of DuckDB")
	flag.StringVar(&o.dir, "dir", "", "working directory (default: a new temporary directory, removed at the end)")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory and the last run's outputs (warehouse/, duckdb-out/)")
	flag.StringVar(&o.columns, "columns", "narrow", "the benchmark table: narrow (3 columns, ~375-byte messages, the nearest real shape to ~300 bytes) or wide (10 columns, ~860 bytes)")
	flag.StringVar(&o.sides, "sides", "both", "which sides to time: both, binlake or duckdb")
	flag.StringVar(&o.compression, "compression", "none", "Kafka batch compression of the produced records: none, snappy, lz4 or zstd")
	flag.BoolVar(&o.partitioned, "duckdb-partitioned", true, "DuckDB writes hive dt=/hr= directories (PARTITION_BY), as binlake splits files by hour")
	flag.StringVar(&o.cpuProfile, "profile", "", "after the timed runs, profile one in-process ingest.Run and write the CPU profile here")
	flag.StringVar(&o.memProfile, "memprofile", "", "with -profile: also write the allocation profile here")
	flag.StringVar(&o.trace, "trace", "", "with -profile: also write an execution trace of the profiled run here (go tool trace FILE)")
	flag.StringVar(&o.baseline, "baseline", "", "also time this binlake binary (built from another commit) as the side baseline, alternating with binlake, to compare two versions under the same load")
	flag.StringVar(&o.binary, "binary", "", "time this binlake binary as the side binlake instead of building ./cmd/binlake (with -baseline: compare two prebuilt versions)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := bench(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func bench(ctx context.Context, o options) (err error) {
	if o.n <= 0 || o.runs <= 0 || o.partitions <= 0 || o.procs <= 0 {
		return errors.New("-n, -runs, -partitions and -procs must be positive")
	}
	doBinlake := o.sides == "both" || o.sides == "binlake"
	doDuckDB := o.sides == "both" || o.sides == "duckdb"
	if o.baseline != "" && !doBinlake {
		return errors.New("-baseline needs -sides both or binlake")
	}
	if !doBinlake && !doDuckDB {
		return fmt.Errorf("-sides %q: want both, binlake or duckdb", o.sides)
	}
	cols, ok := columnSets[o.columns]
	if !ok {
		return fmt.Errorf("-columns %q: want narrow or wide", o.columns)
	}
	codec, err := compressionCodec(o.compression)
	if err != nil {
		return err
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	dir := o.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "binlake-bench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	if !o.keep && o.dir == "" {
		defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	}
	script := filepath.Join(root, "tools", "duckdb", "query.mjs")
	if doDuckDB {
		if _, err := os.Stat(filepath.Join(root, "tools", "duckdb", "node_modules", "@duckdb", "node-api")); err != nil {
			return fmt.Errorf("DuckDB for node is not installed: run `make deps` or `npm ci --prefix tools/duckdb` (%w)", err)
		}
	}

	fmt.Printf("binlake ingest benchmark: %d Canal messages of a %s table (%d columns), kfake with 1 broker and topic %s of %d partitions, %d rounds, %d cores per side (machine: %d CPUs, %s)\n",
		o.n, o.columns, len(cols), topic, o.partitions, o.runs, o.procs, runtime.NumCPU(), loadAverage())

	// The binary first: the build should not overlap the produce.
	var bin string
	if doBinlake && o.binary != "" {
		bin = o.binary
	} else if doBinlake {
		bin = filepath.Join(dir, "binlake")
		t := time.Now()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/binlake")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/binlake: %w\n%s", err, out)
		}
		fmt.Printf("built %s in %.1fs\n", bin, time.Since(t).Seconds())
	}

	t := time.Now()
	jsonl := filepath.Join(dir, "messages.jsonl")
	kc, ds, err := produce(ctx, o.n, int32(o.partitions), cols, jsonl, codec)
	if err != nil {
		return err
	}
	defer kc.Close()
	fmt.Printf("produced %d messages (%d INSERT, %d UPDATE; per partition %v; compression %s) in %.1fs: mean value %.0f bytes, JSON lines %.1f MiB; event times %s .. %s\n",
		ds.n, ds.inserts, ds.updates, ds.perPart, o.compression, time.Since(t).Seconds(),
		float64(ds.valueBytes)/float64(ds.n), float64(ds.jsonlBytes)/(1<<20),
		ds.first.UTC().Format(time.DateTime), ds.last.UTC().Format(time.DateTime))
	runtime.GC() // the generator's row states are garbage now

	bl := &binlakeSide{
		name:       "binlake",
		bin:        bin,
		config:     filepath.Join(dir, "binlake.yaml"),
		warehouse:  filepath.Join(dir, "warehouse"),
		summary:    filepath.Join(dir, "summary.json"),
		gomaxprocs: o.procs,
		n:          o.n,
	}
	if err := writeConfig(bl.config, bl.warehouse, kc.ListenAddrs()); err != nil {
		return err
	}
	var base *binlakeSide
	if o.baseline != "" {
		// Its own warehouse, config and summary: a baseline run removes
		// its warehouse, which must not be the one binlake's last run
		// keeps for the check below.
		base = &binlakeSide{
			name:       "baseline",
			bin:        o.baseline,
			config:     filepath.Join(dir, "baseline.yaml"),
			warehouse:  filepath.Join(dir, "baseline-warehouse"),
			summary:    filepath.Join(dir, "baseline-summary.json"),
			gomaxprocs: o.procs,
			n:          o.n,
		}
		if err := writeConfig(base.config, base.warehouse, kc.ListenAddrs()); err != nil {
			return err
		}
	}
	dd := &duckdbSide{
		script: script,
		outDir: filepath.Join(dir, "duckdb-out"),
		n:      o.n,
	}
	dd.sql = duckdbSQL(jsonl, dd.outDir, cols, o.procs, o.partitioned)

	var ms []measurement
	for r := 1; r <= o.runs; r++ {
		// Alternate which side goes first, so neither always runs on a
		// machine the other just warmed up or left busy.
		order := []string{"binlake", "baseline", "duckdb"}
		if r%2 == 0 {
			slices.Reverse(order)
		}
		for _, side := range order {
			var m measurement
			// The last round's outputs stay for the check below.
			last := r == o.runs
			switch {
			case side == "binlake" && doBinlake:
				m, err = bl.run(ctx, r, last)
			case side == "baseline" && base != nil:
				m, err = base.run(ctx, r, false)
			case side == "duckdb" && doDuckDB:
				m, err = dd.run(ctx, r, last)
			default:
				continue
			}
			if err != nil {
				return err
			}
			fmt.Printf("  %-8s run %d: %6.2fs wall, %6.2fs CPU, %5.0f MiB peak RSS, %d minor page faults\n", m.side, m.run, m.wall.Seconds(), m.cpu.Seconds(), mib(m.maxRSS), m.faults)
			ms = append(ms, m)
		}
	}
	if doBinlake && doDuckDB {
		if err := verify(ctx, script, bl.warehouse, dd.outDir, cols, o.n); err != nil {
			return err
		}
		fmt.Printf("checked: binlake's files and DuckDB's hold the same %d rows in the %d columns both write\n", o.n, 4+len(cols))
	}
	if !o.keep {
		if err := errors.Join(os.RemoveAll(bl.warehouse), os.RemoveAll(dd.outDir)); err != nil {
			return err
		}
	}
	report(ds, o, ms)

	if o.cpuProfile != "" {
		cpu, err := filepath.Abs(o.cpuProfile)
		if err != nil {
			return err
		}
		mem := o.memProfile
		if mem != "" {
			if mem, err = filepath.Abs(mem); err != nil {
				return err
			}
		}
		tr := o.trace
		if tr != "" {
			if tr, err = filepath.Abs(tr); err != nil {
				return err
			}
		}
		if err := profile(ctx, bl, cpu, mem, tr); err != nil {
			return err
		}
	}
	if o.keep || o.dir != "" {
		fmt.Printf("\nworking directory kept: %s (messages.jsonl, binlake.yaml; DuckDB SQL below)\n%s\n", dir, dd.sql)
	}
	return nil
}

// stats summarises one side's runs.
type stats struct {
	side                  string
	runs                  int
	bestWall, medWall     time.Duration
	bestCPU, medCPU       time.Duration
	maxRSS, medRSS        int64
	out                   int64
	files                 int
	brokerMed             time.Duration
	bestEvents, medEvents float64
}

func summarise(side string, n int, ms []measurement) *stats {
	var walls, cpus, brokers []time.Duration
	var rss []int64
	s := &stats{side: side}
	for _, m := range ms {
		if m.side != side {
			continue
		}
		walls = append(walls, m.wall)
		cpus = append(cpus, m.cpu)
		brokers = append(brokers, m.broker)
		rss = append(rss, m.maxRSS)
		s.out, s.files = m.out, m.files
	}
	if len(walls) == 0 {
		return nil
	}
	s.runs = len(walls)
	slices.Sort(walls)
	slices.Sort(cpus)
	slices.Sort(brokers)
	slices.Sort(rss)
	s.bestWall, s.medWall = walls[0], median(walls)
	s.bestCPU, s.medCPU = cpus[0], median(cpus)
	s.maxRSS, s.medRSS = rss[len(rss)-1], median(rss)
	s.brokerMed = median(brokers)
	s.bestEvents = float64(n) / s.bestWall.Seconds()
	s.medEvents = float64(n) / s.medWall.Seconds()
	return s
}

func median[T int64 | time.Duration](sorted []T) T {
	k := len(sorted)
	if k%2 == 1 {
		return sorted[k/2]
	}
	return (sorted[k/2-1] + sorted[k/2]) / 2
}

func report(ds *dataset, o options, ms []measurement) {
	mb := float64(ds.jsonlBytes) / 1e6
	fmt.Printf("\ninput: %d events, %.1f MB of JSON lines (%.0f bytes/event); MB/s = input JSON MB / wall; cores = CPU / wall; events/CPU-s = events / (user+sys)\n\n",
		ds.n, mb, float64(ds.jsonlBytes)/float64(ds.n))
	fmt.Printf("%-8s %4s %8s %8s %6s %11s %8s %12s %9s %8s %9s\n", "side", "run", "wall s", "CPU s", "cores", "events/s", "MB/s", "events/CPU-s", "peak RSS", "out MiB", "kfake CPU")
	for _, m := range ms {
		broker := ""
		if m.side != "duckdb" {
			broker = fmt.Sprintf("%8.2fs", m.broker.Seconds())
		}
		fmt.Printf("%-8s %4d %8.2f %8.2f %6.2f %11.0f %8.1f %12.0f %5.0f MiB %8.1f %9s\n", m.side, m.run, m.wall.Seconds(), m.cpu.Seconds(), m.cpu.Seconds()/m.wall.Seconds(),
			float64(ds.n)/m.wall.Seconds(), mb/m.wall.Seconds(), float64(ds.n)/m.cpu.Seconds(), mib(m.maxRSS), mib(m.out), broker)
	}
	bl := summarise("binlake", ds.n, ms)
	base := summarise("baseline", ds.n, ms)
	dd := summarise("duckdb", ds.n, ms)
	fmt.Printf("\n%-8s %-6s %8s %8s %11s %8s %12s %9s\n", "side", "", "wall s", "CPU s", "events/s", "MB/s", "events/CPU-s", "peak RSS")
	for _, s := range []*stats{bl, base, dd} {
		if s == nil {
			continue
		}
		fmt.Printf("%-8s %-6s %8.2f %8.2f %11.0f %8.1f %12.0f %5.0f MiB (max)\n", s.side, "best", s.bestWall.Seconds(), s.bestCPU.Seconds(),
			s.bestEvents, mb/s.bestWall.Seconds(), float64(ds.n)/s.bestCPU.Seconds(), mib(s.maxRSS))
		fmt.Printf("%-8s %-6s %8.2f %8.2f %11.0f %8.1f %12.0f %5.0f MiB\n", "", "median", s.medWall.Seconds(), s.medCPU.Seconds(),
			s.medEvents, mb/s.medWall.Seconds(), float64(ds.n)/s.medCPU.Seconds(), mib(s.medRSS))
		fmt.Printf("%-8s %-6s %d files, %.1f MiB of Parquet\n", "", "output", s.files, mib(s.out))
	}
	if bl != nil {
		fmt.Printf("kfake broker (in the bench process) used a median %.2fs CPU per binlake run, on the same %d CPUs\n", bl.brokerMed.Seconds(), runtime.NumCPU())
	}
	fmt.Println()
	if bl != nil && base != nil {
		fmt.Printf("binlake/baseline (median): wall %.3f, CPU %.3f, peak RSS %.3f\n",
			bl.medWall.Seconds()/base.medWall.Seconds(), bl.medCPU.Seconds()/base.medCPU.Seconds(), float64(bl.medRSS)/float64(base.medRSS))
	}
	if bl != nil && dd != nil {
		best := dd.bestWall.Seconds() / bl.bestWall.Seconds()
		med := dd.medWall.Seconds() / bl.medWall.Seconds()
		cpu := dd.medCPU.Seconds() / bl.medCPU.Seconds()
		fmt.Printf("ratio binlake/DuckDB (throughput): best %.2fx, median %.2fx; CPU efficiency (DuckDB CPU / binlake CPU, median) %.2fx\n", best, med, cpu)
		fmt.Printf("goal >= %.1fx DuckDB (best):            %.2fx  %s\n", goalRatio, best, verdict(best >= goalRatio))
	}
	if bl != nil {
		fmt.Printf("goal >= %dk events/s on %d cores (best): %.0fk  %s\n", goalEventsPS/1000, o.procs, bl.bestEvents/1000, verdict(bl.bestEvents >= goalEventsPS))
		fmt.Printf("goal peak RSS <= %d MiB (max of runs):  %.0f MiB  %s\n", goalPeakRSSMB, mib(bl.maxRSS), verdict(mib(bl.maxRSS) <= goalPeakRSSMB))
	}
}

func verdict(ok bool) string {
	if ok {
		return "MET"
	}
	return "NOT MET"
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func compressionCodec(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "none":
		return kgo.NoCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("-compression %q: want none, snappy, lz4 or zstd", name)
}

// moduleRoot returns the directory of the binlake module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the benchmark inside the binlake module (go run ./tools/bench)")
	}
	return filepath.Dir(gomod), nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load average unknown"
	}
	return "load average " + strings.Join(f[:3], " ")
}
