package main

import "github.com/spf13/cobra"

func (a *app) snapshotCommand() *cobra.Command {
	var table string
	c := a.subcommand(&cobra.Command{
		Use:   "snapshot",
		Short: "Copy a table from MySQL into its first snapshot (once per table)",
		Long: `Reads every shard of a table from its MySQL sources in primary-key chunks,
stamps each row with the binlog position read before the first chunk, and
publishes the result as the table's first snapshot.`,
		Example: indent(`binlake snapshot --config binlake.yaml --table orders`),
	}, func(cmd *cobra.Command) error {
		cfg, err := a.loadConfig()
		if err != nil {
			return err
		}
		if table == "" {
			return usagef("--table is required")
		}
		if cfg.Table(table) == nil {
			return usagef("--table %s: no such table in %s", table, a.configPath)
		}
		return notBuilt("snapshot")
	})
	c.Flags().StringVar(&table, "table", "", "the logical table to copy (required)")
	return c
}
