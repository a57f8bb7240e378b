package snapshot

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// Options say what to snapshot and how gently. A zero field means its
// default.
type Options struct {
	// Store is the warehouse.
	Store storage.Store
	// Config gives the table rule, the sources, kafka.format (which
	// decides what _pos the rows get), the time zone and the merge
	// settings the published files are cut by.
	Config *config.Config
	// Table is the logical table.
	Table string
	// Date is the day the snapshot is published as (dt=Date). Default:
	// yesterday in the warehouse time zone, so that the usual daily merge
	// of today builds on it.
	Date warehouse.Date
	// Parallel is how many shards are read at once (default 4); each
	// reads its chunks one after another on one connection.
	Parallel int
	// ChunkRows is the most rows one query reads (default 10000).
	ChunkRows int
	// Rate limits the rows read per second over all shards; 0 means no
	// limit.
	Rate float64
	// Position is the declared position for the offset-ordered formats
	// (canal, rowjson): "start" (the default) or TOPIC/PARTITION:OFFSET,…;
	// see OffsetStamp. Binlog-positioned formats read the position from
	// the source and refuse this.
	Position string
	// Log receives progress; nil discards it.
	Log *slog.Logger
	// Progress, if set, is called after every chunk (from several
	// goroutines, one at a time).
	Progress func(Progress)
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Defaults.
const (
	DefaultParallel  = 4
	DefaultChunkRows = 10000
)

func (o *Options) ensureDefaults() {
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.ChunkRows <= 0 {
		o.ChunkRows = DefaultChunkRows
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Date.Year == 0 && o.Config != nil {
		o.Date = warehouse.NewZone(o.Config.Location).DateOf(o.Now()).AddDays(-1)
	}
}

// errNoSources is a configuration without MySQL instances to read.
var errNoSources = errors.New("the configuration has no sources: (MySQL instances to read from)")

func (o *Options) validate() (*config.Table, error) {
	if o.Store == nil || o.Config == nil {
		return nil, errors.New("no store or configuration")
	}
	rule := o.Config.Table(o.Table)
	if rule == nil {
		return nil, fmt.Errorf("no table %q in the configuration", o.Table)
	}
	if o.Rate < 0 {
		return nil, fmt.Errorf("rate %v: must be >= 0", o.Rate)
	}
	if o.Position != "" && !offsetOrdered(o.Config) {
		return nil, fmt.Errorf("--position is for the offset-ordered formats (canal, rowjson); with %s the position is read from the source", kafkaFormat(o.Config))
	}
	for _, s := range rule.Sources {
		if _, ok := o.Config.Sources[s]; !ok {
			return nil, fmt.Errorf("table %s: no source %q under sources", rule.Name, s)
		}
	}
	return rule, nil
}

// offsetOrdered reports whether the configured format orders changes by
// Kafka offset (canal, rowjson) rather than by binlog position.
func offsetOrdered(c *config.Config) bool {
	f := kafkaFormat(c)
	return f == config.FormatCanal || f == config.FormatRowJSON
}

func kafkaFormat(c *config.Config) config.Format {
	if c.Kafka == nil {
		return ""
	}
	return c.Kafka.Format
}
