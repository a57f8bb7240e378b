package ingest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/cdc"
	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/internal/pagezstd"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// run is the state of one ingest run.
type run struct {
	opts    Options
	st      storage.Store
	log     *slog.Logger
	id      string
	started time.Time
	dec     cdc.Decoder
	coerce  schema.CoerceOptions
	router  *router

	flusher *flusher
	// encodeCtx is the context of the encoders: cancelled when the run
	// fails, so they write nothing more.
	encodeCtx context.Context
	// zstd compresses every file: one codec, so its encoders are kept
	// across files.
	zstd *pagezstd.Codec
	// chunks are chunks the encoders are done with, for reuse.
	chunks chan *chunk
	// catalogWrites are the catalog versions being written
	// (tableState.persist).
	catalogWrites sync.WaitGroup

	parts map[partitionID]*partState
	order []partitionID
	bufs  map[bufKey]*buffer
	// lastBuf is the open buffer the previous row went to: rows come in
	// runs of one file.
	lastBuf *buffer
	// buffered is the estimated memory of all buffers.
	buffered     int64
	peakBuffered int64
	// ready caches the ready markers of hours met so far (nil: none).
	ready map[warehouse.Hour]*warehouse.Ready
	// lastHour is the hour of the second (Unix time) met last.
	lastHour struct {
		sec  int64
		hour warehouse.Hour
		ok   bool
	}
	// lastReady is the entry of ready met last: records come in runs of
	// one hour. Whatever changes ready resets it.
	lastReady struct {
		hour warehouse.Hour
		m    *warehouse.Ready
		ok   bool
	}
	replayDay *warehouse.Date

	rows         []pendingRow
	vals         []schema.Value // the values of the record's rows
	filesWritten int64
	bytesWritten int64
	// unmatched counts the records of tables no rule matches, by the
	// router's copies of their names.
	unmatched   map[physicalTable]int64
	zeroDates   map[string]int64
	tableErrors map[string]string
}

// pendingRow is a row of a record being processed: all rows of a record
// are built before any is buffered, so a bad record goes to the
// dead-letter queue whole.
type pendingRow struct {
	t    *tableState
	hour warehouse.Hour
	row  bufRow
	// generation is the table's schema generation the values were
	// coerced in.
	generation int
}

// Run performs one ingest run and returns its summary. The summary is
// returned, as far as it got, with an error too.
func Run(ctx context.Context, o Options) (*Summary, error) {
	o.ensureDefaults()
	if o.Store == nil || o.Kafka == nil {
		return nil, errors.New("ingest: Store and Kafka are required")
	}
	r := &run{
		opts:        o,
		st:          o.Store,
		log:         o.Log,
		id:          o.RunID,
		started:     o.Now(),
		parts:       map[partitionID]*partState{},
		bufs:        map[bufKey]*buffer{},
		ready:       map[warehouse.Hour]*warehouse.Ready{},
		replayDay:   o.ReplayDate,
		unmatched:   map[physicalTable]int64{},
		zeroDates:   map[string]int64{},
		tableErrors: map[string]string{},
	}
	if r.id == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		r.id = r.started.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
	}
	var err error
	if r.dec, err = newDecoder(o); err != nil {
		return nil, err
	}
	r.coerce = coerceOptions(o.Kafka)
	if r.router, err = newRouter(o.Tables); err != nil {
		return nil, err
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.flusher, r.encodeCtx = newFlusher(runtime.GOMAXPROCS(0), r.encode), fctx
	r.zstd = pagezstd.New(runtime.GOMAXPROCS(0))
	r.chunks = make(chan *chunk, 8)
	defer r.flusher.stop()
	defer r.catalogWrites.Wait()
	sum, err := r.execute(ctx)
	if err != nil {
		cancel()
		r.abortOpen()
		_ = r.flusher.wait(r) // let the encoders settle
	}
	return sum, err
}

func newDecoder(o Options) (cdc.Decoder, error) {
	return cdc.New(cdc.Options{
		Format:         string(o.Kafka.Format),
		SourceLocation: o.Kafka.SourceLocation,
		AESKeys:        o.AESKeys,
		EventTimeField: o.Kafka.EventTimeField,
	})
}

// coerceOptions says how a format writes values that need a declared
// type to read: binary columns and timestamps without an offset.
func coerceOptions(k *config.Kafka) schema.CoerceOptions {
	o := schema.CoerceOptions{Zone: k.SourceLocation}
	switch k.Format {
	case config.FormatMaxwell, config.FormatDebezium:
		o.Binary = schema.Base64
	default:
		o.Binary = schema.Raw
	}
	return o
}

func (r *run) execute(ctx context.Context) (*Summary, error) {
	kopts, err := clientOpts(r.opts.Kafka)
	if err != nil {
		return nil, err
	}
	admClient, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	defer admClient.Close()
	adm := kadm.NewClient(admClient)

	owned, topicIDs, err := discover(ctx, adm, r.opts.Kafka)
	if err != nil {
		return nil, err
	}
	ends, err := offsets(ctx, adm, owned, true)
	if err != nil {
		return nil, err
	}
	starts, err := offsets(ctx, adm, owned, false)
	if err != nil {
		return nil, err
	}
	var replayFrom, replayTo map[partitionID]int64
	if r.replayDay != nil {
		if replayFrom, replayTo, err = r.replayOffsets(ctx, adm, owned); err != nil {
			return nil, err
		}
	}
	consume := map[string]map[int32]kgo.Offset{}
	for _, id := range owned {
		var ps *partState
		if r.replayDay != nil {
			ps, err = r.openReplay(ctx, id, topicIDs[id.Topic], replayFrom[id], replayTo[id], starts[id], ends[id])
		} else {
			ps, err = r.openPartition(ctx, id, topicIDs[id.Topic], starts[id], ends[id])
		}
		if err != nil {
			return nil, err
		}
		if ps == nil {
			continue // nothing committed to replay
		}
		r.parts[id] = ps
		r.order = append(r.order, id)
		if ps.next < ps.end {
			if consume[id.Topic] == nil {
				consume[id.Topic] = map[int32]kgo.Offset{}
			}
			consume[id.Topic][id.Partition] = kgo.NewOffset().At(ps.next)
		} else {
			ps.caughtUp = true
		}
	}
	r.log.Info("ingest starting", "run", r.id, "partitions", len(owned), "to_read", len(consume))

	if len(consume) > 0 {
		if err := r.consume(ctx, kopts, consume); err != nil {
			return r.summary(), err
		}
	}
	if err := r.checkDLQRatio(); err != nil {
		return r.summary(), err
	}
	if err := r.checkReplayRead(); err != nil {
		return r.summary(), err
	}
	if err := r.flushAll(ctx); err != nil {
		return r.summary(), err
	}
	if err := r.commitAll(ctx); err != nil {
		return r.summary(), err
	}
	if r.replayDay != nil {
		return r.summary(), nil
	}
	r.commitGroup(ctx, adm)
	all, err := allPartitions(ctx, adm, owned)
	if err != nil {
		return r.summary(), err
	}
	if err := r.markReady(ctx, all); err != nil {
		return r.summary(), err
	}
	sum := r.summary()
	if len(r.tableErrors) > 0 {
		var msgs []string
		for name, msg := range r.tableErrors {
			msgs = append(msgs, fmt.Sprintf("table %s: %s", name, msg))
		}
		slices.Sort(msgs)
		return sum, fmt.Errorf("%d tables failed; other tables were committed, and the failed tables' records since the change are in the dead-letter queue: %s", len(msgs), strings.Join(msgs, "; "))
	}
	return sum, nil
}

// openPartition reads a partition's commit chain, cleans up after dead
// runs, and decides where reading starts.
func (r *run) openPartition(ctx context.Context, id partitionID, topicID string, earliest, end int64) (*partState, error) {
	last, err := lastCommit(ctx, r.st, id)
	if err != nil {
		return nil, err
	}
	if err := r.checkSameTopic(id, last, topicID); err != nil {
		return nil, err
	}
	removed, err := recoverPartition(ctx, r.st, id, last)
	if err != nil {
		return nil, err
	}
	if removed > 0 {
		r.log.Info("removed files of a run that did not commit", "partition", id.String(), "files", removed)
	}
	ps := &partState{id: id, topicID: topicID, last: last, seq: 1, end: end, skipped: map[string]int64{}}
	switch {
	case last != nil:
		ps.seq = last.Seq + 1
		ps.start = last.EndOffset
		if ps.start < earliest {
			return nil, fmt.Errorf("partition %s: the next offset to ingest is %d but Kafka's earliest is %d: records %d..%d were deleted by Kafka retention before binlake read them (data loss); replay the missing days from another copy or re-bootstrap the tables", id, ps.start, earliest, ps.start, earliest-1)
		}
		if err := checkLogKept(id, ps.start, end); err != nil {
			// Reading on would skip the new log's records up to ps.start
			// and call the partition caught up until then.
			return nil, err
		}
	case r.opts.Kafka.Start == config.StartLatest:
		ps.start = end
	default:
		ps.start = earliest
	}
	ps.next = ps.start
	return ps, nil
}

