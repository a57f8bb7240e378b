package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"time"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// profileChildArg is the first argument with which the benchmark re-runs
// itself as the profiled ingest process: ingest.Run in a process of its
// own, so the profile holds binlake's work and not the kfake broker's,
// which lives in the parent.
const profileChildArg = "_profile-ingest"

// profileChild is the main of the profiled ingest process. It wires
// ingest.Run the way `binlake ingest` does (cmd/binlake ingestCommand) for
// a local warehouse and plain messages.
func profileChild(args []string) error {
	fl := flag.NewFlagSet(profileChildArg, flag.ContinueOnError)
	cfgPath := fl.String("config", "", "")
	cpuProfile := fl.String("cpuprofile", "", "")
	memProfile := fl.String("memprofile", "", "")
	traceFile := fl.String("trace", "", "")
	want := fl.Int64("n", 0, "")
	if err := fl.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath, os.LookupEnv)
	if err != nil {
		return err
	}
	st, err := local.New(cfg.Warehouse.Path)
	if err != nil {
		return err
	}
	o := ingest.DefaultOptions()
	o.Store, o.Kafka, o.Tables = st, cfg.Kafka, cfg.Tables
	o.Zone = warehouse.NewZone(cfg.Location)
	o.Grace, o.MaxDLQRatio = cfg.Ingest.Grace, cfg.Ingest.MaxDLQRatio
	o.MemoryBudget, o.MaxFileSize = cfg.Ingest.MemoryBudget, cfg.Ingest.MaxFileSize

	if *memProfile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	f, err := os.Create(*cpuProfile)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	if *traceFile != "" {
		tf, err := os.Create(*traceFile)
		if err != nil {
			return err
		}
		defer tf.Close()
		if err := trace.Start(tf); err != nil {
			return err
		}
		defer trace.Stop()
	}
	start := time.Now()
	sum, err := ingest.Run(context.Background(), o)
	wall := time.Since(start)
	pprof.StopCPUProfile()
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if sum.Records != *want {
		return fmt.Errorf("ingest read %d records, want %d: %s", sum.Records, *want, sum.Line())
	}
	if err := f.Close(); err != nil {
		return err
	}
	if *memProfile != "" {
		mf, err := os.Create(*memProfile)
		if err != nil {
			return err
		}
		if err := pprof.Lookup("allocs").WriteTo(mf, 0); err != nil {
			return err
		}
		if err := mf.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "profiled ingest: %s in %.2fs\n", sum.Line(), wall.Seconds())
	printRuntimeMetrics()
	return nil
}

// printRuntimeMetrics prints where the process's CPU went by the runtime's
// own accounting (GC against the program) and how much it allocated.
func printRuntimeMetrics() {
	names := []string{
		"/cpu/classes/total:cpu-seconds",
		"/cpu/classes/user:cpu-seconds",
		"/cpu/classes/gc/total:cpu-seconds",
		"/cpu/classes/scavenge/total:cpu-seconds",
		"/cpu/classes/idle:cpu-seconds",
		"/gc/cycles/total:gc-cycles",
		"/gc/heap/allocs:bytes",
		"/gc/heap/allocs:objects",
	}
	samples := make([]metrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	metrics.Read(samples)
	fmt.Fprintf(os.Stderr, "runtime metrics of the profiled ingest (GOMAXPROCS=%d):\n", runtime.GOMAXPROCS(0))
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindFloat64:
			fmt.Fprintf(os.Stderr, "  %-42s %12.2f\n", s.Name, s.Value.Float64())
		case metrics.KindUint64:
			fmt.Fprintf(os.Stderr, "  %-42s %12d\n", s.Name, s.Value.Uint64())
		}
	}
}

// profile runs the profiled ingest process into a fresh warehouse and
// prints the top of its CPU (and allocation) profile.
func profile(ctx context.Context, b *binlakeSide, cpuProfile, memProfile, traceFile string) error {
	if err := os.RemoveAll(b.warehouse); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{profileChildArg, "-config", b.config, "-cpuprofile", cpuProfile, "-n", strconv.Itoa(b.n)}
	if memProfile != "" {
		args = append(args, "-memprofile", memProfile)
	}
	if traceFile != "" {
		args = append(args, "-trace", traceFile)
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(b.gomaxprocs))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	wall, ru, peak, err := childUsage(cmd)
	os.Stderr.Write(stderr.Bytes())
	if err != nil {
		return fmt.Errorf("profiled ingest: %w", err)
	}
	fmt.Printf("\nprofiled ingest (in-process ingest.Run, GOMAXPROCS=%d): wall %.2fs, CPU %.2fs, peak RSS %.0f MiB; CPU profile %s\n",
		b.gomaxprocs, wall.Seconds(), cpuOf(ru).Seconds(), float64(peak)/(1<<20), cpuProfile)
	if err := os.RemoveAll(b.warehouse); err != nil {
		return err
	}
	var errs []error
	if err := breakdown(ctx, cpuProfile); err != nil {
		errs = append(errs, err)
	}
	for _, v := range []struct{ title, file string }{
		{"CPU, top 30 by flat", cpuProfile},
		{"CPU, top 30 by cumulative", cpuProfile},
		{"allocations (alloc_space), top 25 by flat", memProfile},
	} {
		if v.file == "" {
			continue
		}
		args := []string{"tool", "pprof", "-top", "-nodecount=30"}
		switch {
		case v.file == memProfile:
			args = []string{"tool", "pprof", "-top", "-nodecount=25", "-sample_index=alloc_space"}
		case v.title == "CPU, top 30 by cumulative":
			args = append(args, "-cum")
		}
		out, err := exec.CommandContext(ctx, "go", append(args, v.file)...).CombinedOutput()
		fmt.Printf("\n=== %s (go %s %s)\n%s", v.title, strings.Join(args, " "), v.file, out)
		if err != nil {
			errs = append(errs, fmt.Errorf("go tool pprof: %w", err))
		}
	}
	return errors.Join(errs...)
}

