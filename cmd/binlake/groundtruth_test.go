package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/storage/s3"
	"github.com/binlake/binlake/storage/s3/s3test"
	"github.com/binlake/binlake/warehouse"
	"github.com/binlake/binlake/workload"
)

// TestGroundTruthUnderKill runs the whole pipeline with real binlake
// processes on the workload's history, for every input format, with the
// warehouse on local disk (timezone UTC) and on S3 (versitygw; timezone
// Asia/Shanghai, so days and hours are not UTC ones): the history is produced
// into Kafka in batches of hours, and after each batch binlake ingest runs
// and is killed with SIGKILL at a random instant, then run again until it
// finishes; after each day binlake checkdone must say ready and binlake
// merge is killed at random instants and re-run; at the end every day is
// merged once more. Every published snapshot day — after the final merge,
// after any killed merge that got as far as publishing, and after the
// merges at the end — read back by DuckDB through its manifest, equals the
// model's state row for row and cell for cell, and the committed binlog
// files hold every row change exactly once.
func TestGroundTruthUnderKill(t *testing.T) {
	if raceEnabled {
		t.Skip("runs in the non-race pass of make test: it drives real binlake processes")
	}
	if testing.Short() {
		t.Skip("builds and kills binlake processes")
	}
	duckdbtest.Require(t)
	bin := buildBinary(t)
	srv := s3test.Start(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (kill instants and the history; set BINLAKE_GROUND_TRUTH_SEED to repeat)", seed)
	if s := os.Getenv("BINLAKE_GROUND_TRUTH_SEED"); s != "" {
		if _, err := fmt.Sscan(s, &seed); err != nil {
			t.Fatalf("BINLAKE_GROUND_TRUTH_SEED %q: %v", s, err)
		}
	}
	for i, format := range workload.Formats {
		for _, where := range []string{"local", "s3"} {
			t.Run(format+"/"+where, func(t *testing.T) {
				g := &groundTruth{t: t, bin: bin, format: format, rng: rand.New(rand.NewPCG(seed, uint64(i)))}
				if where == "s3" {
					g.useS3(srv)
				} else {
					g.useLocal()
				}
				g.run(seed + uint64(i))
			})
		}
	}
}

// buildBinary builds binlake for tests that run it as a process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "binlake")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build binlake: %v\n%s", err, out)
	}
	return bin
}

type groundTruth struct {
	t      *testing.T
	bin    string
	format string
	rng    *rand.Rand
	// whYAML is the warehouse part of the configuration.
	whYAML string
	zone   *time.Location
	st     storage.Store
	// localPath returns a local path DuckDB can read a warehouse key at.
	localPath func(key string) string
	cfg       string
	kills     int
	took      map[string]time.Duration // the last finished run of each command
}

func (g *groundTruth) useLocal() {
	wh := filepath.Join(g.t.TempDir(), "wh")
	st, err := local.New(wh)
	if err != nil {
		g.t.Fatal(err)
	}
	g.whYAML, g.st, g.zone = "warehouse: "+wh+"\ntimezone: UTC\n", st, time.UTC
	g.localPath = func(key string) string { return filepath.Join(wh, key) }
}

