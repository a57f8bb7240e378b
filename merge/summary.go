package merge

import (
	"fmt"
	"time"
)

// Summary says what a merge did; the command prints Line and writes the
// whole as JSON (--summary). Row counts are of rows (keys), change counts
// of change rows.
type Summary struct {
	Table string `json:"table"`
	Date  string `json:"date"`
	// Base is the snapshot day merged from, "" for an empty start.
	Base       string `json:"base"`
	Generation int64  `json:"generation"`
	RunID      string `json:"run_id"`
	// Rerun is set when the day was published before and this run
	// replaced it with the same inputs.
	Rerun bool `json:"rerun"`

	RowsIn  int64 `json:"rows_in"`  // rows of the base
	RowsOut int64 `json:"rows_out"` // rows of the new day
	// Per key: a new row, a changed row, a removed row (deletes and
	// truncates), a row no change applied to (carried files included).
	Inserted  int64 `json:"inserted"`
	Updated   int64 `json:"updated"`
	Deleted   int64 `json:"deleted"`
	Unchanged int64 `json:"unchanged"`
	// Truncated counts the rows of Deleted that a TRUNCATE removed.
	Truncated int64 `json:"truncated"`

	// Changes is the number of change rows read, TRUNCATEs included.
	Changes int64 `json:"changes"`
	// LateApplied counts changes of hours before Date (late rows the
	// previous merge did not have) that were not stale.
	LateApplied int64 `json:"late_applied"`
	// Stale counts changes ignored because the key's row, tombstone or a
	// TRUNCATE of its table is at the same or a later position (replayed
	// duplicates included).
	Stale int64 `json:"stale"`
	// Tombstones is the number of deleted keys recorded today; the
	// snapshot keeps TombstonesKept in all (today's and carried).
	Tombstones     int64 `json:"tombstones"`
	TombstonesKept int64 `json:"tombstones_kept"`

	BinlogFiles int `json:"binlog_files"`
	Commits     int `json:"commits_read"`
	// BaseFilesTouched were decoded (some of their row groups at least);
	// BaseFilesCarried were copied whole (server-side, or a hard link).
	BaseFilesTouched int `json:"base_files_touched"`
	BaseFilesCarried int `json:"base_files_carried"`
	// RowGroupsCopied were copied from touched files without merging:
	// byte for byte, except where the file's encodings are not the
	// output's (after an upgrade or a change of merge.integer_encoding),
	// which re-encodes them once; RowGroupsRewritten were decoded and
	// merged.
	RowGroupsCopied    int `json:"row_groups_copied"`
	RowGroupsRewritten int `json:"row_groups_rewritten"`
	FilesWritten       int `json:"files_written"`
	FilesCarried       int `json:"files_carried"`

	BytesRead    int64 `json:"bytes_read"`    // of binlog and touched base files
	BytesWritten int64 `json:"bytes_written"` // of new data and tombstone files
	BytesCarried int64 `json:"bytes_carried"`
	SpillBytes   int64 `json:"spill_bytes"`
	SpillRuns    int   `json:"spill_runs"`

	// DaysRemoved are the snapshot days retention removed.
	DaysRemoved []string `json:"days_removed,omitempty"`

	Merged  map[string]int64 `json:"merged"`
	Seconds float64          `json:"duration_seconds"`
}

// Line is the one-line result.
func (s *Summary) Line() string {
	return fmt.Sprintf("%s dt=%s: %d rows (+%d ~%d -%d), %d changes (%d late, %d stale), files %d written %d carried, %s written, %.1fs",
		s.Table, s.Date, s.RowsOut, s.Inserted, s.Updated, s.Deleted, s.Changes, s.LateApplied, s.Stale,
		s.FilesWritten, s.FilesCarried, byteSize(s.BytesWritten), s.Seconds)
}

func (s *Summary) stats() map[string]int64 {
	return map[string]int64{
		"rows_in": s.RowsIn, "rows_out": s.RowsOut, "inserted": s.Inserted, "updated": s.Updated,
		"deleted": s.Deleted, "unchanged": s.Unchanged, "truncated": s.Truncated, "changes": s.Changes,
		"late_applied": s.LateApplied, "stale": s.Stale, "tombstones": s.Tombstones,
		"files_written": int64(s.FilesWritten), "files_carried": int64(s.FilesCarried),
		"base_files_touched": int64(s.BaseFilesTouched), "base_files_carried": int64(s.BaseFilesCarried),
		"row_groups_copied": int64(s.RowGroupsCopied), "row_groups_rewritten": int64(s.RowGroupsRewritten),
		"bytes_written": s.BytesWritten, "generation": s.Generation,
	}
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }
