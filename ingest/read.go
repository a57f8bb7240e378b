package ingest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/cdc"
)

// Reading is a pipeline: reader goroutines, one per Kafka client, each
// client consuming its own share of the partitions so that several
// fetches are in flight, poll Kafka and cut each poll into jobs of at most
// jobRecords records; a pool of decode workers (one per GOMAXPROCS, each
// with a decoder of its own) decodes the jobs in parallel, JSON parsing
// being the larger part of ingest's work; and the run's goroutine takes the jobs in
// the order the readers queued them, waiting for each to be decoded, so it
// routes, types and buffers each partition's records in offset order
// exactly as if one goroutine had decoded them. Jobs go back to the
// readers to be reused, so reading allocates little.

// jobRecords is the most records one decode job holds: small enough that
// a poll is spread over the workers, large enough that handing a job over
// costs nothing next to decoding it.
const jobRecords = 512

// skipTxnMarker is how a transaction's commit or abort marker (a Kafka
// control record) is counted: skipped, like records that hold no row.
const skipTxnMarker cdc.Skip = "transaction-marker"

// decoded is one Kafka record and what its decoder made of it.
type decoded struct {
	rec     cdc.Record
	changes []cdc.Change // valid while the batch is not reused
	skip    cdc.Skip
	err     error
}

// readBatch is one decode job: records of one poll, in offset order per
// partition, and once decoded what they hold. The changes' row images live
// in the batch's own arenas.
type readBatch struct {
	raw     []*kgo.Record
	recs    []decoded
	changes []cdc.Change
	cols    []cdc.Column
	// err is a fetch error; the run fails with it.
	err error
	// done receives one value when the job is decoded.
	done chan struct{}
}

// partRange is the offsets of a partition the run reads: [start, end).
type partRange struct{ start, end int64 }

// reader polls fetches, one goroutine per client, and has them decoded by
// its workers. A partition is read by one client only, so the jobs of a
// partition are queued in offset order.
type reader struct {
	ranges map[partitionID]partRange // read only once reading starts
	// out holds the jobs in the order the run must take them; its
	// capacity bounds the jobs in flight.
	out  chan *readBatch
	work chan *readBatch
	free chan *readBatch
}

// decodeWorker decodes jobs with a decoder of its own.
type decodeWorker struct {
	dec cdc.Decoder
	// last is the partition of the previous record and its range:
	// records come in runs of one partition.
	last      partitionID
	lastRange partRange
	lastOK    bool
}

// run polls cl until ctx is cancelled, sending the jobs of each poll, or one
// empty job when the poll timed out so the run can notice idle
// partitions.
func (rd *reader) run(ctx context.Context, cl *kgo.Client) {
	for ctx.Err() == nil {
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		b := rd.batch()
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) && b.err == nil {
				b.err = fmt.Errorf("fetch %s/%d: %w", topic, p, err)
			}
		})
		if b.err == nil {
			iter := fetches.RecordIter()
			for !iter.Done() {
				if len(b.raw) == jobRecords {
					if !rd.send(ctx, b) {
						return
					}
					b = rd.batch()
				}
				b.raw = append(b.raw, iter.Next())
			}
		}
		if !rd.send(ctx, b) {
			return
		}
	}
}

// batch returns an empty job, reused if the run gave one back.
func (rd *reader) batch() *readBatch {
	select {
	case b := <-rd.free:
		return b
	default:
		return &readBatch{done: make(chan struct{}, 1)}
	}
}

// send queues job b for the run and, unless it is a fetch error or empty,
// for the workers. It reports false if ctx was cancelled first.
func (rd *reader) send(ctx context.Context, b *readBatch) bool {
	select {
	case rd.out <- b:
	case <-ctx.Done():
		return false
	}
	if b.err != nil || len(b.raw) == 0 {
		b.done <- struct{}{}
		return true
	}
	select {
	case rd.work <- b:
		return true
	case <-ctx.Done():
		return false
	}
}

// run decodes jobs until the reader closes the work queue. Once ctx is
// cancelled nobody takes the jobs: they are only marked done.
func (w *decodeWorker) run(ctx context.Context, rd *reader) {
	for b := range rd.work {
		if ctx.Err() == nil {
			// The row images go straight into the batch's column arena,
			// where they stay while the batch is not reused.
			w.dec.CarveColumnsFrom(&b.cols)
			for _, kr := range b.raw {
				w.decode(rd, b, kr)
			}
		}
		// Only the kgo.Record structs go back (to recordPool, for the
		// next fetches). The decoded records still point into the
		// fetched bytes (Key, Value, header values), which stay alive
		// as long as the job refers to them: no pool reuses those bytes.
		for _, kr := range b.raw {
			kr.Recycle()
		}
		b.done <- struct{}{}
	}
	w.dec.CarveColumnsFrom(nil) // the batches are the reader's
}

