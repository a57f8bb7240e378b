package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/binlake/binlake/checkdone"
	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/warehouse"
)

func (a *app) checkdoneCommand() *cobra.Command {
	var (
		date          string
		tables        []string
		wait, asJSON  bool
		timeout, poll time.Duration
	)
	c := a.subcommand(&cobra.Command{
		Use:   "checkdone",
		Short: "Exit 0 when all of day D is ingested, 75 when not yet",
		Long: `Checks that every hour of day D has its ready marker — every Kafka partition
feeding the tables has a committed stream past the hour — and that each
table's merge base (snapshot D-1, or nothing for bootstrap: empty tables)
is there. Exit 0: ready. Exit 75: not yet; it prints the missing hours and
the lowest watermark. Exit 1: the question cannot be answered (no ingest
state in the warehouse, a table that was never bootstrapped): a
misconfigured gate fails instead of waiting forever.

As an Airflow sensor: BashSensor with this command (75 means poke again), or
--wait to poll here until ready or --timeout.`,
		Example: indent(`binlake checkdone --config binlake.yaml --date 2024-03-01
binlake checkdone --config binlake.yaml --date 2024-03-01 --table orders --wait --timeout 2h --poll 1m`),
	}, func(cmd *cobra.Command) error {
		cfg, err := a.loadConfig()
		if err != nil {
			return err
		}
		d, err := parseDateFlag(date)
		if err != nil {
			return err
		}
		sel, err := selectTables(cfg, tables, a.configPath)
		if err != nil {
			return err
		}
		st, err := a.openStore(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		o := checkdone.Options{Zone: warehouse.NewZone(cfg.Location), Date: d, Tables: sel}
		var r *checkdone.Result
		if wait {
			r, err = checkdone.Wait(cmd.Context(), st, o, timeout, poll)
		} else {
			r, err = checkdone.Check(cmd.Context(), st, o)
			if err == nil && !r.Ready {
				err = fmt.Errorf("day %s: %w: %s", d, checkdone.ErrNotReady, r.Reason())
			}
		}
		if r != nil {
			a.details = r
			if asJSON {
				b, jerr := json.MarshalIndent(r, "", "  ")
				if jerr != nil {
					return jerr
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			}
			if r.Ready {
				a.line = fmt.Sprintf("day %s is ready: %d hours, %d partitions, %d tables", d, r.Hours, len(r.Partitions), len(r.Tables))
			}
		}
		return err
	})
	f := c.Flags()
	f.StringVar(&date, "date", "", "the day to check, YYYY-MM-DD (required)")
	f.StringSliceVar(&tables, "table", nil, "check these tables' merge base (repeatable; default: all tables)")
	f.BoolVar(&wait, "wait", false, "poll until the day is ready or --timeout passes")
	f.DurationVar(&timeout, "timeout", 2*time.Hour, "with --wait: give up (exit 75) after this long")
	f.DurationVar(&poll, "poll", time.Minute, "with --wait: how often to check")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON on stdout")
	return c
}

// selectTables returns the named tables, or all of them.
func selectTables(cfg *config.Config, names []string, path string) ([]config.Table, error) {
	if len(names) == 0 {
		return cfg.Tables, nil
	}
	var out []config.Table
	for _, n := range names {
		t := cfg.Table(n)
		if t == nil {
			return nil, usagef("--table %s: no such table in %s", n, path)
		}
		out = append(out, *t)
	}
	return out, nil
}
