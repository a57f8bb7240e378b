package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/binlake/binlake/snapshot"
	"github.com/binlake/binlake/warehouse"
)

func (a *app) verifyCommand() *cobra.Command {
	var table, date string
	var o snapshot.VerifyOptions
	c := a.subcommand(&cobra.Command{
		Use:   "verify",
		Short: "Compare a snapshot day with the live MySQL source",
		Long: `Compares snapshot/<table>/dt=D (default: the latest) with the table's shards on
its sources: row counts per physical table, then the rows of each key chunk
on both sides (row by row for integer keys, by checksums for others); the
differing keys are listed on stdout. Exit 0 when they are equal, 1 when they
are not.

On a live source a row may change after the snapshot's cut-off (the start
of a bootstrap, the end of day D of a merge); with --updated-column C such
keys, whose C is later than the cut-off, are reported apart as expected
differences. See docs/snapshot.md.`,
		Example: indent(`binlake verify --config binlake.yaml --table orders
binlake verify --config binlake.yaml --table orders --date 2024-03-01 --updated-column update_time`),
	}, func(cmd *cobra.Command) error {
		cfg, err := a.loadTableConfig(table, true)
		if err != nil {
			return err
		}
		if date != "" {
			if o.Date, err = warehouse.ParseDate(date); err != nil {
				return usagef("--date: %v", err)
			}
		}
		ctx := cmd.Context()
		st, err := a.openStore(ctx, cfg)
		if err != nil {
			return err
		}
		o.Store, o.Config, o.Table, o.Log = st, cfg, table, a.log
		rep, err := snapshot.Verify(ctx, o)
		if rep != nil {
			a.details = rep
			a.line = rep.Line()
			out := cmd.OutOrStdout()
			for _, d := range rep.Keys {
				fmt.Fprintf(out, "%s\t%s\t%v\n", d.Kind, d.Shard, d.Key)
			}
			for _, d := range rep.ExpectedKey {
				fmt.Fprintf(out, "expected_%s\t%s\t%v\n", d.Kind, d.Shard, d.Key)
			}
			for _, n := range rep.Notes {
				fmt.Fprintf(out, "note\t%s\n", n)
			}
		}
		if err != nil {
			return err
		}
		if !rep.Equal() {
			return fmt.Errorf("%s", rep.Line())
		}
		return nil
	})
	f := c.Flags()
	f.StringVar(&table, "table", "", "the logical table to verify (required)")
	f.StringVar(&date, "date", "", "the snapshot day, YYYY-MM-DD (default: the latest)")
	f.StringVar(&o.UpdatedColumn, "updated-column", "", "a datetime/timestamp column with each row's last change: keys changed after the cut-off are expected differences")
	f.IntVar(&o.ChunkRows, "chunk-rows", snapshot.DefaultChunkRows, "rows per query")
	f.Float64Var(&o.Rate, "rate", 0, "most source rows read per second (0: no limit)")
	return c
}