// decode appends a record and its changes to the batch. Records outside
// the partition's range are left out: the run would skip them.
func (w *decodeWorker) decode(rd *reader, b *readBatch, kr *kgo.Record) {
	if kr.Partition != w.last.Partition || kr.Topic != w.last.Topic {
		w.last = partitionID{kr.Topic, kr.Partition}
		w.lastRange, w.lastOK = rd.ranges[w.last]
	}
	pr, ok := w.lastRange, w.lastOK
	if !ok || kr.Offset < pr.start || kr.Offset >= pr.end {
		return
	}
	if kr.Attrs.IsControl() {
		b.recs = append(b.recs, decoded{
			rec:  cdc.Record{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset, Timestamp: kr.Timestamp},
			skip: skipTxnMarker,
		})
		return
	}
	// Decoded in place: a record of its own would escape to the heap
	// through the decoder interface, one allocation per record.
	b.recs = append(b.recs, decoded{rec: cdc.Record{
		Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset,
		Key: kr.Key, Value: kr.Value, Timestamp: kr.Timestamp,
	}})
	d := &b.recs[len(b.recs)-1]
	// Headers are kept fresh: a dead letter holds on to them.
	for _, h := range kr.Headers {
		d.rec.Headers = append(d.rec.Headers, cdc.Header{Key: h.Key, Value: h.Value})
	}
	// The changes are appended to the batch's; a record that fails adds
	// none.
	start := len(b.changes)
	changes, skip, err := w.dec.Decode(b.changes, &d.rec)
	b.changes = changes
	if err != nil {
		// The decode may have written changes past the end before it
		// failed: they must not keep the message alive.
		clear(b.changes[start:cap(b.changes)])
	}
	d.skip, d.err = skip, err
	d.changes = b.changes[start:len(b.changes):len(b.changes)]
}

// splitPartitions deals the partitions to consume, in partition order,
// into at most n groups.
func splitPartitions(consume map[string]map[int32]kgo.Offset, n int) []map[string]map[int32]kgo.Offset {
	var ids []partitionID
	for t, ps := range consume {
		for p := range ps {
			ids = append(ids, partitionID{t, p})
		}
	}
	slices.SortFunc(ids, comparePartitions)
	groups := make([]map[string]map[int32]kgo.Offset, min(n, len(ids)))
	for i, id := range ids {
		g := &groups[i%len(groups)]
		if *g == nil {
			*g = map[string]map[int32]kgo.Offset{}
		}
		if (*g)[id.Topic] == nil {
			(*g)[id.Topic] = map[int32]kgo.Offset{}
		}
		(*g)[id.Topic][id.Partition] = consume[id.Topic][id.Partition]
	}
	return groups
}

// fetchMaxBytes bounds the fetch responses from one broker to all of a
// run's Kafka clients together (at least 1 MiB a client).
const fetchMaxBytes = 50 << 20

