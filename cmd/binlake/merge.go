package main

import "github.com/spf13/cobra"

func (a *app) mergeCommand() *cobra.Command {
	var date, table string
	c := a.subcommand(&cobra.Command{
		Use:   "merge",
		Short: "Merge yesterday's snapshot with day D's changes into snapshot dt=D",
		Long: `Builds snapshot/<table>/dt=D from snapshot dt=D-1 and the changes committed
for day D (plus late changes not merged yet): the last change per key wins,
deletes remove rows, and the new day is published atomically.`,
		Example: indent(`binlake merge --config binlake.yaml --date 2024-03-01
binlake merge --config binlake.yaml --date 2024-03-01 --table orders`),
	}, func(cmd *cobra.Command) error {
		cfg, err := a.loadConfig()
		if err != nil {
			return err
		}
		if _, err := parseDateFlag(date); err != nil {
			return err
		}
		if table != "" && cfg.Table(table) == nil {
			return usagef("--table %s: no such table in %s", table, a.configPath)
		}
		return notBuilt("merge")
	})
	c.Flags().StringVar(&date, "date", "", "the day to merge, YYYY-MM-DD (required)")
	c.Flags().StringVar(&table, "table", "", "merge only this table (default: all)")
	return c
}
