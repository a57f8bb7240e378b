package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/ddl"
	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
	"github.com/binlake/binlake/workload"
)

const demoTopic = "binlog_demo"

// demoMarker marks a directory binlake demo made, so that a re-run may
// empty it and nothing else.
const demoMarker = ".binlake-demo"

func (a *app) demoCommand() *cobra.Command {
	var (
		format     string
		dir        string
		seed       uint64
		days       int
		partitions int
		perHour    int
	)
	c := a.subcommand(&cobra.Command{
		Use:   "demo",
		Short: "Run the whole pipeline on generated changes in an embedded Kafka and check the result",
		Long: `Starts an embedded Kafka on 127.0.0.1, generates two days of MySQL changes
(sharded orders over several databases and tables with colliding ids, an
unsharded users table; inserts, updates, deletes, key changes, multi-row
events and late records) in the chosen format, and runs the pipeline as a
scheduler would: an ingest run after every hour, checkdone and merge for
each day (checkdone is also asked at 23:20, and must say not ready). Ingest runs in this process on a simulated clock (an hour of
changes, then the run at 20 minutes past the next hour), so hours become
ready and late records are late as in production. It prints the tables,
row counts, where the files are and queries to paste into DuckDB and Trino,
then compares every snapshot day with the generator's model, cell for
cell: PASS, or FAIL and exit 1.

--dir is emptied first if an earlier demo made it; any other non-empty
directory is refused. It then holds binlake.yaml (the configuration the
demo ran with; its Kafka is gone once the demo ends, the rest works with
checkdone and merge) and warehouse/.`,
		Example: indent(`binlake demo
binlake demo --format debezium --dir /tmp/binlake-demo`),
	}, func(cmd *cobra.Command) error {
		if !slices.Contains(workload.Formats, format) {
			return usagef("--format %q: want one of %s", format, strings.Join(workload.Formats, ", "))
		}
		if days < 1 || partitions < 1 || perHour < 1 {
			return usagef("--days, --partitions and --events-per-hour must be at least 1")
		}
		cfg := workload.DefaultConfig()
		cfg.Seed, cfg.Days, cfg.EventsPerHour = seed, days, perHour
		d := &demo{app: a, out: cmd.OutOrStdout(), format: format, partitions: partitions}
		return d.run(cmd.Context(), dir, cfg)
	})
	f := c.Flags()
	f.StringVar(&format, "format", "canal", "message format: "+strings.Join(workload.Formats, ", "))
	f.StringVar(&dir, "dir", "demo-warehouse", "directory for the configuration and the warehouse")
	f.Uint64Var(&seed, "seed", 1, "seed of the generated changes")
	f.IntVar(&days, "days", 2, "days of changes")
	f.IntVar(&partitions, "partitions", 4, "partitions of the Kafka topic")
	f.IntVar(&perHour, "events-per-hour", 60, "mean binlog events per hour")
	return c
}

type demo struct {
	*app
	out        io.Writer
	format     string
	partitions int
	cfgPath    string
	whDir      string
}

