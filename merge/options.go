package merge

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// Options say what to merge and how. Start from DefaultOptions; a zero
// field means its default.
type Options struct {
	// Store is the warehouse.
	Store storage.Store
	// Table is the table rule (name, key, key_includes_source,
	// bootstrap).
	Table config.Table
	// Date is the day to build: snapshot dt=Date.
	Date warehouse.Date
	// Zone is the warehouse time zone (config timezone).
	Zone warehouse.Zone

	// MemoryBudget bounds the memory of the run (default 1 GiB). An
	// eighth of it holds change records, in three arenas: when one is
	// full it is sorted and spilled to SpillDir in the background while
	// another fills (sorting one takes up to 48 more bytes a record).
	// The rest is for Parquet pages, the rows being
	// written and the Go runtime's headroom (binlake merge also sets the
	// runtime's soft memory limit to it). Measured peak RSS with the
	// default is about 200–250 MiB, whatever the table size.
	MemoryBudget int64
	// FileSize is the size at which data and tombstone files are cut
	// (default 128 MiB); files end at a row group boundary past it.
	FileSize int64
	// RowGroupRows is the most rows a rewritten row group holds (default
	// 131072). Row groups copied unchanged keep their size.
	RowGroupRows int
	// TombstoneDays is how many days a delete's tombstone is kept
	// (default 7): deleted on day D, it blocks older late changes in the
	// merges of D … D+TombstoneDays-1.
	TombstoneDays int
	// RetentionDays keeps this many snapshot days of the table after a
	// successful merge; 0 keeps all.
	RetentionDays int
	// SpillDir is where spill runs and downloads go, in a directory of
	// the run's own that is removed afterwards (default os.TempDir()).
	SpillDir string
	// IntegerEncoding is the encoding of the integer, date and timestamp
	// columns of the files written ("" is config.IntegerPlain). Carried
	// files keep theirs, so a table's files may differ after a change.
	IntegerEncoding config.IntegerEncoding
	// Parallelism bounds the goroutines that decode change files and
	// encode columns (default GOMAXPROCS). Besides them run the merge's
	// producer, up to two background spills and the read-ahead of the
	// spilled runs.
	Parallelism int
	// LeaseTTL is how long the run's lock on the table-day stays valid
	// without renewal (default 2 minutes); it is renewed every third of
	// that. A run on another host takes over a lock only once it expired.
	LeaseTTL time.Duration
	// CommitCache shares commit records between the merges of one
	// process, and the partitions' latest commits when the first of them
	// planned: later merges apply nothing committed after that (the next
	// day's merge does). nil reads them afresh.
	CommitCache *CommitCache
	// Log receives progress; nil discards it.
	Log *slog.Logger
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// RunID names the run in locks and the manifest; "" makes one up.
	RunID string
}

// Defaults.
const (
	DefaultMemoryBudget  = 1 << 30
	DefaultFileSize      = 128 << 20
	DefaultRowGroupRows  = 128 << 10
	DefaultTombstoneDays = 7
	DefaultLeaseTTL      = 2 * time.Minute
)

// DefaultOptions returns Options with every default filled in.
func DefaultOptions() Options {
	o := Options{}
	o.ensureDefaults()
	return o
}

func (o *Options) ensureDefaults() {
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = DefaultMemoryBudget
	}
	if o.FileSize <= 0 {
		o.FileSize = DefaultFileSize
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if o.TombstoneDays <= 0 {
		o.TombstoneDays = DefaultTombstoneDays
	}
	if o.SpillDir == "" {
		o.SpillDir = os.TempDir()
	}
	if o.Parallelism <= 0 {
		o.Parallelism = runtime.GOMAXPROCS(0)
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Zone.Location() == nil {
		o.Zone = warehouse.NewZone(nil)
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.Store == nil {
		errs = append(errs, errors.New("no store"))
	}
	if err := warehouse.CheckTable(o.Table.Name); err != nil {
		errs = append(errs, err)
	}
	if len(o.Table.Key) == 0 {
		errs = append(errs, fmt.Errorf("table %s has no key", o.Table.Name))
	}
	if o.Date.Year == 0 {
		errs = append(errs, errors.New("no date"))
	}
	return errors.Join(errs...)
}

// ConfigOptions maps a configuration's merge section and a table rule
// onto Options (the store, date and logger are the caller's).
func ConfigOptions(cfg *config.Config, t config.Table) Options {
	o := DefaultOptions()
	o.Table = t
	o.Zone = warehouse.NewZone(cfg.Location)
	m := cfg.Merge
	if m.MemoryBudget > 0 {
		o.MemoryBudget = m.MemoryBudget
	}
	if m.FileSize > 0 {
		o.FileSize = m.FileSize
	}
	if m.TombstoneDays > 0 {
		o.TombstoneDays = m.TombstoneDays
	}
	o.RetentionDays = m.RetentionDays
	if m.SpillDir != "" {
		o.SpillDir = m.SpillDir
	}
	o.IntegerEncoding = m.IntegerEncoding
	return o
}