// checkSameTopic fails when the partition's topic is not the one binlake
// committed from: it has another topic ID, so it was deleted and created
// again. Its offsets start again from 0, and whether the new log is shorter
// or longer than the committed part, reading on from the committed offset
// would skip its first records (and a replay would take them for the
// day's). An ID in Options.AcceptTopicIDs is let through.
func (r *run) checkSameTopic(id partitionID, last *warehouse.Commit, topicID string) error {
	if last == nil || last.TopicID == "" || topicID == "" || last.TopicID == topicID {
		return nil
	}
	if slices.Contains(r.opts.AcceptTopicIDs, topicID) {
		r.log.Warn("topic ID changed; reading on as --accept-topic-id says", "partition", id.String(), "committed_from", last.TopicID, "now", topicID)
		return nil
	}
	return fmt.Errorf("partition %s: topic %s has ID %s, but binlake committed its records from a topic of that name with ID %s: the topic was deleted and created again, or kafka.brokers points at another cluster; ingest stops rather than skip records (a recreated topic is ingested under a new name; a topic moved to another cluster with its records at the same offsets is accepted with --accept-topic-id %s)", id, id.Topic, topicID, last.TopicID, topicID)
}

// checkLogKept fails when Kafka's end offset of a partition is below the
// offset binlake has ingested up to: offsets never go back, so the log is
// not the one binlake read.
func checkLogKept(id partitionID, committed, end int64) error {
	if committed <= end {
		return nil
	}
	return fmt.Errorf("partition %s: binlake has ingested up to offset %d but Kafka's end offset is %d: the topic was deleted and created again, or the brokers lost records (an unclean leader election), or kafka.brokers points at another cluster; ingest stops rather than skip records (a recreated topic is ingested under a new name)", id, committed, end)
}

// process routes and buffers one decoded record. A record that cannot be
// ingested goes to the dead-letter queue; only storage failures return an
// error.
func (r *run) process(ctx context.Context, ps *partState, d *decoded) error {
	rec := &d.rec
	ps.next = rec.Offset + 1
	ps.records++
	r.vals = r.vals[:0]
	if d.err != nil {
		r.deadLetter(ps, rec, fmt.Errorf("decode: %w", d.err))
		return nil
	}
	if d.skip != cdc.NotSkipped {
		ps.skipped[string(d.skip)]++
		return nil
	}
	changes := d.changes
	rows, matched, err := r.rowsOf(ctx, ps, rec, changes)
	if err != nil {
		var rerr recordError
		if errors.As(err, &rerr) {
			r.deadLetter(ps, rec, err)
			return nil
		}
		return err
	}
	if !matched {
		ps.skipped["no-table-rule"]++
		return nil
	}
	if ps.finishDue {
		if err := r.finishPassed(ctx, ps); err != nil {
			return err
		}
	}
	for i := range rows {
		pr := &rows[i]
		if pr.row.late {
			ps.late++
		}
		pr.t.rows++
		if err := r.add(ctx, pr.t, ps, pr.hour, pr.row, pr.generation); err != nil {
			return err
		}
	}
	return nil
}

// recordError is a problem with one record: it goes to the dead-letter
// queue, and the run goes on.
type recordError struct{ err error }

func (e recordError) Error() string { return e.err.Error() }
func (e recordError) Unwrap() error { return e.err }

func recordErrorf(format string, args ...any) error {
	return recordError{fmt.Errorf(format, args...)}
}

