package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/binlake/binlake/warehouse"
)

// replayMargin widens the replayed offsets around the day: producers'
// clocks and transactions that commit after their events began.
const replayMargin = time.Hour

// replayOffsets finds, per partition, the first offsets whose record
// timestamps are at or after the start of the replay day (less the margin)
// and after its end (plus the margin).
func (r *run) replayOffsets(ctx context.Context, adm *kadm.Client, owned []partitionID) (from, to map[partitionID]int64, err error) {
	z, d := r.opts.Zone, *r.replayDay
	at := func(t time.Time) (map[partitionID]int64, error) {
		var topics []string
		seen := map[string]bool{}
		for _, id := range owned {
			if !seen[id.Topic] {
				seen[id.Topic] = true
				topics = append(topics, id.Topic)
			}
		}
		listed, err := adm.ListOffsetsAfterMilli(ctx, t.UnixMilli(), topics...)
		if err != nil {
			return nil, fmt.Errorf("kafka offsets at %s: %w", t.UTC().Format(time.RFC3339), err)
		}
		out := map[partitionID]int64{}
		for _, id := range owned {
			o, ok := listed.Lookup(id.Topic, id.Partition)
			if !ok {
				return nil, fmt.Errorf("kafka offset of %s at %s: no answer", id, t.UTC().Format(time.RFC3339))
			}
			if o.Err != nil {
				return nil, fmt.Errorf("kafka offset of %s at %s: %w", id, t.UTC().Format(time.RFC3339), o.Err)
			}
			out[id] = o.Offset
		}
		return out, nil
	}
	if from, err = at(z.DayStart(d).Add(-replayMargin)); err != nil {
		return nil, nil, err
	}
	if to, err = at(z.DayStart(d.AddDays(1)).Add(replayMargin)); err != nil {
		return nil, nil, err
	}
	return from, to, nil
}

// checkReplayRead fails a replay that stopped before it read every row of
// the files it replaces (--max-records, --max-duration, or a broker that
// did not answer for the idle timeout): committed, it would replace the
// day's files with fewer rows. The files it wrote are removed by the next
// run. Offsets past the day's files that it did not reach are only looked
// at for rows that went to the dead-letter queue before; those stay there.
func (r *run) checkReplayRead() error {
	if r.replayDay == nil {
		return nil
	}
	for _, id := range r.order {
		if ps := r.parts[id]; ps.next < ps.replayCovers {
			return fmt.Errorf("replay of %s: partition %s was read to offset %d, short of the day's last committed row at %d (the run stopped early: --max-records, --max-duration, or no record for the idle timeout); nothing was replaced: run the replay again", r.replayDay, id, ps.next, ps.replayCovers-1)
		}
	}
	return nil
}

// openReplay prepares a partition for a replay of the day: the offsets
// to read cover the day's timestamps and every committed file of the day,
// and never pass the partition's last commit. It returns nil when the
// partition has nothing committed.
func (r *run) openReplay(ctx context.Context, id partitionID, topicID string, from, to, earliest, end int64) (*partState, error) {
	latest, err := warehouse.LatestCommitSeq(ctx, r.st, id.Topic, id.Partition)
	if err != nil || latest == 0 {
		return nil, err
	}
	// The commits that can list a file of the day, and the latest: a
	// replay of one day costs what the commits since then cost, not the
	// partition's history.
	chain, err := warehouse.ReadCommitsBack(ctx, r.st, id.Topic, id.Partition, latest, r.opts.Zone.DayStart(*r.replayDay).Add(-warehouse.CommitLead))
	if err != nil {
		return nil, err
	}
	last := chain[len(chain)-1]
	if err := r.checkSameTopic(id, last, topicID); err != nil {
		return nil, err
	}
	if err := checkLogKept(id, last.EndOffset, end); err != nil {
		// Another log's records at the same offsets would replace the day.
		return nil, err
	}
	if _, err := recoverPartition(ctx, r.st, id, last); err != nil {
		return nil, err
	}
	start, end := from, min(to, last.EndOffset)
	var replaces []string
	var covers int64 // the offset after the day's last committed row
	day := "dt=" + r.replayDay.String() + "/"
	for _, f := range warehouse.CommittedFiles(chain) {
		if len(f.Hour) >= len(day) && f.Hour[:len(day)] == day {
			replaces = append(replaces, f.Key)
			start, end = min(start, f.FirstOffset), max(end, f.LastOffset+1)
			covers = max(covers, f.LastOffset+1)
		}
	}
	if start < earliest {
		return nil, fmt.Errorf("partition %s: replaying %s needs offsets from %d but Kafka's earliest is %d: the day is no longer in Kafka", id, r.replayDay, start, earliest)
	}
	ps := &partState{
		id: id, topicID: topicID, last: last, seq: last.Seq + 1,
		start: start, next: start, end: max(start, end),
		skipped: map[string]int64{}, replaces: replaces, replayCovers: covers,
	}
	return ps, nil
}
