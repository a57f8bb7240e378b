package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/binlake/binlake/ingest"
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
		a.configCommand(),
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

func (a *app) ingestCommand() *cobra.Command {
	var maxRecords int64
	var maxDuration time.Duration
	c := a.subcommand(&cobra.Command{
		Use:   "ingest",
		Short: "Read Kafka up to its current end and commit hourly Parquet binlog partitions",
		Long: `Reads every assigned Kafka partition from the last offset committed in the
warehouse up to the end offsets taken at start, writes the changes as typed
Parquet files under binlog/<table>/dt=D/hr=H/, commits them exactly once,
marks the hours that are complete as ready, and exits. Run it hourly; a run
that dies is repaired by the next one.`,
		Example: indent(`binlake ingest --config binlake.yaml --summary /tmp/ingest.json
binlake ingest --config binlake.yaml --max-duration 50m`),
	}, func(cmd *cobra.Command) error {
		cfg, err := a.loadConfig()
		if err != nil {
			return err
		}
		if cfg.Kafka == nil {
			return usagef("%s has no kafka section: ingest needs brokers, topics and format", a.configPath)
		}
		key, err := aesKey(cfg.Kafka.Encryption, a.lookup)
		if err != nil {
			return usageError{err}
		}
		st, err := a.openStore(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		o := ingest.DefaultOptions()
		o.Store, o.Kafka, o.Tables = st, cfg.Kafka, cfg.Tables
		o.Zone = warehouse.NewZone(cfg.Location)
		o.Grace, o.MaxDLQRatio = cfg.Ingest.Grace, cfg.Ingest.MaxDLQRatio
		o.MemoryBudget, o.MaxFileSize = cfg.Ingest.MemoryBudget, cfg.Ingest.MaxFileSize
		o.MaxRecords, o.MaxDuration = maxRecords, maxDuration
		o.AESKey = key
		o.Log = a.log
		sum, err := ingest.Run(cmd.Context(), o)
		if sum != nil {
			a.line, a.details = sum.Line(), sum
		}
		return err
	})
	c.Flags().Int64Var(&maxRecords, "max-records", 0, "stop after this many records and commit them (0: read to the end)")
	c.Flags().DurationVar(&maxDuration, "max-duration", 0, "stop reading after this long and commit what was read (0: no limit)")
	return c
}

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
