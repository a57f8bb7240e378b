package ingest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// partState is one owned partition during a run.
type partState struct {
	id      partitionID
	topicID string            // the topic's Kafka ID, "" if the brokers have none
	last    *warehouse.Commit // latest commit, nil if none
	seq     int64             // the commit this run writes: last.Seq+1
	// start is the first offset this run accounts for, next the offset
	// after the last record read, end the end offset taken at start.
	start, next, end int64
	records          int64
	skipped          map[string]int64
	ddl              []warehouse.DDLEvent
	late             int64
	maxEvent         time.Time
	minEvent         time.Time
	files            []warehouse.CommitFile
	dlq              []dlqEntry
	dlqFiles         []warehouse.DLQFile
	dlqRecords       int64
	pending          pendingRecord
	caughtUp         bool
	// finishAt is the earliest passAt of the partition's open files: once
	// maxEvent reaches it (finishDue), a file is finished
	// (run.finishPassed). Zero when no open file waits for it.
	finishAt  time.Time
	finishDue bool
	// replaces lists the committed files a replay rewrites, and
	// replayCovers is the offset a replay must read to before it may
	// replace them: the one after their last row.
	replaces     []string
	replayCovers int64
}

// lastCommit reads a partition's latest commit, or nil if it has none.
func lastCommit(ctx context.Context, st storage.Store, id partitionID) (*warehouse.Commit, error) {
	n, err := warehouse.LatestCommitSeq(ctx, st, id.Topic, id.Partition)
	if err != nil || n == 0 {
		return nil, err
	}
	return warehouse.ReadCommit(ctx, st, warehouse.CommitKey(id.Topic, id.Partition, n))
}

