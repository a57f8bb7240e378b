package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/warehouse"
)

const rootHelp = `binlake turns MySQL change streams in Kafka into daily snapshot tables on
object storage, for Hive, Trino, Spark and DuckDB.

  Kafka ─ binlake ingest (hourly) ─▶ binlog/<table>/dt=D/hr=H/*.parquet + ready markers
        ─ binlake checkdone --date D (daily gate: exit 0 ready, 75 not yet)
        ─ binlake merge --date D     ─▶ snapshot/<table>/dt=D/*.parquet
  MySQL ─ binlake snapshot (once per table) ─▶ the first snapshot

Exit codes: 0 done, 1 failed, 2 usage or configuration error, 75 not ready yet.
Every run ends with a one-line summary on stderr; --summary FILE also writes
it as JSON (for Airflow XCom).`

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "binlake",
		Short:         "MySQL change streams in Kafka → daily snapshot tables on object storage",
		Long:          rootHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	pf := root.PersistentFlags()
	pf.StringVarP(&a.configPath, "config", "c", "binlake.yaml", "configuration file")
	pf.StringVar(&a.summaryPath, "summary", "", "also write the run summary as JSON to this file")
	pf.StringVar(&a.logFormat, "log-format", "auto", "log format: auto (text on a terminal, JSON otherwise), text or json")
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		a.ingestCommand(),
		a.checkdoneCommand(),
		a.mergeCommand(),
		a.snapshotCommand(),
		a.verifyCommand(),
		a.statusCommand(),
		a.ddlCommand(),
		a.configCommand(),
		a.demoCommand(),
	)
	return root
}

// subcommand fills in what every subcommand shares: no positional
// arguments, and start before the body runs.
func (a *app) subcommand(c *cobra.Command, body func(cmd *cobra.Command) error) *cobra.Command {
	c.Args = cobra.NoArgs
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := a.start(cmd); err != nil {
			return err
		}
		return body(cmd)
	}
	return c
}

func (a *app) configCommand() *cobra.Command {
	var connect bool
	c := &cobra.Command{
		Use:   "config",
		Short: "Inspect the configuration",
	}
	check := a.subcommand(&cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and print it resolved, secrets masked",
		Long: `Loads the configuration, expands ${VAR} references from the environment,
fills in every default and validates it. Prints the result with passwords and
secret keys masked. Exit 2 with every problem listed when it is invalid.
With --connect it also opens the warehouse and lists it, which checks the
path or the bucket, the endpoint and the credentials.`,
		Example: indent(`RDS1_PASSWORD=... binlake config check --config binlake.yaml
binlake config check --config binlake.yaml --connect`),
	}, func(cmd *cobra.Command) error {
		cfg, err := a.loadConfig()
		if err != nil {
			return err
		}
		out, err := cfg.Redacted()
		if err != nil {
			return err
		}
		if _, err := cmd.OutOrStdout().Write(out); err != nil {
			return err
		}
		if connect {
			if _, err := a.openStore(cmd.Context(), cfg); err != nil {
				return err
			}
		}
		a.line = fmt.Sprintf("%s is valid: %d tables, warehouse %s", a.configPath, len(cfg.Tables), cfg.Warehouse)
		a.details = map[string]any{"tables": len(cfg.Tables), "warehouse": cfg.Warehouse.String()}
		return nil
	})
	check.Flags().BoolVar(&connect, "connect", false, "also open and list the warehouse")
	c.AddCommand(check)
	return c
}

// tableFlag checks a required --table value: the named table rule.
func (a *app) tableFlag(cfg *config.Config, name string) (*config.Table, error) {
	if name == "" {
		return nil, usagef("--table is required")
	}
	t := cfg.Table(name)
	if t == nil {
		return nil, usagef("--table %s: no such table in %s", name, a.configPath)
	}
	return t, nil
}

// parseDateFlag checks a --date value.
func parseDateFlag(s string) (warehouse.Date, error) {
	if s == "" {
		return warehouse.Date{}, usagef("--date is required (YYYY-MM-DD)")
	}
	d, err := warehouse.ParseDate(s)
	if err != nil {
		return warehouse.Date{}, usagef("--date: %v", err)
	}
	return d, nil
}