func (g *groundTruth) useS3(srv *s3test.Server) {
	t := g.t
	bucket := srv.NewBucket(t)
	st, err := s3.New(t.Context(), srv.Options(bucket, "ods"))
	if err != nil {
		t.Fatal(err)
	}
	g.st = st
	g.zone, err = time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	g.whYAML = fmt.Sprintf(`warehouse: s3://%s/ods
timezone: Asia/Shanghai
s3:
  endpoint: %s
  region: %s
  path_style: true
  access_key_id: %s
  secret_access_key: %s
`, bucket, srv.Endpoint, s3.DefaultRegion, srv.AccessKey, srv.SecretKey)
	downloads := t.TempDir()
	// DuckDB reads what the S3 server returns, downloaded.
	g.localPath = func(key string) string {
		b, err := storage.ReadAll(t.Context(), st, key)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(downloads, key)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

func (g *groundTruth) run(seed uint64) {
	t := g.t
	ctx := t.Context()
	// Days in the past, as when a warehouse catches up: the wall clock is
	// past every hour, so hours are ready as soon as the stream is read.
	cfg := workload.DefaultConfig()
	cfg.Seed, cfg.EventsPerHour, cfg.Shards = seed, 8, 2
	cfg.Start, cfg.Zone = warehouse.DateOf(time.Now().In(g.zone).AddDate(0, 0, -4)), g.zone
	w, err := workload.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const partitions = 3
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, demoTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(demoTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	enc, err := workload.NewEncoder(g.format, partitions)
	if err != nil {
		t.Fatal(err)
	}
	g.cfg = filepath.Join(t.TempDir(), "binlake.yaml")
	body := fmt.Sprintf(`%skafka:
  brokers: [%s]
  topics: [%s]
  format: %s
merge:
  memory_budget: 64MiB
  spill_dir: %s
%s`, g.whYAML, strings.Join(kc.ListenAddrs(), ", "), demoTopic, g.format, t.TempDir(), w.TablesYAML())
	if err := os.WriteFile(g.cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	g.took = map[string]time.Duration{"ingest": 300 * time.Millisecond, "merge": 500 * time.Millisecond}

	// Batches of six hours, cut where a day is merged.
	next := 0
	for s := 1; s <= w.Slots(); s++ {
		day := -1
		for d := range cfg.Days {
			if s == w.SlotsThroughDay(d) {
				day = d
			}
		}
		if s%6 != 0 && day < 0 && s != w.Slots() {
			continue
		}
		for ; next < s; next++ {
			if err := produceSlot(ctx, cl, enc, w.Slot(next)); err != nil {
				t.Fatal(err)
			}
		}
		g.untilDone(nil, "ingest")
		if day < 0 {
			continue
		}
		d := w.Day(day)
		if code, out := g.exec(0, "checkdone", "--date", d.String()); code != exitOK {
			t.Fatalf("checkdone --date %s: exit %d\n%s", d, code, out)
		}
		want := w.Expected(day, s)
		// A killed merge publishes all of the day or nothing.
		g.untilDone(func() {
			for _, tb := range w.Tables() {
				if _, err := g.st.Stat(ctx, warehouse.SnapshotManifest(tb.Name, d)); err == nil {
					g.compare(tb, d, want[tb.Name])
				}
			}
		}, "merge", "--date", d.String())
		for _, tb := range w.Tables() {
			g.compare(tb, d, want[tb.Name])
		}
	}
	// Merge is a function: merging a published day again, after later
	// days and late changes of it came in, gives the same day.
	for day := range cfg.Days {
		d := w.Day(day)
		want := w.Expected(day, w.SlotsThroughDay(day))
		g.untilDone(nil, "merge", "--date", d.String())
		for _, tb := range w.Tables() {
			g.compare(tb, d, want[tb.Name])
		}
	}
	st := w.Stats(w.Slots())
	g.exactlyOnce(st.BinlogRows)
	t.Logf("%d events (%d late, %d key changes, %d multi-row), %d kills (last clean ingest %v, merge %v), snapshots equal the model on every day",
		st.Events, st.Late, st.KeyChanges, st.MultiRow, g.kills, g.took["ingest"].Round(time.Millisecond), g.took["merge"].Round(time.Millisecond))
}

// untilDone runs a binlake command, first killed at a random instant (up
// to about as long as it last took, so most kills land mid-run), then
// again until it finishes; afterKill, if not nil, runs after each kill.
func (g *groundTruth) untilDone(afterKill func(), command string, flags ...string) {
	for attempt := 0; ; attempt++ {
		var kill time.Duration
		if attempt < 3 && g.rng.IntN(4) > 0 {
			kill = time.Duration(1 + g.rng.Int64N(int64(g.took[command])*5/4))
		}
		start := time.Now()
		code, out := g.exec(kill, append([]string{command}, flags...)...)
		switch code {
		case -1:
			g.kills++
			if afterKill != nil {
				afterKill()
			}
		case exitOK:
			g.took[command] = time.Since(start)
			return
		default:
			g.t.Fatalf("binlake %s %v: exit %d\n%s", command, flags, code, out)
		}
		if attempt > 10 {
			g.t.Fatalf("binlake %s %v never finished", command, flags)
		}
	}
}

// exec runs the binary with the configuration, killing it with SIGKILL
// after kill (0: never). It returns -1 when it was killed.
func (g *groundTruth) exec(kill time.Duration, args ...string) (int, string) {
	cmd := exec.Command(g.bin, append(args, "--config", g.cfg, "--log-format", "json", "--log-level", "warn")...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timer <-chan time.Time
	if kill > 0 {
		timer = time.After(kill)
	}
	var err error
	select {
	case err = <-done:
	case <-timer:
		_ = cmd.Process.Signal(syscall.SIGKILL)
		if err = <-done; err == nil {
			return exitOK, out.String() // finished just before the kill
		}
		return -1, out.String()
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err = <-done
		g.t.Fatalf("binlake %v: no exit after 2 minutes, killed (%v)\n%s", args, err, out.String())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		g.t.Fatal(err)
	}
	return exitOK, out.String()
}

// compare reads snapshot day d of tb through its manifest with DuckDB and
// compares it with the model's rows.
func (g *groundTruth) compare(tb *workload.Table, d warehouse.Date, want []workload.ExpectedRow) {
	t := g.t
	t.Helper()
	m, err := warehouse.ReadManifest(t.Context(), g.st, tb.Name, d)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range m.Files {
		files = append(files, duckdbtest.QuoteString(g.localPath(f.Key)))
	}
	var got [][]*string
	if len(files) > 0 {
		got = duckdbtest.Query(t, tb.SelectSQL("["+strings.Join(files, ", ")+"]")).Rows
	}
	if err := compareRows(tb, got, want); err != nil {
		t.Fatalf("%s dt=%s (format %s): %v", tb.Name, d, g.format, err)
	}
}

// exactlyOnce counts, with DuckDB, the rows of the binlog files the commit
// records make committed: every row change of the history exactly once.
func (g *groundTruth) exactlyOnce(want map[string]int) {
	t := g.t
	ctx := t.Context()
	chains := map[string][]*warehouse.Commit{}
	err := g.st.List(ctx, warehouse.CommitsPrefix, func(o storage.Object) error {
		if _, ok := warehouse.ParseCommitSeq(o.Key); !ok {
			return nil
		}
		b, err := storage.ReadAll(ctx, g.st, o.Key)
		if err != nil {
			return err
		}
		c := new(warehouse.Commit)
		if err := warehouse.Unmarshal(o.Key, b, c); err != nil {
			return err
		}
		p := fmt.Sprintf("%s/%d", c.Topic, c.Partition)
		chains[p] = append(chains[p], c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]string{}
	for _, chain := range chains {
		slices.SortFunc(chain, func(a, b *warehouse.Commit) int { return cmp.Compare(a.Seq, b.Seq) })
		for _, f := range warehouse.CommittedFiles(chain) {
			files[f.Table] = append(files[f.Table], duckdbtest.QuoteString(g.localPath(f.Key)))
		}
	}
	for table, n := range want {
		r := duckdbtest.Query(t, "SELECT count(*) AS n FROM read_parquet(["+strings.Join(files[table], ", ")+"])")
		if got := r.Text(0, "n"); got != strconv.Itoa(n) {
			t.Fatalf("%s: %s binlog rows committed, want %d (each row change exactly once)", table, got, n)
		}
	}
}