// consume reads the partitions up to their end offsets.
func (r *run) consume(ctx context.Context, kopts []kgo.Opt, consume map[string]map[int32]kgo.Offset) error {
	// One client per group of partitions, GOMAXPROCS groups at most: a
	// client has one fetch in flight per broker, and with several the next
	// fetch of one group arrives while another's is decoded.
	var clients []*kgo.Client
	pool := &recordPool{}
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	groups := splitPartitions(consume, runtime.GOMAXPROCS(0))
	for _, g := range groups {
		opts := append(slices.Clone(kopts),
			kgo.ConsumePartitions(g),
			// The clients share what one would fetch at once (franz-go's
			// default, 50 MiB a fetch, one fetch a broker), so reading
			// takes no more memory outside the budget however many there
			// are.
			kgo.FetchMaxBytes(int32(max(1<<20, fetchMaxBytes/len(groups)))),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			// Transaction markers take offsets too: delivered, they
			// move the partition on to its end offset, where the
			// marker of the last transaction often sits.
			kgo.KeepControlRecords(),
			kgo.FetchMaxWait(500*time.Millisecond),
			// No fetch sessions (KIP-227): they spare a consumer that
			// polls many partitions for long from listing them all in
			// every fetch, while a run reads its few partitions once,
			// to their end offsets. Closing a session would cost each
			// client a new connection and a fetch when it closes, at the
			// end of every run (its fetch connection is cut with the
			// fetch still waiting on it).
			kgo.DisableFetchSessions(),
			kgo.WithPools(pool),
		)
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return fmt.Errorf("kafka consumer: %w", err)
		}
		clients = append(clients, cl)
	}
	var err error
	// One decode worker per GOMAXPROCS; the run's decoder is the first one's.
	workers := make([]*decodeWorker, runtime.GOMAXPROCS(0))
	for i := range workers {
		dec := r.dec
		if i > 0 {
			if dec, err = newDecoder(r.opts); err != nil {
				return err
			}
		}
		workers[i] = &decodeWorker{dec: dec}
	}
	rd := &reader{
		ranges: map[partitionID]partRange{},
		out:    make(chan *readBatch, 2*len(workers)+2),
		work:   make(chan *readBatch, len(workers)),
		free:   make(chan *readBatch, 2*len(workers)+4),
	}
	remaining := len(r.parts)
	for id, ps := range r.parts {
		rd.ranges[id] = partRange{ps.next, ps.end}
		if ps.caughtUp {
			remaining--
		}
	}
	rctx, stopReader := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(rctx, rd) })
	}
	var readers sync.WaitGroup
	for _, cl := range clients {
		readers.Go(func() { rd.run(rctx, cl) })
	}
	go func() {
		readers.Wait()
		close(rd.out)
		close(rd.work)
	}()
	defer func() {
		stopReader()
		for range rd.out { // let the readers finish before the clients close
		}
		wg.Wait()
	}()

	var deadline time.Time
	if r.opts.MaxDuration > 0 {
		deadline = r.started.Add(r.opts.MaxDuration)
	}
	lastRecord := time.Now()
	var read, rows int64
	var total int64
	for _, ps := range r.parts {
		total += max(ps.end-ps.next, 0)
	}
	if r.opts.MaxRecords > 0 {
		total = min(total, r.opts.MaxRecords)
	}
	lastProgress := time.Now()
	report := func() {
		if r.opts.Progress != nil {
			rows = 0
			for _, t := range r.router.tables {
				rows += t.rows
			}
			r.opts.Progress(Progress{Records: read, Total: total, Rows: rows, Files: r.filesWritten})
		}
	}
	defer report()
	for remaining > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !deadline.IsZero() && r.opts.Now().After(deadline) {
			r.log.Info("ingest stopping early: --max-duration reached")
			return nil
		}
		var b *readBatch
		select {
		case b = <-rd.out:
		case <-ctx.Done():
			return ctx.Err()
		}
		if b == nil {
			// The readers stopped: only a cancelled ctx stops them.
			return fmt.Errorf("kafka readers stopped: %w", context.Cause(ctx))
		}
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if b.err != nil {
			return b.err
		}
		got := false
		var ps *partState
		for i := range b.recs {
			d := &b.recs[i]
			// Records come in runs of one partition.
			if ps == nil || d.rec.Partition != ps.id.Partition || d.rec.Topic != ps.id.Topic {
				ps = r.parts[partitionID{d.rec.Topic, d.rec.Partition}]
			}
			if ps == nil || ps.caughtUp || d.rec.Offset < ps.next || d.rec.Offset >= ps.end {
				continue
			}
			got = true
			if err := r.process(ctx, ps, d); err != nil {
				return err
			}
			read++
			if ps.next >= ps.end {
				ps.caughtUp = true
				remaining--
				// The files of the last partition to finish are finished
				// with the rest (flushAll).
				if remaining > 0 {
					if err := r.finishPartition(ctx, ps); err != nil {
						return err
					}
				}
			}
			if r.opts.MaxRecords > 0 && read >= r.opts.MaxRecords {
				r.log.Info("ingest stopping early: --max-records reached", "records", read)
				return nil
			}
		}
		// Emptied before it waits for reuse: a job's records refer into
		// the fetch responses they came in, which it must not keep alive.
		clear(b.raw)
		clear(b.recs)
		clear(b.changes)
		clear(b.cols)
		b.raw, b.recs, b.changes, b.cols, b.err = b.raw[:0], b.recs[:0], b.changes[:0], b.cols[:0], nil
		select {
		case rd.free <- b:
		default:
		}
		if time.Since(lastProgress) >= time.Second {
			report()
			lastProgress = time.Now()
		}
		if got {
			lastRecord = time.Now()
		} else if time.Since(lastRecord) > r.opts.IdleTimeout {
			// Nothing arrives although some partitions are short of
			// their end offsets: a broker that does not answer, or
			// offsets that hold nothing to deliver (the tail of a
			// compacted topic). The run stops there and commits what it
			// read; it never counts offsets it did not read, which would
			// lose their records. Not caught up, the partitions do not
			// move their hours towards ready either. The next run reads
			// on from where this one stopped.
			for _, ps := range r.parts {
				if !ps.caughtUp {
					r.log.Warn("no record arrived for the idle timeout although the partition is short of its end offset; stopping, the next run reads on from here",
						"partition", ps.id.String(), "next", ps.next, "end", ps.end, "idle_timeout", r.opts.IdleTimeout)
				}
			}
			return nil
		}
	}
	return nil
}