// rowsOf turns a record's changes into rows of logical tables. matched is
// false when no change belongs to a configured table.
func (r *run) rowsOf(ctx context.Context, ps *partState, rec *cdc.Record, changes []cdc.Change) ([]pendingRow, bool, error) {
	rows := r.rows[:0]
	matched := false
	for ci := range changes {
		c := &changes[ci]
		t, db, table, err := r.router.route(c.Database, c.Table)
		if err != nil {
			return nil, false, recordError{err}
		}
		if t == nil {
			r.unmatched[physicalTable{db, table}]++
			continue
		}
		matched = true
		if t.failed != nil {
			return nil, true, recordErrorf("table %s: %v", t.rule.Name, t.failed)
		}
		if err := t.load(ctx, r.st); err != nil {
			return nil, true, err
		}
		if c.EventTime.After(ps.maxEvent) {
			ps.maxEvent = c.EventTime
			ps.finishDue = !ps.finishAt.IsZero() && !ps.maxEvent.Before(ps.finishAt)
		}
		if ps.minEvent.IsZero() || c.EventTime.Before(ps.minEvent) {
			ps.minEvent = c.EventTime
		}
		if c.Op == cdc.DDL {
			ps.ddl = append(ps.ddl, warehouse.DDLEvent{Offset: rec.Offset, Database: strings.Clone(c.Database), Table: strings.Clone(c.Table), SQL: strings.Clone(c.SQL), EventTime: c.EventTime.UTC()})
			continue
		}
		hour := r.hourOf(c.EventTime)
		if r.replayDay != nil && hour.Date != *r.replayDay {
			continue // a replay rewrites one day only
		}
		late, err := r.lateAt(ctx, hour, ps.id, rec.Offset)
		if err != nil {
			return nil, true, err
		}
		base := bufRow{
			op:          c.Op,
			pos:         c.Pos,
			eventMicros: c.EventTime.UnixMicro(),
			db:          db,
			table:       table,
			offset:      rec.Offset,
			late:        late,
		}
		if err := base.pos.Check(); err != nil {
			return nil, true, recordError{err}
		}
		if c.Op == cdc.Truncate {
			rows = append(rows, pendingRow{t, hour, base, t.generation})
			continue
		}
		// An image's values are coerced to the types as they are when
		// values returns (a widening only touches the column it widens,
		// whose value is coerced after it).
		after, err := r.values(ctx, t, c.Database, c.Table, c.Columns)
		if err != nil {
			return nil, true, err
		}
		afterGen := t.generation
		if c.Op == cdc.Update && c.Before != nil {
			before, err := r.values(ctx, t, c.Database, c.Table, c.Before)
			if err != nil {
				return nil, true, err
			}
			if keyChanged(t, before, after) {
				// A key change is a delete of the old key and an upsert
				// of the new one at the same position (DESIGN.md §3.6).
				del := base
				del.op, del.values = cdc.Delete, before
				rows = append(rows, pendingRow{t, hour, del, t.generation})
			}
		}
		rows = append(rows, pendingRow{t, hour, base, afterGen})
		rows[len(rows)-1].row.values = after
	}
	r.rows = rows[:0]
	return rows, matched, nil
}

// keyChanged reports whether an update moves the row to another key.
func keyChanged(t *tableState, before, after []schema.Value) bool {
	for _, k := range t.rule.Key {
		i, ok := t.index[k]
		if !ok {
			continue
		}
		var b, a schema.Value
		if i < len(before) {
			b = before[i]
		}
		if i < len(after) {
			a = after[i]
		}
		if !b.Equal(a) {
			return true
		}
	}
	return false
}

// values maps a row image onto the table's columns: rename, exclude,
// learn new columns, widen types and coerce each value to its column's
// type. The values are carved from r.vals and their text may point into
// the Kafka message: add copies what it keeps. A schema change finishes
// the table's open files first (their schema is fixed).
func (r *run) values(ctx context.Context, t *tableState, db, table string, cols []cdc.Column) ([]schema.Value, error) {
	start := len(r.vals)
	r.vals = slices.Grow(r.vals, len(t.cols)+2)[:start+len(t.cols)]
	clear(r.vals[start:])
	boolType := schema.Type{Kind: schema.Bool} // what a column rule declares boolean
	for j := range cols {
		c := &cols[j]
		m := t.planFor(j, c.Name)
		if !m.keep {
			continue
		}
		declared := &c.Type
		if m.boolean {
			declared = &boolType
		}
		if m.index < 0 {
			if i, ok := t.index[m.name]; ok {
				m.index = i
			}
		}
		i := m.index
		if i < 0 {
			if err := warehouse.CheckDataColumn(m.name); err != nil {
				return nil, recordErrorf("table %s (%s.%s): %v", t.rule.Name, db, table, err)
			}
			typ := *declared
			if typ.Kind == schema.Unknown {
				if c.Value.Kind == schema.Null {
					continue // nothing to learn from yet
				}
				typ = schema.Infer(c.Value)
			}
			if err := r.finishTable(ctx, t); err != nil {
				return nil, err
			}
			i = t.addColumn(m.name, typ)
			m.index = i
			r.vals = append(r.vals, schema.Value{})
		} else if declared.Kind != schema.Unknown && !declared.Same(&t.types[i]) {
			wider, err := schema.Widen(t.types[i], *declared)
			if err != nil {
				t.failed = fmt.Errorf("column %s: %w", m.name, err)
				r.tableErrors[t.rule.Name] = t.failed.Error()
				return nil, recordErrorf("table %s (%s.%s): column %s: %v", t.rule.Name, db, table, m.name, err)
			}
			if !wider.Equal(t.types[i]) {
				if err := r.finishTable(ctx, t); err != nil {
					return nil, err
				}
				t.widen(i, wider)
			}
		}
		if schema.Typed(&r.vals[start+i], &c.Value, &t.types[i]) {
			if c.ZeroDate {
				r.zeroDates[t.rule.Name+"."+m.name]++
			}
			continue
		}
		v, zero, err := schema.Coerce(c.Value, t.types[i], r.coerce)
		if err != nil && declared.Kind == schema.Unknown {
			// A value the learned type cannot hold: learn a wider type
			// where one exists (bigint that meets 1.5 becomes double).
			if wider, werr := schema.Widen(t.types[i], schema.Infer(c.Value)); werr == nil {
				if err := r.finishTable(ctx, t); err != nil {
					return nil, err
				}
				t.widen(i, wider)
				v, zero, err = schema.Coerce(c.Value, wider, r.coerce)
			}
		}
		if err != nil {
			return nil, recordErrorf("table %s (%s.%s): column %s: %v", t.rule.Name, db, table, m.name, err)
		}
		if zero || c.ZeroDate {
			r.zeroDates[t.rule.Name+"."+m.name]++
		}
		r.vals[start+i] = v
	}
	return r.vals[start:len(r.vals):len(r.vals)], nil
}