// stages are the parts of ingest the breakdown sums the CPU profile by:
// the samples with a function matching focus on their stack and none
// matching ignore. They can overlap (GC assists count under the
// allocating stage too).
var stages = []struct{ name, focus, ignore string }{
	{"Kafka fetch (franz-go client, not the record callback)", `kgo\.\(\*source\)\.|kgo\.\(\*brokerCxn\)|kgo\.ProcessFetchPartition`, ""},
	{"Canal decode (cdc: JSON parse, row images, values)", `cdc\.\(\*canalDecoder\)\.Decode`, ""},
	{"  of which the JSON parse (cdc jdoc.parse, canalDecoder.scan)", `cdc\.\(\*jdoc\)\.parse|cdc\.\(\*canalDecoder\)\.scan`, ""},
	{"copying decoded row images into the job (decode workers)", `ingest\.\(\*readBatch\)\.keep`, ""},
	{"routing (table rules)", `ingest\.\(\*router\)\.route`, ""},
	{"values: map columns, check types, coerce (run.values)", `ingest\.\(\*run\)\.values`, ""},
	{"  of which schema.Type.String", `schema\.Type\.String`, ""},
	{"  of which schema.Coerce", `schema\.Coerce`, ""},
	{"buffering rows (run.add, without the flushes it starts)", `ingest\.\(\*run\)\.add`, `ingest\.\(\*run\)\.flush`},
	{"Parquet encoding, all of it (run.encode)", `ingest\.\(\*run\)\.encode`, ""},
	{"  of which column values, without parquet-go (writeColumns)", `ingest\.writeColumns`, `parquet-go`},
	{"  of which zstd", `klauspost/compress/zstd`, ""},
	{"storage: local Put (write, fsync, rename)", `storage/local`, ""},
	{"commit, pending and ready records", `ingest\.\(\*run\)\.(commit|addPending|markReady)`, ""},
	{"allocation (runtime.mallocgc, anywhere)", `runtime\.mallocgc$`, ""},
	{"GC background marking (runtime.gcBgMarkWorker)", `runtime\.gcBgMarkWorker`, ""},
}

// breakdown prints how much of the profile's CPU each stage holds.
func breakdown(ctx context.Context, cpuProfile string) error {
	total, err := profileSeconds(ctx, cpuProfile, "", "")
	if err != nil {
		return err
	}
	fmt.Printf("\n=== where ingest's CPU goes: %.2fs of samples; stages overlap (go tool pprof -top -focus=RE -ignore=RE)\n", total)
	for _, st := range stages {
		sec, err := profileSeconds(ctx, cpuProfile, st.focus, st.ignore)
		if err != nil {
			return err
		}
		fmt.Printf("  %-60s %7.2fs %5.1f%%\n", st.name, sec, 100*sec/total)
	}
	return nil
}

var accountingFor = regexp.MustCompile(`Showing nodes accounting for ([0-9.]+)(ms|s|mins|hrs)?\b`)

// profileSeconds returns the CPU seconds of the samples that pass the
// focus and ignore filters.
func profileSeconds(ctx context.Context, file, focus, ignore string) (float64, error) {
	args := []string{"tool", "pprof", "-top", "-nodefraction=0", "-edgefraction=0"}
	if focus != "" {
		args = append(args, "-focus="+focus)
	}
	if ignore != "" {
		args = append(args, "-ignore="+ignore)
	}
	out, err := exec.CommandContext(ctx, "go", append(args, file)...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	m := accountingFor.FindSubmatch(out)
	if m == nil {
		if bytes.Contains(out, []byte("No samples")) || !bytes.Contains(out, []byte("flat")) {
			return 0, nil
		}
		return 0, fmt.Errorf("go %s: no total in %q", strings.Join(args, " "), tail(string(out), 300))
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return 0, err
	}
	switch string(m[2]) {
	case "ms":
		v /= 1000
	case "mins":
		v *= 60
	case "hrs":
		v *= 3600
	}
	return v, nil
}
