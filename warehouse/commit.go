package warehouse

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FormatVersion is the version of every JSON record this package defines.
// Readers reject records of a newer version rather than misread them.
const FormatVersion = 1

// Commit is an ingest commit record, the truth about what is committed for
// one Kafka partition (DESIGN.md §3.1). Commits of a partition are numbered
// 1, 2, … without gaps; each accounts for the records in [StartOffset,
// EndOffset), and StartOffset is the previous commit's EndOffset. Every
// record in that range is in exactly one of Files, in DLQ, or counted in
// Skipped. A binlog file that no commit lists is not committed, whatever
// its name.
type Commit struct {
	FormatVersion int    `json:"format_version"`
	Topic         string `json:"topic"`
	// TopicID is the Kafka topic's ID (KIP-516): a topic deleted and
	// created again under the same name has a new one. Empty when the
	// brokers have none (before Kafka 2.8).
	TopicID     string    `json:"topic_id,omitempty"`
	Partition   int32     `json:"partition"`
	Seq         int64     `json:"seq"`
	RunID       string    `json:"run_id"`
	CommittedAt time.Time `json:"committed_at"`
	StartOffset int64     `json:"start_offset"`
	EndOffset   int64     `json:"end_offset"`
	// Records is how many records were read in the range (offsets can
	// have gaps: compaction, transaction markers).
	Records int64        `json:"records"`
	Files   []CommitFile `json:"files"`
	DLQ     []DLQFile    `json:"dlq,omitempty"`
	// Skipped counts records that carry nothing to ingest, by reason:
	// tombstones, transaction markers, tables no rule matches.
	Skipped map[string]int64 `json:"skipped,omitempty"`
	// DDL lists the schema statements seen, in order.
	DDL []DDLEvent `json:"ddl,omitempty"`
	// Late counts rows whose hour was already ready when they arrived.
	Late int64 `json:"late"`
	// Replay is set on the commit of binlake ingest --replay-date: it
	// rewrote the files of day Replay from Kafka. Its Files replace the
	// files listed in Replaces, which readers then ignore. A replay does
	// not move the partition on: StartOffset and EndOffset both equal the
	// previous commit's EndOffset.
	Replay   string   `json:"replay,omitempty"`
	Replaces []string `json:"replaces,omitempty"`
	// Replayed counts the records a replay read again.
	Replayed int64 `json:"replayed,omitempty"`
	// MaxEventTime is the greatest event time committed in the partition
	// so far, this commit included (carried forward when a commit has
	// none). Zero when the partition never had a record.
	MaxEventTime time.Time `json:"max_event_time"`
	// FirstEventTime is the earliest event time ever committed in the
	// partition (carried forward); ready markers start at its day.
	FirstEventTime time.Time `json:"first_event_time"`
	// CaughtUpAt is set when the run read the partition up to the end
	// offset taken at its start: the wall clock time those offsets were
	// taken. Every record produced before it is committed.
	CaughtUpAt time.Time `json:"caught_up_at"`
}

// Watermark is the time up to which the partition's stream is known to be
// committed: the later of MaxEventTime and CaughtUpAt (DESIGN.md §3.3).
func (c *Commit) Watermark() time.Time {
	if c.CaughtUpAt.After(c.MaxEventTime) {
		return c.CaughtUpAt
	}
	return c.MaxEventTime
}

// CommitFile is one binlog data file of a commit.
type CommitFile struct {
	Key   string `json:"key"`
	Table string `json:"table"`
	Hour  string `json:"hour"` // dt=YYYY-MM-DD/hr=HH
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
	// FirstOffset and LastOffset are the Kafka offsets of the file's first
	// and last rows.
	FirstOffset int64 `json:"first_offset"`
	LastOffset  int64 `json:"last_offset"`
	Late        int64 `json:"late,omitempty"`
}

// DLQFile is one dead-letter file of a commit.
type DLQFile struct {
	Key     string `json:"key"`
	Records int64  `json:"records"`
}

// DDLEvent is a schema statement seen in the stream.
type DDLEvent struct {
	Offset    int64     `json:"offset"`
	Database  string    `json:"database"`
	Table     string    `json:"table"`
	SQL       string    `json:"sql"`
	EventTime time.Time `json:"event_time"`
}

// CommitDir is the directory of a partition's commit records.
func CommitDir(topic string, partition int32) string {
	return fmt.Sprintf("%s%s/%d/", CommitsPrefix, topic, partition)
}

// CommitKey is the key of a partition's commit number seq.
func CommitKey(topic string, partition int32, seq int64) string {
	return fmt.Sprintf("%s%012d.json", CommitDir(topic, partition), seq)
}

// ParseCommitSeq returns the sequence number of a commit key.
func ParseCommitSeq(key string) (int64, bool) {
	i := strings.LastIndexByte(key, '/')
	name, ok := strings.CutSuffix(key[i+1:], ".json")
	if !ok || len(name) != 12 {
		return 0, false
	}
	n, err := strconv.ParseInt(name, 10, 64)
	return n, err == nil && n > 0
}

// PendingPrefix holds the files an ingest run is about to write, so that
// the next run can remove them if this one dies before committing.
const PendingPrefix = "binlog/_pending/"

// Pending lists the keys a run may write for a partition's commit number
// Seq. It is written before each of those keys is written.
type Pending struct {
	FormatVersion int      `json:"format_version"`
	Topic         string   `json:"topic"`
	Partition     int32    `json:"partition"`
	Seq           int64    `json:"seq"`
	RunID         string   `json:"run_id"`
	Keys          []string `json:"keys"`
}

// PendingDir is the directory of a partition's pending records.
func PendingDir(topic string, partition int32) string {
	return fmt.Sprintf("%s%s/%d/", PendingPrefix, topic, partition)
}

// PendingKey is the key of a run's pending record for commit number seq.
func PendingKey(topic string, partition int32, seq int64, runID string) string {
	return fmt.Sprintf("%s%012d-%s.json", PendingDir(topic, partition), seq, runID)
}

// Marshal encodes a record as indented JSON.
func Marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Unmarshal decodes a record and rejects format versions this binlake does
// not know.
func Unmarshal(key string, data []byte, v any) error {
	var head struct {
		FormatVersion int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	if head.FormatVersion < 1 || head.FormatVersion > FormatVersion {
		return fmt.Errorf("decode %s: format version %d not supported (this binlake reads 1..%d)", key, head.FormatVersion, FormatVersion)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// CommittedFiles returns the files a partition's commits make committed,
// in commit order: every file a commit lists, less those a later replay
// replaced. commits must be the partition's chain in sequence order.
func CommittedFiles(commits []*Commit) []CommitFile {
	var out []CommitFile
	for _, c := range commits {
		if len(c.Replaces) > 0 {
			gone := make(map[string]bool, len(c.Replaces))
			for _, k := range c.Replaces {
				gone[k] = true
			}
			out = slices.DeleteFunc(out, func(f CommitFile) bool { return gone[f.Key] })
		}
		out = append(out, c.Files...)
	}
	return out
}
