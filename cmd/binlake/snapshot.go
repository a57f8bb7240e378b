package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/snapshot"
	"github.com/binlake/binlake/warehouse"
)

// loadTableConfig loads --config for a command of one table (--table).
func (a *app) loadTableConfig(table string) (*config.Config, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	if table == "" {
		return nil, usagef("--table is required")
	}
	if cfg.Table(table) == nil {
		return nil, usagef("--table %s: no such table in %s", table, a.configPath)
	}
	return cfg, nil
}

func (a *app) snapshotCommand() *cobra.Command {
	var table, date, position string
	var o snapshot.Options
	c := a.subcommand(&cobra.Command{
		Use:   "snapshot",
		Short: "Copy a table from MySQL into its first snapshot (once per table)",
		Long: `Reads every shard of a table from its MySQL sources in primary-key chunks,
stamps each row with the binlog position read before the first chunk, and
publishes the result as the table's first snapshot, snapshot/<table>/dt=D0
(default: yesterday, so the daily merge of today builds on it).

Rows are staged under snapshot/<table>/_bootstrap/ chunk by chunk; a run that
is killed continues from its last finished chunk when started again with the
same --date. See docs/snapshot.md.`,
		Example: indent(`binlake snapshot --config binlake.yaml --table orders
binlake snapshot --config binlake.yaml --table orders --date 2024-03-01 --parallel 2 --rate 20000`),
	}, func(cmd *cobra.Command) error {
		cfg, err := a.loadTableConfig(table)
		if err != nil {
			return err
		}
		if date != "" {
			d, err := warehouse.ParseDate(date)
			if err != nil {
				return usagef("--date: %v", err)
			}
			o.Date = d
		}
		if position != "" {
			if _, err := snapshot.OffsetStamp(position); err != nil {
				return usagef("%v", err)
			}
		}
		ctx := cmd.Context()
		st, err := a.openStore(ctx, cfg)
		if err != nil {
			return err
		}
		o.Store, o.Config, o.Table, o.Position, o.Log = st, cfg, table, position, a.log
		if bar := a.progressBar("snapshot " + table); bar != nil {
			defer bar.Finish()
			o.Progress = func(p snapshot.Progress) {
				if p.RowsGuessed > 0 {
					bar.ChangeMax64(p.RowsGuessed)
				}
				_ = bar.Set64(p.Rows)
			}
		} else {
			last := time.Now()
			o.Progress = func(p snapshot.Progress) {
				if time.Since(last) < 10*time.Second {
					return
				}
				last = time.Now()
				a.log.Info("snapshot progress", "table", table, "rows", p.Rows, "chunks", p.Chunks,
					"shards_done", p.ShardsDone, "shards", p.Shards, "rows_per_second", int64(p.RowsPerSec), "eta", p.ETA.Round(time.Second).String())
			}
		}
		s, err := snapshot.Run(ctx, o)
		if s != nil {
			a.details = s
			a.line = s.Line()
		}
		return err
	})
	f := c.Flags()
	f.StringVar(&table, "table", "", "the logical table to copy (required)")
	f.StringVar(&date, "date", "", "publish as snapshot dt=DATE, YYYY-MM-DD (default: yesterday in the warehouse time zone)")
	f.IntVar(&o.Parallel, "parallel", snapshot.DefaultParallel, "shards read at once")
	f.IntVar(&o.ChunkRows, "chunk-rows", snapshot.DefaultChunkRows, "rows per query")
	f.Float64Var(&o.Rate, "rate", 0, "most rows read per second over all shards (0: no limit)")
	f.StringVar(&position, "position", "", "canal and rowjson only: start (default) or TOPIC/PARTITION:OFFSET,… (see docs/snapshot.md)")
	return c
}
