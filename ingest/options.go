package ingest

import (
	"log/slog"
	"time"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// Options configure a run. Store, Kafka and Tables are required; zero
// values of the others take the defaults of DefaultOptions.
type Options struct {
	Store  storage.Store
	Kafka  *config.Kafka
	Tables []config.Table
	Zone   warehouse.Zone
	// Grace is how far past the end of an hour every partition's stream
	// must be before the hour is ready. A partition's files of the hour
	// are finished once its own stream is that far past it.
	Grace time.Duration
	// MaxDLQRatio fails the run when more than this share of the records
	// read went to the dead-letter queue.
	MaxDLQRatio float64
	// MemoryBudget bounds the memory of all open files together: their
	// rows counted as buffered (uncompressed; the encoders hold them as
	// compressed pages, which is less) and each encoder's own. The
	// largest file is finished when it is exceeded.
	MemoryBudget int64
	// MaxFileSize caps one file's size counted the same way: a file is
	// finished when its rows reach it, and the next file of its table,
	// hour and partition started.
	MaxFileSize int64
	// MaxRecords and MaxDuration end the run early (0: no limit); what was
	// read is committed.
	MaxRecords  int64
	MaxDuration time.Duration
	// ReplayDate, when set, makes the run a replay: it reads again from
	// Kafka the offsets that hold day ReplayDate (found by the records'
	// timestamps, widened to cover every committed file of the day) and
	// replaces the day's committed files with new ones, in one commit per
	// partition. It never reads past what ingest has committed.
	ReplayDate *warehouse.Date
	// AcceptTopicIDs are Kafka topic IDs accepted in place of the one a
	// partition's commits recorded: a topic moved to another cluster with
	// its records at the same offsets (a cluster link). Without it, a
	// topic whose ID changed stops the run (it was deleted and created
	// again). The run's commits record the new ID.
	AcceptTopicIDs []string
	// IdleTimeout ends reading when no record arrived for this long,
	// although some partition has not reached its end offset: the broker
	// does not answer, or the offsets left hold nothing to deliver. The
	// run commits what it read and the next one reads on from there.
	IdleTimeout time.Duration
	// AESKeys decrypt encrypted messages (cdc.Options.AESKeys); none when
	// messages are plain.
	AESKeys [][]byte
	// RunID names this run in commit and pending records; default: a
	// random ID.
	RunID string
	// Progress, when set, is called about once a second while reading,
	// and once at the end of reading.
	Progress func(Progress)
	// Now is the clock; default time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// DefaultOptions returns the defaults of the options that have one.
func DefaultOptions() Options {
	return Options{
		Grace:        15 * time.Minute,
		MaxDLQRatio:  0.01,
		MemoryBudget: 512 << 20,
		MaxFileSize:  256 << 20,
		IdleTimeout:  10 * time.Second,
		Now:          time.Now,
	}
}

func (o *Options) ensureDefaults() {
	d := DefaultOptions()
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = d.MemoryBudget
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = d.MaxFileSize
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = d.IdleTimeout
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Zone.Location() == nil {
		o.Zone = warehouse.NewZone(nil)
	}
}

// Progress is how far reading has got.
type Progress struct {
	// Records read so far, of Total to read (the distance from the
	// committed offsets to the end offsets taken at start, capped by
	// MaxRecords).
	Records, Total int64
	Rows           int64
	Files          int64
}
