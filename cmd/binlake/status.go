package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/status"
	"github.com/binlake/binlake/warehouse"
)

func (a *app) statusCommand() *cobra.Command {
	var (
		tables []string
		date   string
		days   int
		asJSON bool
		kafka  bool
	)
	c := a.subcommand(&cobra.Command{
		Use:   "status",
		Short: "Show ingest lag, ready hours, binlog rows and snapshots per table and day",
		Long: `Prints, from the warehouse's bookkeeping only (commit records, ready markers,
snapshot manifests, the _dlq/ listing; never a Parquet file):

  - per Kafka partition: the latest commit, its end offset, the watermark
    and the lag behind now, and the dead-letter files;
  - per day: the ready hours and the records sent to the dead-letter queue;
  - per table and day: committed binlog rows (late ones among them) and the
    snapshot's rows, files and merge statistics;
  - per table: snapshot days, the latest merge, and late rows waiting for
    the next merge.

By default the last 7 days up to today in the warehouse time zone. --json
prints the same as JSON for monitoring (fields: docs/operations.md). Lag is
measured from the committed watermark; --kafka also asks Kafka for its end
offsets and shows how many offsets each partition's committed stream is
behind, and the partitions that were never ingested.`,
		Example: indent(`binlake status --config binlake.yaml
binlake status --config binlake.yaml --table orders --date 2024-03-01
binlake status --config binlake.yaml --days 2 --json --kafka`),
	}, func(cmd *cobra.Command) error {
		cfg, err := a.loadConfig()
		if err != nil {
			return err
		}
		sel, err := selectTables(cfg, tables, a.configPath)
		if err != nil {
			return err
		}
		if days < 1 {
			return usagef("--days %d: want 1 or more", days)
		}
		zone := warehouse.NewZone(cfg.Location)
		now := time.Now()
		last := zone.DateOf(now)
		if date != "" {
			if cmd.Flags().Changed("days") {
				return usagef("--date and --days: give one of them")
			}
			if last, err = parseDateFlag(date); err != nil {
				return err
			}
			days = 1
		}
		o := status.Options{Zone: zone, Now: now}
		for _, t := range sel {
			o.Tables = append(o.Tables, t.Name)
		}
		for i := days - 1; i >= 0; i-- {
			o.Days = append(o.Days, last.AddDays(-i))
		}
		if kafka {
			if cfg.Kafka == nil {
				return usagef("--kafka: %s has no kafka section", a.configPath)
			}
			if o.EndOffsets, err = ingest.EndOffsets(cmd.Context(), cfg.Kafka); err != nil {
				return fmt.Errorf("kafka end offsets: %w", err)
			}
		}
		st, err := a.openStore(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		r, err := status.Build(cmd.Context(), st, o)
		if err != nil {
			return err
		}
		a.details = r
		out := cmd.OutOrStdout()
		if asJSON {
			b, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintln(out, string(b)); err != nil {
				return err
			}
		} else if err := r.WriteText(out); err != nil {
			return err
		}
		a.line = statusLine(r)
		return nil
	})
	f := c.Flags()
	f.StringSliceVar(&tables, "table", nil, "report these tables (repeatable; default: all tables)")
	f.StringVar(&date, "date", "", "report this day only, YYYY-MM-DD")
	f.IntVar(&days, "days", 7, "report this many days up to today")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON on stdout")
	f.BoolVar(&kafka, "kafka", false, "also read Kafka's end offsets: offsets behind per partition")
	return c
}

// statusLine is the one-line result: the worst lag and the days not ready.
func statusLine(r *status.Report) string {
	var worst *status.Partition
	for i, p := range r.Partitions {
		if p.LagSeconds != nil && (worst == nil || *p.LagSeconds > *worst.LagSeconds) {
			worst = &r.Partitions[i]
		}
	}
	notReady := 0
	for _, d := range r.Days {
		if d.ReadyHours < d.Hours {
			notReady++
		}
	}
	line := fmt.Sprintf("%d partitions, %d tables, %d of %d days not fully ready", len(r.Partitions), len(r.Tables), notReady, len(r.Days))
	if worst != nil {
		line += fmt.Sprintf(", largest lag %s (%s/%d)", time.Duration(*worst.LagSeconds*float64(time.Second)).Round(time.Second), worst.Topic, worst.Partition)
	}
	return line
}
