package main

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/binlake/binlake/checkdone"
	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/warehouse"
)

// mergeDetails is the JSON summary of binlake merge.
type mergeDetails struct {
	Date   string           `json:"date"`
	Forced bool             `json:"forced"`
	Tables []*merge.Summary `json:"tables"`
	Failed []string         `json:"failed,omitempty"`
}

func (a *app) mergeCommand() *cobra.Command {
	var date, table string
	var force bool
	c := a.subcommand(&cobra.Command{
		Use:   "merge",
		Short: "Merge yesterday's snapshot with day D's changes into snapshot dt=D",
		Long: `Builds snapshot/<table>/dt=D from snapshot dt=D-1 and the changes committed
for day D (plus late changes not merged yet): the change with the greatest
binlog position wins per key, deletes remove rows and leave tombstones,
and the new day is published atomically (its _manifest.json last, then
_SUCCESS). Files no change falls in are copied, not rewritten.

It first checks, as binlake checkdone does, that every hour of D is ready
and that the base day is there; a day that is not ready exits 75 (try
again later) unless --force. A re-run of a published day replaces it with
the same result. Two merges of one table and day never both publish: the
second fails with "another merge of this table and day is running".`,
		Example: indent(`binlake merge --config binlake.yaml --date 2024-03-01
binlake merge --config binlake.yaml --date 2024-03-01 --table orders --summary /tmp/merge.json`),
	}, func(cmd *cobra.Command) error {
		cfg, err := a.loadConfig()
		if err != nil {
			return err
		}
		d, err := parseDateFlag(date)
		if err != nil {
			return err
		}
		sel := cfg.Tables
		if table != "" {
			t := cfg.Table(table)
			if t == nil {
				return usagef("--table %s: no such table in %s", table, a.configPath)
			}
			sel = []config.Table{*t}
		}
		ctx := cmd.Context()
		st, err := a.openStore(ctx, cfg)
		if err != nil {
			return err
		}
		details := &mergeDetails{Date: d.String(), Forced: force}
		a.details = details
		zone := warehouse.NewZone(cfg.Location)
		if force {
			a.log.Warn("--force: merging without checking that the day is complete; changes of the day ingested later are applied by the next merge, as late rows",
				"date", d.String())
		} else {
			r, err := checkdone.Check(ctx, st, checkdone.Options{Zone: zone, Date: d, Tables: sel})
			if err != nil {
				return fmt.Errorf("day %s: %w (--force merges anyway)", d, err)
			}
			if !r.Ready {
				return fmt.Errorf("day %s: %w: %s (--force merges anyway)", d, checkdone.ErrNotReady, r.Reason())
			}
		}
		// Let the Go runtime collect before the process outgrows the
		// budget, and collect often: merge's large buffers hold no
		// pointers, so a collection costs little and a low GOGC keeps the
		// peak RSS near the live data. The environment overrides both.
		if _, ok := a.lookup("GOMEMLIMIT"); !ok {
			debug.SetMemoryLimit(cfg.Merge.MemoryBudget)
		}
		if _, ok := a.lookup("GOGC"); !ok {
			debug.SetGCPercent(25)
		}
		cache := merge.NewCommitCache()
		var errs []error
		for _, t := range sel {
			o := merge.ConfigOptions(cfg, t)
			o.Store, o.Date, o.Log, o.CommitCache = st, d, a.log, cache
			s, err := merge.Run(ctx, o)
			if s != nil {
				details.Tables = append(details.Tables, s)
			}
			if err != nil {
				a.log.Error("merge failed", "table", t.Name, "date", d.String(), "err", err)
				details.Failed = append(details.Failed, t.Name)
				errs = append(errs, err)
				continue
			}
			a.log.Info("merged", "table", t.Name, "date", d.String(), "summary", s.Line())
		}
		a.line = mergeLine(details)
		return errors.Join(errs...)
	})
	f := c.Flags()
	f.StringVar(&date, "date", "", "the day to merge, YYYY-MM-DD (required)")
	f.StringVar(&table, "table", "", "merge only this table (default: all)")
	f.BoolVar(&force, "force", false, "merge even if checkdone says the day is not complete (logged loudly)")
	return c
}

// mergeLine is the one-line result of a merge of one or many tables.
func mergeLine(d *mergeDetails) string {
	if len(d.Tables) == 1 && len(d.Failed) == 0 {
		return d.Tables[0].Line()
	}
	var rows, ins, upd, del int64
	var written, carried int
	for _, s := range d.Tables {
		rows += s.RowsOut
		ins, upd, del = ins+s.Inserted, upd+s.Updated, del+s.Deleted
		written, carried = written+s.FilesWritten, carried+s.FilesCarried
	}
	line := fmt.Sprintf("dt=%s: %d tables, %d rows (+%d ~%d -%d), files %d written %d carried",
		d.Date, len(d.Tables)-len(d.Failed), rows, ins, upd, del, written, carried)
	if len(d.Failed) > 0 {
		line += fmt.Sprintf("; %d failed: %v", len(d.Failed), d.Failed)
	}
	return line
}
