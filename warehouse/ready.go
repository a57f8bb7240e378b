package warehouse

import "time"

// Ready is an hour ready marker: every partition of the ingest's topics
// has a committed stream past the end of the hour plus the grace period
// (DESIGN.md §3.3). It is written once, after the commits it summarises,
// and never changes; rows of the hour that arrive later are late rows.
type Ready struct {
	FormatVersion int       `json:"format_version"`
	Hour          string    `json:"hour"` // dt=YYYY-MM-DD/hr=HH
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Grace         string    `json:"grace"`
	WrittenAt     time.Time `json:"written_at"`
	RunID         string    `json:"run_id"`
	// Partitions is the state of every partition when the marker was
	// written.
	Partitions []ReadyPartition `json:"partitions"`
}

// ReadyPartition is one partition's state in a ready marker.
type ReadyPartition struct {
	Topic     string    `json:"topic"`
	Partition int32     `json:"partition"`
	Seq       int64     `json:"commit_seq"`
	EndOffset int64     `json:"end_offset"`
	Watermark time.Time `json:"watermark"`
}

// ReadyKey is the key of an hour's ready marker.
func ReadyKey(h Hour) string {
	return ReadyPrefix + h.Path() + ".json"
}
