package main

import "github.com/spf13/cobra"

func (a *app) checkdoneCommand() *cobra.Command {
	var date string
	c := a.subcommand(&cobra.Command{
		Use:   "checkdone",
		Short: "Exit 0 when all of day D is ingested, 75 when not yet",
		Long: `Checks that every hour of day D is ready for every Kafka partition feeding
the tables, so the day can be merged. Exit 0: ready. Exit 75: not yet (the
scheduler should try again later). Exit 1: the question cannot be answered.`,
		Example: indent(`binlake checkdone --config binlake.yaml --date 2024-03-01 || [ $? -eq 75 ]`),
	}, func(cmd *cobra.Command) error {
		if _, err := a.loadConfig(); err != nil {
			return err
		}
		if _, err := parseDateFlag(date); err != nil {
			return err
		}
		return notBuilt("checkdone")
	})
	c.Flags().StringVar(&date, "date", "", "the day to check, YYYY-MM-DD (required)")
	return c
}
