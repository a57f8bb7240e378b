package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/binlake/binlake/ddl"
)

func (a *app) ddlCommand() *cobra.Command {
	var table, dialect, loc, schemaName string
	c := a.subcommand(&cobra.Command{
		Use:   "ddl",
		Short: "Print external table DDL for a table's snapshot and binlog partitions",
		Long: `Prints the statements that declare two tables over the warehouse for Hive,
Trino (Hive connector), Spark or DuckDB: <table> over snapshot/<table>/dt=D/
and <table>_binlog over binlog/<table>/dt=D/hr=H/, with binlake's bookkeeping
columns (_pos DECIMAL(38,0), _source_db, _source_table, …), the data columns
of the latest catalog schema version typed per engine, the partition columns
dt (and hr) as strings, and the partition discovery statement (MSCK REPAIR
TABLE, system.sync_partition_metadata; DuckDB: a view with
hive_partitioning). s3:// becomes s3a:// for Hive and Spark.

Without a catalog for the table (nothing ingested or snapshotted yet) only
the bookkeeping columns are declared, with a warning. Run it again after a
schema change to get the new columns.`,
		Example: indent(`binlake ddl --config binlake.yaml --table orders --dialect trino --schema ods
binlake ddl --config binlake.yaml --table orders --dialect duckdb | duckdb lake.db
binlake ddl --config binlake.yaml --table orders --dialect hive --location s3a://lake/ods`),
	}, func(cmd *cobra.Command) error {
		cfg, err := a.loadConfig()
		if err != nil {
			return err
		}
		if _, err := a.tableFlag(cfg, table); err != nil {
			return err
		}
		if !slices.Contains(ddl.Dialects, ddl.Dialect(dialect)) {
			return usagef("--dialect %q: want hive, trino, spark or duckdb", dialect)
		}
		st, err := a.openStore(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		cols, version, err := ddl.LatestColumns(cmd.Context(), st, table)
		if err != nil {
			return err
		}
		if loc == "" {
			loc = cfg.Warehouse.String()
		}
		r, err := ddl.Generate(ddl.Options{Dialect: ddl.Dialect(dialect), Table: table, Location: loc, Schema: schemaName, Columns: cols})
		if err != nil {
			return err
		}
		for _, w := range r.Warnings {
			a.log.Warn(w)
		}
		if _, err := fmt.Fprint(cmd.OutOrStdout(), r.SQL); err != nil {
			return err
		}
		a.line = fmt.Sprintf("%s DDL of %s and %s_binlog, %d data columns (schema version %d)", dialect, table, table, len(cols), version)
		a.details = map[string]any{"table": table, "dialect": dialect, "schema_version": version, "columns": len(cols), "warnings": r.Warnings}
		return nil
	})
	f := c.Flags()
	f.StringVar(&table, "table", "", "the logical table (required)")
	f.StringVar(&dialect, "dialect", "", "hive, trino, spark or duckdb (required)")
	f.StringVar(&loc, "location", "", "the warehouse as the engine sees it (default: the configured warehouse)")
	f.StringVar(&schemaName, "schema", "", "qualify the table names with this database or schema")
	return c
}
