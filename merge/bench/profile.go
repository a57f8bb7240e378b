package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// profileArg is the first argument with which the benchmark runs as a
// profiled merge instead: merge.Run in this process over a warehouse the
// benchmark generated, wired as `binlake merge` wires it (GOMEMLIMIT at
// the budget, GOGC 25, unless the environment sets them), with a CPU
// profile. The day's previous output is removed first.
//
//	go run ./merge/bench _profile-merge -config DIR/binlake.yaml -cpuprofile cpu.pprof
const profileArg = "_profile-merge"

func profileMerge(args []string) error {
	fl := flag.NewFlagSet(profileArg, flag.ContinueOnError)
	cfgPath := fl.String("config", "", "binlake.yaml of a generated shape (in -dir of the benchmark)")
	cpuProfile := fl.String("cpuprofile", "", "write the CPU profile here")
	memProfile := fl.String("memprofile", "", "write the allocation profile here")
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
	t := cfg.Table("orders")
	if t == nil {
		return fmt.Errorf("%s: no table orders", *cfgPath)
	}
	if err := os.RemoveAll(filepath.Join(cfg.Warehouse.Path, warehouse.SnapshotDir(t.Name, day))); err != nil {
		return err
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(cfg.Merge.MemoryBudget)
	}
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(25)
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	o := merge.ConfigOptions(cfg, *t)
	o.Store, o.Date, o.CommitCache = st, day, merge.NewCommitCache()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	start := time.Now()
	sum, err := merge.Run(context.Background(), o)
	wall := time.Since(start)
	pprof.StopCPUProfile()
	if err != nil {
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
	fmt.Printf("profiled merge: %s in %.2fs\n", sum.Line(), wall.Seconds())
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
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindFloat64:
			fmt.Printf("  %-34s %12.2f\n", s.Name, s.Value.Float64())
		case metrics.KindUint64:
			fmt.Printf("  %-34s %12d\n", s.Name, s.Value.Uint64())
		}
	}
}
