package main

import (
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/snapshot"
	"github.com/binlake/binlake/warehouse"
)

// loadTableConfig loads --config for a command of one table (--table),
// that reads MySQL when needSources.
func (a *app) loadTableConfig(table string, needSources bool) (*config.Config, error) {
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
	if len(cfg.Sources) == 0 && needSources {
		return nil, usagef("%s has no sources: (the MySQL instances to read table %s from)", a.configPath, table)
	}
	return cfg, nil
}

func (a *app) snapshotCommand() *cobra.Command {
	var table, date, position, source string
	var fromFiles []string
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
same --date.

With --from-files it publishes existing Parquet or CSV files (a DataX or
Hive export) instead, stamped with the declared --position. See
docs/snapshot.md.`,
		Example: indent(`binlake snapshot --config binlake.yaml --table orders
binlake snapshot --config binlake.yaml --table orders --date 2024-03-01 --parallel 2 --rate 20000
binlake snapshot --config binlake.yaml --table orders --from-files 'export/*.parquet' --position mysql-bin.000042:1534`),
	}, func(cmd *cobra.Command) error {
		cfg, err := a.loadTableConfig(table, len(fromFiles) == 0)
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
		ctx := cmd.Context()
		if len(fromFiles) > 0 {
			files, err := expandFiles(fromFiles)
			if err != nil {
				return err
			}
			if position == "" {
				return usagef("--from-files needs --position: where the export stands in the change stream (FILE:POS, or start / TOPIC/PARTITION:OFFSET,… for canal and rowjson)")
			}
			st, err := a.openStore(ctx, cfg)
			if err != nil {
				return err
			}
			s, err := snapshot.Import(ctx, snapshot.ImportOptions{Store: st, Config: cfg, Table: table, Date: o.Date,
				Files: files, Position: position, Source: source, Log: a.log})
			if s != nil {
				a.details = s
				a.line = s.Line()
			}
			return err
		}
		if source != "" {
			return usagef("--source is for --from-files")
		}
		if position != "" {
			if _, err := snapshot.OffsetStamp(position); err != nil {
				return usagef("%v", err)
			}
		}
		st, err := a.openStore(ctx, cfg)
		if err != nil {
			return err
		}
		o.Store, o.Config, o.Table, o.Position, o.Log = st, cfg, table, position, a.log
		if bar := a.progressBar("snapshot " + table); bar != nil {
			defer func() { _ = bar.Finish() }()
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
	f.StringVar(&position, "position", "", "canal and rowjson: start (default) or TOPIC/PARTITION:OFFSET,…; with --from-files also FILE:POS (see docs/snapshot.md)")
	f.StringSliceVar(&fromFiles, "from-files", nil, "publish existing .parquet or .csv files (paths or globs, comma-separated) instead of reading MySQL; needs --position")
	f.StringVar(&source, "source", "", "with --from-files: the physical table DB.TABLE of rows whose files have no _source_db/_source_table columns")
	return c
}

// expandFiles expands --from-files globs; a pattern that matches nothing is
// a usage error.
func expandFiles(patterns []string) ([]string, error) {
	var files []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil || len(m) == 0 {
			return nil, usagef("--from-files %s: no such file", p)
		}
		files = append(files, m...)
	}
	return files, nil
}