func (d *demo) printf(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

func (d *demo) run(ctx context.Context, dir string, cfg workload.Config) error {
	began := time.Now()
	w, err := workload.Generate(cfg)
	if err != nil {
		return err
	}
	if dir, err = prepareDemoDir(dir); err != nil {
		return err
	}
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(d.partitions), demoTopic))
	if err != nil {
		return fmt.Errorf("start embedded kafka: %w", err)
	}
	defer kc.Close()
	d.whDir = filepath.Join(dir, "warehouse")
	d.cfgPath = filepath.Join(dir, "binlake.yaml")
	yaml := fmt.Sprintf(`# Written by binlake demo. The Kafka below was embedded in the demo and is
# gone; checkdone and merge work with this file as it is.
warehouse: %s
timezone: UTC
kafka:
  brokers: [%s]
  topics: [%s]
  format: %s
%s`, d.whDir, strings.Join(kc.ListenAddrs(), ", "), demoTopic, d.format, w.TablesYAML())
	if err := os.WriteFile(d.cfgPath, []byte(yaml), 0o644); err != nil {
		return fmt.Errorf("write demo configuration: %w", err)
	}
	d.configPath = d.cfgPath
	conf, err := d.loadConfig()
	if err != nil {
		return err
	}
	o, err := d.ingestOptions(ctx, conf)
	if err != nil {
		return err
	}
	// Stage logs would drown the report: warnings and errors only.
	o.Log = slog.New(slog.NewTextHandler(d.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st := o.Store
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(demoTopic))
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	enc, err := workload.NewEncoder(d.format, d.partitions)
	if err != nil {
		return err
	}
	all := w.Stats(w.Slots())
	d.printf("binlake demo: %d days of MySQL changes as %s messages in an embedded Kafka (%s, %d partitions)\n",
		cfg.Days, d.format, demoTopic, d.partitions)
	d.printf("  %d binlog events, %d row changes: %d inserts, %d updates (%d change the key), %d deletes; %d multi-row events, %d late events\n\n",
		all.Events, all.Rows, all.Inserts, all.Updates, all.KeyChanges, all.Deletes, all.MultiRow, all.Late)

	var dayIngest ingest.Summary
	runs, notReady := 0, ""
	for s := range w.Slots() {
		if err := produceSlot(ctx, cl, enc, w.Slot(s)); err != nil {
			return err
		}
		// The hourly run, at 20 minutes past the next hour.
		at := w.SlotTime(s + 1).Add(20 * time.Minute)
		o.Now = func() time.Time { return at }
		o.RunID = fmt.Sprintf("demo-%03d", s)
		sum, err := ingest.Run(ctx, o)
		if err != nil {
			return fmt.Errorf("ingest run for %s: %w", w.SlotTime(s).Format("2006-01-02 15:04"), err)
		}
		runs++
		dayIngest.Records += sum.Records
		dayIngest.Late += sum.Late
		dayIngest.Files += sum.Files
		for i := range cfg.Days {
			if s+3 == w.SlotsThroughDay(i) {
				// 23:20: hour 23 is still open, so the day is not.
				code, line := d.invoke(ctx, "checkdone", "--config", d.cfgPath, "--date", w.Day(i).String())
				if code != exitNotReady {
					return fmt.Errorf("binlake checkdone --date %s at %s: exit %d, want %d (not ready): %s", w.Day(i), at.Format("2006-01-02 15:04"), code, exitNotReady, line)
				}
				notReady = fmt.Sprintf("  at %s: %s\n", at.Format("2006-01-02 15:04"), line)
			}
			if s+1 != w.SlotsThroughDay(i) {
				continue
			}
			day := w.Day(i)
			d.printf("day %s: %d hourly ingest runs read %d records into %d binlog files, %d rows late\n",
				day, runs, dayIngest.Records, dayIngest.Files, dayIngest.Late)
			d.printf("%s", notReady)
			dayIngest, runs = ingest.Summary{}, 0
			for _, args := range [][]string{{"checkdone"}, {"merge"}} {
				code, line := d.invoke(ctx, append(args, "--config", d.cfgPath, "--date", day.String())...)
				d.printf("  at %s: %s\n", at.Format("2006-01-02 15:04"), line)
				if code != exitOK {
					return fmt.Errorf("binlake %s --date %s: exit %d", args[0], day, code)
				}
			}
		}
	}
	d.report(ctx, st, w)
	failed := d.selfCheck(ctx, st, w)
	d.printf("\n(%.1fs)\n", time.Since(began).Seconds())
	a := d.app
	if failed > 0 {
		a.line = fmt.Sprintf("FAIL: %d table-days differ from the model", failed)
		return errors.New(a.line)
	}
	a.line = fmt.Sprintf("PASS: %d days × %d tables equal the model; warehouse %s", cfg.Days, len(w.Tables()), d.whDir)
	return nil
}

// prepareDemoDir makes dir ready for a demo: created, or emptied if an
// earlier demo made it. It returns dir made absolute.
func prepareDemoDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("--dir %s: %w", dir, err)
	}
	entries, err := os.ReadDir(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return "", fmt.Errorf("--dir %s: %w", dir, err)
	case len(entries) == 0:
	default:
		if _, err := os.Stat(filepath.Join(abs, demoMarker)); err != nil {
			return "", usagef("--dir %s is not empty and was not made by binlake demo; give an empty or new directory", dir)
		}
		if err := os.RemoveAll(abs); err != nil {
			return "", fmt.Errorf("empty the earlier demo in %s: %w", dir, err)
		}
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("--dir %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(abs, demoMarker), []byte("made by binlake demo; a re-run empties this directory\n"), 0o644); err != nil {
		return "", fmt.Errorf("--dir %s: %w", dir, err)
	}
	return abs, nil
}

