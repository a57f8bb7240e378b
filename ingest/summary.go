package ingest

import (
	"fmt"
	"time"
)

// Summary describes a run, for the one-line summary, --summary JSON and
// monitoring.
type Summary struct {
	RunID       string            `json:"run_id"`
	Records     int64             `json:"records"`
	Rows        map[string]int64  `json:"rows"` // per logical table
	Late        int64             `json:"late"`
	DLQ         int64             `json:"dlq"`
	Skipped     map[string]int64  `json:"skipped"`
	Unmatched   map[string]int64  `json:"unmatched_tables,omitempty"`
	ZeroDates   map[string]int64  `json:"zero_dates,omitempty"` // per table.column
	TableErrors map[string]string `json:"table_errors,omitempty"`
	Files       int64             `json:"files"`
	// PeakBuffered is the most memory the open files held at once, as
	// MemoryBudget counts it, bounded by the budget plus one row.
	PeakBuffered int64              `json:"peak_buffered_bytes"`
	Bytes        int64              `json:"bytes"`
	Partitions   []PartitionSummary `json:"partitions"`
	Seconds      float64            `json:"duration_seconds"`
	RecordsPerS  float64            `json:"records_per_second"`
	ReadyThrough string             `json:"ready_through,omitempty"`
}

// PartitionSummary is one partition's part of a run.
type PartitionSummary struct {
	Topic     string    `json:"topic"`
	Partition int32     `json:"partition"`
	Commit    int64     `json:"commit"`
	From      int64     `json:"from_offset"`
	To        int64     `json:"to_offset"`
	Records   int64     `json:"records"`
	Lag       int64     `json:"lag"` // end offset at start minus offset reached
	Watermark time.Time `json:"watermark"`
}

// Line is the one-line summary.
func (s *Summary) Line() string {
	var rows int64
	for _, n := range s.Rows {
		rows += n
	}
	return fmt.Sprintf("%d records, %d rows in %d tables, %d late, %d dead letters, %d files (%.1f MiB), %.0f records/s",
		s.Records, rows, len(s.Rows), s.Late, s.DLQ, s.Files, float64(s.Bytes)/(1<<20), s.RecordsPerS)
}

func (r *run) summary() *Summary {
	s := &Summary{
		RunID:        r.id,
		Rows:         map[string]int64{},
		Skipped:      map[string]int64{},
		Unmatched:    make(map[string]int64, len(r.unmatched)),
		ZeroDates:    r.zeroDates,
		TableErrors:  r.tableErrors,
		Files:        r.filesWritten,
		PeakBuffered: r.peakBuffered,
		Bytes:        r.bytesWritten,
		Seconds:      r.opts.Now().Sub(r.started).Seconds(),
	}
	for p, n := range r.unmatched {
		s.Unmatched[p.db+"."+p.table] = n
	}
	for name, t := range r.router.tables {
		if t.rows > 0 {
			s.Rows[name] = t.rows
		}
	}
	for _, id := range r.order {
		ps := r.parts[id]
		s.Records += ps.records
		s.Late += ps.late
		s.DLQ += ps.dlqRecords
		for k, n := range ps.skipped {
			s.Skipped[k] += n
		}
		p := PartitionSummary{
			Topic: id.Topic, Partition: id.Partition, Commit: ps.seq,
			From: ps.start, To: ps.next, Records: ps.records, Lag: max(ps.end-ps.next, 0),
		}
		if ps.last != nil {
			p.Watermark = ps.last.Watermark()
		}
		s.Partitions = append(s.Partitions, p)
	}
	if s.Seconds > 0 {
		s.RecordsPerS = float64(s.Records) / s.Seconds
	}
	return s
}
