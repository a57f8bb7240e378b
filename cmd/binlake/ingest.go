package main

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/warehouse"
)

func (a *app) ingestCommand() *cobra.Command {
	var maxRecords int64
	var maxDuration time.Duration
	var replay string
	var acceptIDs []string
	c := a.subcommand(&cobra.Command{
		Use:   "ingest",
		Short: "Read Kafka up to its current end and commit hourly Parquet binlog partitions",
		Long: `Reads every assigned Kafka partition from the last offset committed in the
warehouse up to the end offsets taken at start, writes the changes as typed
Parquet files under binlog/<table>/dt=D/hr=H/, commits them exactly once,
marks the hours that are complete as ready, and exits. Run it hourly; a run
that dies is repaired by the next one.`,
		Example: indent(`binlake ingest --config binlake.yaml --summary /tmp/ingest.json
binlake ingest --config binlake.yaml --max-duration 50m
binlake ingest --config binlake.yaml --replay-date 2024-03-01   # rebuild one day from Kafka`),
	}, func(cmd *cobra.Command) error {
		cfg, err := a.loadConfig()
		if err != nil {
			return err
		}
		var replayDay *warehouse.Date
		if replay != "" {
			d, err := parseDateFlag(replay)
			if err != nil {
				return err
			}
			replayDay = &d
		}
		o, err := a.ingestOptions(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		if _, set := a.lookup("GOMEMLIMIT"); !set {
			// The budget bounds the row buffers; let the garbage collector
			// work harder before the process grows far past it.
			debug.SetMemoryLimit(o.MemoryBudget + 256<<20)
		}
		o.MaxRecords, o.MaxDuration = maxRecords, maxDuration
		o.ReplayDate, o.AcceptTopicIDs = replayDay, acceptIDs
		if bar := a.progressBar("reading Kafka"); bar != nil {
			o.Progress = func(p ingest.Progress) {
				bar.ChangeMax64(max(p.Total, 1))
				_ = bar.Set64(p.Records)
			}
			defer func() { _ = bar.Finish() }()
		}
		sum, err := ingest.Run(cmd.Context(), o)
		if sum != nil {
			a.line, a.details = sum.Line(), sum
		}
		return err
	})
	c.Flags().Int64Var(&maxRecords, "max-records", 0, "stop after this many records and commit them (0: read to the end)")
	c.Flags().DurationVar(&maxDuration, "max-duration", 0, "stop reading after this long and commit what was read (0: no limit)")
	c.Flags().StringSliceVar(&acceptIDs, "accept-topic-id", nil, "read on from a topic with this Kafka topic ID although the commits recorded another: the topic moved to another cluster with its records at the same offsets (the error that stops ingest names the ID)")
	c.Flags().StringVar(&replay, "replay-date", "", "rebuild day YYYY-MM-DD's binlog files from Kafka and replace the committed ones (then merge that day and the days after it again)")
	return c
}

// ingestOptions maps a configuration onto ingest.Options: the store, the
// Kafka settings, the tables, the AES keys and the tuning. binlake ingest
// and binlake demo both run ingest with them.
func (a *app) ingestOptions(ctx context.Context, cfg *config.Config) (ingest.Options, error) {
	if cfg.Kafka == nil {
		return ingest.Options{}, usagef("%s has no kafka section: ingest needs brokers, topics and format", a.configPath)
	}
	keys, err := aesKeys(cfg.Kafka.Encryption, a.lookup)
	if err != nil {
		return ingest.Options{}, usageError{err}
	}
	st, err := a.openStore(ctx, cfg)
	if err != nil {
		return ingest.Options{}, err
	}
	o := ingest.DefaultOptions()
	o.Store, o.Kafka, o.Tables = st, cfg.Kafka, cfg.Tables
	o.Zone = warehouse.NewZone(cfg.Location)
	o.Grace, o.MaxDLQRatio = cfg.Ingest.Grace, cfg.Ingest.MaxDLQRatio
	o.MemoryBudget, o.MaxFileSize = cfg.Ingest.MemoryBudget, cfg.Ingest.MaxFileSize
	o.AESKeys = keys
	o.Log = a.log
	return o, nil
}
