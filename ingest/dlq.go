package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/binlake/binlake/cdc"
	"github.com/binlake/binlake/warehouse"
)

// dlqEntry is one record that could not be ingested, kept verbatim with
// where it came from and why.
type dlqEntry struct {
	Topic     string       `json:"topic"`
	Partition int32        `json:"partition"`
	Offset    int64        `json:"offset"`
	Timestamp time.Time    `json:"timestamp"`
	Key       []byte       `json:"key"`   // base64 in JSON
	Value     []byte       `json:"value"` // base64 in JSON
	Headers   []cdc.Header `json:"headers,omitempty"`
	Reason    string       `json:"reason"`
}

// dlqKey is the key of a partition's dead-letter file for a commit: one
// JSON object per line.
func dlqKey(id partitionID, first, last int64) string {
	return fmt.Sprintf("%s%s/%d/%020d-%020d.jsonl", warehouse.DLQPrefix, id.Topic, id.Partition, first, last)
}

// toDLQ sets a record aside with the reason it could not be ingested.
func (r *run) toDLQ(ps *partState, rec *cdc.Record, reason error) {
	ps.dlq = append(ps.dlq, dlqEntry{
		Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Timestamp: rec.Timestamp.UTC(),
		Key: rec.Key, Value: rec.Value, Headers: rec.Headers,
		Reason: reason.Error(),
	})
	ps.dlqRecords++
	r.log.Warn("record sent to the dead-letter queue", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "reason", reason.Error())
}

// writeDLQ writes the partition's dead letters, if any, as one file.
func (r *run) writeDLQ(ctx context.Context, ps *partState) error {
	if len(ps.dlq) == 0 {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range ps.dlq {
		if err := enc.Encode(&ps.dlq[i]); err != nil {
			return err
		}
	}
	key := dlqKey(ps.id, ps.dlq[0].Offset, ps.dlq[len(ps.dlq)-1].Offset)
	if err := r.addPending(ctx, ps, key); err != nil {
		return err
	}
	if err := r.st.Put(ctx, key, bytes.NewReader(buf.Bytes())); err != nil {
		return fmt.Errorf("write dead letters of %s: %w", ps.id, err)
	}
	ps.dlqFiles = append(ps.dlqFiles, warehouse.DLQFile{Key: key, Records: int64(len(ps.dlq))})
	ps.dlq = nil
	return nil
}