// recoverPartition removes what runs that died or lost left behind for
// commits up to last: the keys their pending records list that the commit
// of that number does not. Pending records of later commits may belong to
// a run that is still going and are left alone.
func recoverPartition(ctx context.Context, st storage.Store, id partitionID, last *warehouse.Commit) (removed int, err error) {
	var lastSeq int64
	if last != nil {
		lastSeq = last.Seq
	}
	var pendings []string
	err = st.List(ctx, warehouse.PendingDir(id.Topic, id.Partition), func(o storage.Object) error {
		pendings = append(pendings, o.Key)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list pending records of %s: %w", id, err)
	}
	if last != nil {
		for _, k := range last.Replaces {
			if !slices.ContainsFunc(last.Files, func(f warehouse.CommitFile) bool { return f.Key == k }) {
				if err := st.Delete(ctx, k); err != nil {
					return 0, fmt.Errorf("recover %s: remove replaced %s: %w", id, k, err)
				}
			}
		}
	}
	commits := map[int64]*warehouse.Commit{}
	for _, key := range pendings {
		b, err := storage.ReadAll(ctx, st, key)
		if errors.Is(err, storage.ErrNotFound) {
			continue // another run cleaned it up
		}
		if err != nil {
			return removed, err
		}
		var p warehouse.Pending
		if err := warehouse.Unmarshal(key, b, &p); err != nil {
			return removed, err
		}
		if p.Seq > lastSeq {
			continue
		}
		c, ok := commits[p.Seq]
		if !ok {
			if c, err = warehouse.ReadCommit(ctx, st, warehouse.CommitKey(id.Topic, id.Partition, p.Seq)); err != nil {
				return removed, fmt.Errorf("recover %s: %w", id, err)
			}
			commits[p.Seq] = c
		}
		keep := map[string]bool{}
		for _, f := range c.Files {
			keep[f.Key] = true
		}
		for _, f := range c.DLQ {
			keep[f.Key] = true
		}
		for _, k := range p.Keys {
			if keep[k] {
				continue
			}
			if err := st.Delete(ctx, k); err != nil {
				return removed, fmt.Errorf("recover %s: remove %s: %w", id, k, err)
			}
			removed++
		}
		if err := st.Delete(ctx, key); err != nil {
			return removed, fmt.Errorf("recover %s: %w", id, err)
		}
	}
	return removed, nil
}

// pendingRecord is the keys this run may write for a partition, and how
// many of them its stored pending record lists. The run's goroutine lists
// a file's key when it finishes the file; the encoder writes the record
// (writePending) before it writes the file, so the run reads on meanwhile,
// and one write covers every key listed by then.
type pendingRecord struct {
	// write orders the writes of the record; mu guards keys and durable
	// and is never held during a write, so that listing a key does not
	// wait for the store.
	write   sync.Mutex
	mu      sync.Mutex
	keys    []string
	durable int // keys[:durable] are in the stored record
}

// listPending adds keys to the partition's pending record without writing
// it, and returns how many keys it lists with them: what writePending must
// be asked for before they are written.
func listPending(ps *partState, keys ...string) int {
	ps.pending.mu.Lock()
	defer ps.pending.mu.Unlock()
	ps.pending.keys = append(ps.pending.keys, keys...)
	return len(ps.pending.keys)
}

// writePending makes sure the partition's stored pending record lists its
// first n keys, writing every key listed so far if it does not. Safe for
// concurrent use: the writes of one partition are one after the other,
// each listing all keys of the one before.
func (r *run) writePending(ctx context.Context, ps *partState, n int) error {
	p := &ps.pending
	p.write.Lock()
	defer p.write.Unlock()
	p.mu.Lock()
	durable, keys := p.durable, p.keys[:len(p.keys):len(p.keys)]
	p.mu.Unlock()
	if durable >= n {
		return nil
	}
	b, err := warehouse.Marshal(warehouse.Pending{
		FormatVersion: warehouse.FormatVersion,
		Topic:         ps.id.Topic,
		Partition:     ps.id.Partition,
		Seq:           ps.seq,
		RunID:         r.id,
		Keys:          keys,
	})
	if err != nil {
		return err
	}
	if err := r.st.Put(ctx, warehouse.PendingKey(ps.id.Topic, ps.id.Partition, ps.seq, r.id), bytes.NewReader(b)); err != nil {
		return err
	}
	p.mu.Lock()
	p.durable = len(keys)
	p.mu.Unlock()
	return nil
}

// addPending records keys in the partition's pending record, in one
// write, before the keys are written.
func (r *run) addPending(ctx context.Context, ps *partState, keys ...string) error {
	return r.writePending(ctx, ps, listPending(ps, keys...))
}

// commitWriters is how many partitions commit at once.
const commitWriters = 8

// commitAll commits every partition: the first alone, then the others
// several at a time. Each partition's chain is its own, so one commit
// waits for no other, and a partition whose commit fails leaves the
// others' standing, as it would if they had committed before it. The
// first partition's commit goes first so that of two overlapping runs of
// the same partitions (an Airflow retry and the original), the one that
// loses it stops having committed nothing, and the other commits all:
// they never each keep some. It returns the first error.
func (r *run) commitAll(ctx context.Context) error {
	if len(r.order) == 0 {
		return nil
	}
	if err := r.commit(ctx, r.parts[r.order[0]]); err != nil {
		return err
	}
	var g errgroup.Group
	g.SetLimit(commitWriters)
	for _, id := range r.order[1:] {
		ps := r.parts[id]
		g.Go(func() error { return r.commit(ctx, ps) })
	}
	return g.Wait()
}

// commit writes the partition's dead letters and its commit record, then
// drops its pending record. It touches nothing of the run but ps, so
// partitions commit concurrently.
func (r *run) commit(ctx context.Context, ps *partState) error {
	if err := r.writeDLQ(ctx, ps); err != nil {
		return err
	}
	c := warehouse.Commit{
		FormatVersion:  warehouse.FormatVersion,
		Topic:          ps.id.Topic,
		TopicID:        ps.topicID,
		Partition:      ps.id.Partition,
		Seq:            ps.seq,
		RunID:          r.id,
		CommittedAt:    r.opts.Now().UTC(),
		StartOffset:    ps.start,
		EndOffset:      ps.next,
		Records:        ps.records,
		Files:          ps.files,
		DLQ:            ps.dlqFiles,
		Skipped:        ps.skipped,
		DDL:            ps.ddl,
		Late:           ps.late,
		MaxEventTime:   ps.maxEvent.UTC(),
		FirstEventTime: ps.minEvent.UTC(),
	}
	if c.Files == nil {
		c.Files = []warehouse.CommitFile{}
	}
	// In offset order: the record lists the files the same way whatever
	// order their encoders finished in.
	slices.SortFunc(c.Files, func(a, b warehouse.CommitFile) int {
		return cmp.Or(cmp.Compare(a.FirstOffset, b.FirstOffset), strings.Compare(a.Key, b.Key))
	})
	if l := ps.last; l != nil {
		if l.MaxEventTime.After(c.MaxEventTime) {
			c.MaxEventTime = l.MaxEventTime
		}
		if !l.FirstEventTime.IsZero() && (c.FirstEventTime.IsZero() || l.FirstEventTime.Before(c.FirstEventTime)) {
			c.FirstEventTime = l.FirstEventTime
		}
	}
	if ps.caughtUp {
		c.CaughtUpAt = r.started.UTC()
	} else if ps.last != nil {
		c.CaughtUpAt = ps.last.CaughtUpAt
	}
	if r.replayDay != nil {
		// A replay rewrites files; the partition's progress stays where
		// the chain had it.
		c.Replay, c.Replaces, c.Replayed = r.replayDay.String(), ps.replaces, ps.records
		c.StartOffset, c.EndOffset, c.Records, c.Late = ps.last.EndOffset, ps.last.EndOffset, 0, 0
		c.MaxEventTime, c.FirstEventTime, c.CaughtUpAt = ps.last.MaxEventTime, ps.last.FirstEventTime, ps.last.CaughtUpAt
	}
	b, err := warehouse.Marshal(c)
	if err != nil {
		return err
	}
	key := warehouse.CommitKey(ps.id.Topic, ps.id.Partition, ps.seq)
	if err := r.st.PutIfAbsent(ctx, key, b); err != nil {
		if errors.Is(err, storage.ErrExists) {
			if same, _ := r.committedByUs(ctx, key); same {
				return r.dropPending(ctx, ps)
			}
			return fmt.Errorf("partition %s: commit %d was created by another run while this one was reading: two ingest processes own this partition (check kafka.partitions); this run's files are removed by the next run", ps.id, ps.seq)
		}
		return fmt.Errorf("partition %s: create commit %d: %w", ps.id, ps.seq, err)
	}
	ps.last = &c
	if err := warehouse.WriteCommitHead(ctx, r.st, ps.id.Topic, ps.id.Partition, ps.seq); err != nil {
		// The head only spares readers a listing: the commit stands.
		r.log.Warn("could not record the partition's latest commit; readers list its commit records instead", "partition", ps.id.String(), "error", err)
	}
	if err := r.dropPending(ctx, ps); err != nil {
		return err
	}
	return r.removeReplaced(ctx, ps.id, &c)
}

// removeReplaced deletes the files a replay commit replaced, once the
// commit is durable. Deleting is idempotent, so recovery repeats it for a
// replay that died here.
func (r *run) removeReplaced(ctx context.Context, id partitionID, c *warehouse.Commit) error {
	keep := map[string]bool{}
	for _, f := range c.Files {
		keep[f.Key] = true
	}
	for _, k := range c.Replaces {
		if keep[k] {
			continue
		}
		if err := r.st.Delete(ctx, k); err != nil {
			return fmt.Errorf("partition %s: remove replaced file %s: %w", id, k, err)
		}
	}
	return nil
}

// committedByUs tells whether an existing commit record is this run's own
// (a retried create whose first answer was lost).
func (r *run) committedByUs(ctx context.Context, key string) (bool, error) {
	c, err := warehouse.ReadCommit(ctx, r.st, key)
	if err != nil {
		return false, err
	}
	return c.RunID == r.id, nil
}

func (r *run) dropPending(ctx context.Context, ps *partState) error {
	if ps.pending.durable == 0 {
		return nil
	}
	return r.st.Delete(ctx, warehouse.PendingKey(ps.id.Topic, ps.id.Partition, ps.seq, r.id))
}

// fileName is the deterministic name of a binlog file. A replay's files
// carry its commit number, so they never overwrite the files they replace.
func fileName(id partitionID, first, last, replaySeq int64) string {
	if replaySeq > 0 {
		return fmt.Sprintf("%s-%d-%020d-%020d-r%d.parquet", id.Topic, id.Partition, first, last, replaySeq)
	}
	return fmt.Sprintf("%s-%d-%020d-%020d.parquet", id.Topic, id.Partition, first, last)
}