// hourOf returns the hour of an event at t. Instants of one second are in
// one hour (a zone's hours start at whole seconds), and changes come in
// runs of one second.
func (r *run) hourOf(t time.Time) warehouse.Hour {
	sec := t.Unix()
	if !r.lastHour.ok || r.lastHour.sec != sec {
		r.lastHour.sec, r.lastHour.hour, r.lastHour.ok = sec, r.opts.Zone.HourOf(t), true
	}
	return r.lastHour.hour
}

// lateAt reports whether a record of an hour is late: the hour was marked
// ready before the record was committed, which is when the record's
// offset is at or past the end offset its partition had when the marker
// was written. The rule needs no clock, so a replay flags exactly the
// rows the first ingest flagged.
func (r *run) lateAt(ctx context.Context, h warehouse.Hour, id partitionID, offset int64) (bool, error) {
	var m *warehouse.Ready
	var ok bool
	if r.lastReady.ok && r.lastReady.hour == h {
		m, ok = r.lastReady.m, true
	} else {
		m, ok = r.ready[h]
	}
	if !ok {
		b, err := storage.ReadAll(ctx, r.st, warehouse.ReadyKey(h))
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return false, err
		default:
			m = new(warehouse.Ready)
			if err := warehouse.Unmarshal(warehouse.ReadyKey(h), b, m); err != nil {
				return false, err
			}
		}
		r.ready[h] = m
	}
	r.lastReady.hour, r.lastReady.m, r.lastReady.ok = h, m, true
	if m == nil {
		return false, nil
	}
	for _, p := range m.Partitions {
		if p.Topic == id.Topic && p.Partition == id.Partition {
			return offset >= p.EndOffset, nil
		}
	}
	return true, nil // the marker predates this partition
}

// deadLetter sets an undecodable record aside. A replay does not write
// dead letters again: the first ingest did.
func (r *run) deadLetter(ps *partState, rec *cdc.Record, reason error) {
	if r.replayDay != nil {
		ps.skipped["dead-letter"]++
		return
	}
	r.toDLQ(ps, rec, reason)
}

// checkDLQRatio fails the run when too many records were dead letters.
func (r *run) checkDLQRatio() error {
	var records, dlq int64
	for _, ps := range r.parts {
		records += ps.records
		dlq += ps.dlqRecords
	}
	if records > 0 && float64(dlq)/float64(records) > r.opts.MaxDLQRatio {
		return fmt.Errorf("%d of %d records (%.2f%%) could not be decoded, more than ingest.max_dlq_ratio %.2f%%: nothing was committed. The log names each record and the reason; once they are understood, run once with a higher max_dlq_ratio to move them to the dead-letter queue", dlq, records, 100*float64(dlq)/float64(records), 100*r.opts.MaxDLQRatio)
	}
	return nil
}

// commitGroup records the committed offsets in the Kafka consumer group,
// when one is configured, so the usual lag tools show binlake's progress.
// The warehouse stays the truth: a failure here is only logged.
func (r *run) commitGroup(ctx context.Context, adm *kadm.Client) {
	if r.opts.Kafka.Group == "" {
		return
	}
	var offs kadm.Offsets
	for _, id := range r.order {
		offs.AddOffset(id.Topic, id.Partition, r.parts[id].next, -1)
	}
	resp, err := adm.CommitOffsets(ctx, r.opts.Kafka.Group, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		r.log.Warn("could not record offsets in the Kafka consumer group (informational only)", "group", r.opts.Kafka.Group, "error", err)
	}
}
