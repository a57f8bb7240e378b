// Command mergeprof runs one merge in process, wired as binlake merge
// wires it (memory limit at the budget, GOGC=25, unless the environment
// sets GOMEMLIMIT or GOGC), over a warehouse that the
// merge benchmark generated (go run ./merge/bench keeps them in its -dir),
// and prints the run's CPU seconds, allocations and output bytes; with
// -cpuprofile or -memprofile it writes the profiles too; with -timeline
// 100ms it prints the run's log lines and, every 100 ms, the cores it
// kept busy, the page faults it took, its resident set and its heap
// objects (live or not yet swept), timed from the start (to see the phases where only one core works, and
// where memory is first touched). The day is removed
// first, so runs can be repeated and alternated between builds:
//
//	go run ./merge/bench -dir /tmp/mb -rows 4000000 -changes 400000 -runs 1 -shapes uniform
//	go run ./tools/mergeprof -config /tmp/mb/uniform-4000000-400000-plain/binlake.yaml -cpuprofile /tmp/merge.prof
//	go tool pprof -top -cum /tmp/merge.prof
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

func main() {
	cfgPath := flag.String("config", "", "configuration of the benchmark warehouse")
	date := flag.String("date", "2024-03-02", "day to merge")
	cpuProfile := flag.String("cpuprofile", "", "write the CPU profile here")
	memProfile := flag.String("memprofile", "", "write the allocation profile here")
	timeline := flag.Duration("timeline", 0, "print the run's log lines and, every this often, the cores it used and the page faults it took since the last line, its resident set and its heap objects, live or not yet swept (to find phases where one core works, or memory is first touched)")
	flag.Parse()
	if err := run(*cfgPath, *date, *cpuProfile, *memProfile, *timeline); err != nil {
		fmt.Fprintln(os.Stderr, "mergeprof:", err)
		os.Exit(1)
	}
}

func run(cfgPath, date, cpuProfile, memProfile string, timeline time.Duration) error {
	cfg, err := config.Load(cfgPath, os.LookupEnv)
	if err != nil {
		return err
	}
	if len(cfg.Tables) != 1 {
		return fmt.Errorf("%s: want the benchmark's one table, got %d", cfgPath, len(cfg.Tables))
	}
	d, err := warehouse.ParseDate(date)
	if err != nil {
		return err
	}
	if cfg.Warehouse.Scheme != "file" {
		return fmt.Errorf("%s: a %s warehouse: want a local one, as the merge benchmark writes", cfgPath, cfg.Warehouse.Scheme)
	}
	st, err := local.New(cfg.Warehouse.Path)
	if err != nil {
		return err
	}
	t := cfg.Tables[0]
	if err := os.RemoveAll(filepath.Join(cfg.Warehouse.Path, warehouse.SnapshotDir(t.Name, d))); err != nil {
		return fmt.Errorf("remove the day: %w", err)
	}
	// As binlake merge: the environment overrides both.
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(cfg.Merge.MemoryBudget)
	}
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(25)
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
	}
	o := merge.ConfigOptions(cfg, t)
	o.Store, o.Date = st, d
	var ru0, ru1 syscall.Rusage
	if timeline > 0 {
		stop := startTimeline(&o, timeline)
		defer stop()
	}
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru0); err != nil {
		return fmt.Errorf("getrusage: %w", err)
	}
	start := time.Now()
	s, err := merge.Run(context.Background(), o)
	wall := time.Since(start)
	rerr := syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	pprof.StopCPUProfile()
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	if rerr != nil {
		return fmt.Errorf("getrusage: %w", rerr)
	}
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("%s\nallocated %d MiB in %d objects, %d GCs; wall %.2fs cpu %.2fs user %.2fs sys %.2fs bytes written %d\n", s.Line(), ms.TotalAlloc>>20, ms.Mallocs, ms.NumGC, wall.Seconds(), cpu.Seconds(),
		time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()).Seconds(), time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano()).Seconds(), s.BytesWritten)
	if memProfile != "" {
		mf, err := os.Create(memProfile)
		if err != nil {
			return fmt.Errorf("allocation profile: %w", err)
		}
		defer mf.Close()
		if err := pprof.Lookup("allocs").WriteTo(mf, 0); err != nil {
			return fmt.Errorf("allocation profile: %w", err)
		}
	}
	return nil
}

// rss is the process's resident set in bytes (0 where /proc does not
// tell).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, res int64
	if _, err := fmt.Sscan(string(b), &size, &res); err != nil {
		return 0
	}
	return res * int64(os.Getpagesize())
}

// startTimeline prints o's log lines and, every interval, the CPU
// seconds per second the process used since the last line, the page
// faults since then, the resident set and the heap objects (live or not
// yet swept), each with the time since the start; stop ends it.
func startTimeline(o *merge.Options, interval time.Duration) (stop func()) {
	start := time.Now()
	o.Log = slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Float64("t", time.Since(start).Seconds())
		}
		return a
	}}))
	usage := func() (time.Duration, int64) {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Minflt
	}
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		last, lastF := usage()
		lastT := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				c, f := usage()
				metrics.Read(heap)
				fmt.Printf("t=%.2f cores=%.2f faults=%d rss=%dMiB heap=%dMiB\n", now.Sub(start).Seconds(), (c-last).Seconds()/now.Sub(lastT).Seconds(),
					f-lastF, rss()>>20, heap[0].Value.Uint64()>>20)
				last, lastF, lastT = c, f, now
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