// produceSlot produces one slot's events in binlog order.
func produceSlot(ctx context.Context, cl *kgo.Client, enc *workload.Encoder, events []workload.Event) error {
	var recs []*kgo.Record
	for i := range events {
		msgs, err := enc.Encode(&events[i])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			r := &kgo.Record{Partition: m.Partition, Key: m.Key, Value: m.Value, Timestamp: m.Timestamp}
			for _, h := range m.Headers {
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
			}
			recs = append(recs, r)
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce to the embedded kafka: %w", err)
	}
	return nil
}

// invoke runs a binlake command line in this process, as the binary would,
// and returns its exit code and one-line summary.
func (d *demo) invoke(ctx context.Context, args ...string) (int, string) {
	var errb bytes.Buffer
	code := run(ctx, append(args, "--log-level", "warn", "--log-format", "text"), env{stdout: io.Discard, stderr: &errb, lookup: d.lookup})
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	return code, lines[len(lines)-1]
}

// report prints the tables, where their files are and queries to run.
func (d *demo) report(ctx context.Context, st storage.Store, w *workload.Workload) {
	d.printf("\nSnapshot tables in %s:\n", d.whDir)
	last := w.Day(w.Config.Days - 1)
	for _, t := range w.Tables() {
		for i := range w.Config.Days {
			day := w.Day(i)
			m, err := warehouse.ReadManifest(ctx, st, t.Name, day)
			if err != nil {
				d.printf("  %-7s dt=%s: %v\n", t.Name, day, err)
				continue
			}
			d.printf("  %-7s dt=%s: %6d rows in %d files (+%d ~%d -%d, %d late changes applied, %d tombstones kept)\n", t.Name, day, m.Rows, len(m.Files),
				m.Stats["inserted"], m.Stats["updated"], m.Stats["deleted"], m.Stats["late_applied"], m.Stats["tombstones"])
		}
	}
	d.printf(`
Files:
  %[1]s/snapshot/<table>/dt=YYYY-MM-DD/*.parquet         the table at the end of each day
  %[1]s/binlog/<table>/dt=YYYY-MM-DD/hr=HH/*.parquet     every change, hour by hour
  (names starting with _ are bookkeeping: commit records, ready markers, manifests)

DuckDB (duckdb -c "..."; DuckDB's globs do not skip _-files, so name the data files part-*):
  SELECT status, count(*), sum(amount) FROM read_parquet('%[1]s/snapshot/orders/dt=%[2]s/part-*.parquet') GROUP BY status ORDER BY status;
  SELECT _source_db, _source_table, id, _op, status, _pos FROM read_parquet('%[1]s/binlog/orders/*/*/*.parquet', hive_partitioning = true) WHERE dt = '%[2]s' AND hr = 10 ORDER BY _pos LIMIT 20;

Trino (Hive connector; copy the warehouse to your object store first, e.g. s3://lake/demo;
binlake ddl --config %[3]s --table orders --dialect trino --schema demo --location s3://lake/demo
writes these; --dialect hive, spark or duckdb for the others):
%[4]s
  SELECT status, count(*) FROM demo.orders WHERE dt = '%[2]s' GROUP BY status;
`, d.whDir, last, d.cfgPath, d.trinoDDL(ctx, st, "orders", last))
}

// trinoDDL is the Trino DDL of table as binlake ddl writes it, with the
// columns of a snapshot day's manifest (they depend on the input format:
// Maxwell and rowjson carry no declared types).
func (d *demo) trinoDDL(ctx context.Context, st storage.Store, table string, day warehouse.Date) string {
	m, err := warehouse.ReadManifest(ctx, st, table, day)
	if err != nil {
		return "  -- " + err.Error()
	}
	r, err := ddl.Generate(ddl.Options{Dialect: ddl.Trino, Table: table, Location: "s3://lake/demo", Schema: "demo", Columns: m.Columns})
	if err != nil {
		return "  -- " + err.Error()
	}
	return indent(r.SQL)
}

// selfCheck compares every snapshot day with the model and prints PASS or
// FAIL per table and day; it returns the number that failed.
func (d *demo) selfCheck(ctx context.Context, st storage.Store, w *workload.Workload) int {
	d.printf("\nSelf-check against the generator's model:\n")
	failed := 0
	for i := range w.Config.Days {
		day := w.Day(i)
		want := w.Expected(i, w.SlotsThroughDay(i))
		for _, t := range w.Tables() {
			got, err := readSnapshotRows(ctx, st, t, day)
			if err == nil {
				err = compareRows(t, got, want[t.Name])
			}
			if err != nil {
				failed++
				d.printf("  FAIL %-7s dt=%s: %v\n", t.Name, day, err)
				continue
			}
			d.printf("  PASS %-7s dt=%s: %d rows equal the model, cell for cell\n", t.Name, day, len(got))
		}
	}
	return failed
}

// compareRows compares a snapshot, sorted, with the model's rows.
func compareRows(t *workload.Table, got [][]*string, want []workload.ExpectedRow) error {
	slices.SortFunc(got, func(a, b []*string) int { return workload.CompareKeys(a, b) })
	names := append([]string{"_source_db", "_source_table"}, columnNames(t)...)
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			return fmt.Errorf("%d rows, want %d: missing %v", len(got), len(want), showRow(t.ExpectRow(want[i])))
		case i >= len(want):
			return fmt.Errorf("%d rows, want %d: extra %v", len(got), len(want), showRow(got[i]))
		}
		e := t.ExpectRow(want[i])
		for j := range e {
			if showCell(got[i][j]) != showCell(e[j]) {
				return fmt.Errorf("row %d column %s: %s, want %s (row %v, want %v)", i, names[j], showCell(got[i][j]), showCell(e[j]), showRow(got[i]), showRow(e))
			}
		}
	}
	return nil
}

func columnNames(t *workload.Table) []string {
	var out []string
	for _, c := range t.Columns {
		out = append(out, c.Name)
	}
	return out
}

func showCell(p *string) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *p)
}

func showRow(r []*string) string {
	var parts []string
	for _, p := range r {
		parts = append(parts, showCell(p))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// readSnapshotRows reads a snapshot day through its manifest: per row
// _source_db, _source_table and the table's columns in canonical form.
func readSnapshotRows(ctx context.Context, st storage.Store, t *workload.Table, day warehouse.Date) ([][]*string, error) {
	m, err := warehouse.ReadManifest(ctx, st, t.Name, day)
	if err != nil {
		return nil, err
	}
	types := map[string]schema.Type{}
	for _, c := range m.Columns {
		typ, err := schema.ParseType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("manifest column %s: %w", c.Name, err)
		}
		types[c.Name] = typ
	}
	var rows [][]*string
	for _, mf := range m.Files {
		b, err := storage.ReadAll(ctx, st, mf.Key)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", mf.Key, err)
		}
		f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", mf.Key, err)
		}
		index := map[string]int{}
		for i, path := range f.Schema().Columns() {
			index[strings.Join(path, ".")] = i
		}
		need := append([]string{"_source_db", "_source_table"}, columnNames(t)...)
		for _, n := range need {
			if _, ok := index[n]; !ok {
				return nil, fmt.Errorf("%s has no column %s", mf.Key, n)
			}
		}
		r := parquet.NewReader(f)
		buf := make([]parquet.Row, 256)
		for {
			n, err := r.ReadRows(buf)
			for _, pr := range buf[:n] {
				row := make([]*string, len(need))
				for j, name := range need {
					pv := pr[index[name]]
					if j < 2 {
						s := string(pv.ByteArray())
						row[j] = &s
						continue
					}
					c := t.Columns[j-2]
					v, err := schema.FromParquet(pv, types[name])
					if err == nil {
						row[j], err = c.Canonical(v)
					}
					if err != nil {
						r.Close()
						return nil, fmt.Errorf("%s column %s: %w", mf.Key, name, err)
					}
				}
				rows = append(rows, row)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Close()
				return nil, fmt.Errorf("read %s: %w", mf.Key, err)
			}
		}
		if err := r.Close(); err != nil {
			return nil, fmt.Errorf("read %s: %w", mf.Key, err)
		}
	}
	return rows, nil
}
