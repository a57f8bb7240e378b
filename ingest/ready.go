package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// lastReadyKey holds the last hour marked ready: where the next run starts
// looking. It is a hint; markers themselves are created if absent.
const lastReadyKey = warehouse.ReadyPrefix + "_last.json"

// markReady writes the ready markers of every hour that the committed
// streams of all partitions have passed by the grace period.
func (r *run) markReady(ctx context.Context, all []partitionID) error {
	var states []warehouse.ReadyPartition
	var wm, first time.Time
	for i, id := range all {
		var c *warehouse.Commit
		if ps, ok := r.parts[id]; ok {
			c = ps.last
		} else {
			var err error
			if c, err = lastCommit(ctx, r.st, id); err != nil {
				return err
			}
		}
		if c == nil {
			r.log.Info("no hour can be marked ready: a partition has never been ingested", "partition", id.String())
			return nil
		}
		w := c.Watermark()
		if i == 0 || w.Before(wm) {
			wm = w
		}
		if f := c.FirstEventTime; !f.IsZero() && (first.IsZero() || f.Before(first)) {
			first = f
		}
		states = append(states, warehouse.ReadyPartition{
			Topic: id.Topic, Partition: id.Partition, Seq: c.Seq, EndOffset: c.EndOffset, Watermark: w.UTC(),
		})
	}
	if first.IsZero() {
		return nil // no data yet: nothing to mark
	}
	// An event time from a skewed clock must not mark hours that have not
	// happened yet.
	if wm.After(r.started) {
		wm = r.started
	}
	z := r.opts.Zone
	day := z.DateOf(first)
	var lastHour warehouse.Hour
	if b, err := storage.ReadAll(ctx, r.st, lastReadyKey); err == nil {
		var last struct{ Hour string }
		if json.Unmarshal(b, &last) == nil {
			if h, err := warehouse.ParseHourPath(last.Hour); err == nil {
				lastHour, day = h, h.Date
			}
		}
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	var spans []warehouse.Span
	for {
		for _, span := range z.Hours(day) {
			if lastHour != (warehouse.Hour{}) && span.Hour.Compare(lastHour) <= 0 {
				continue
			}
			if span.End.Add(r.opts.Grace).After(wm) {
				if err := r.writeMarkers(ctx, spans, states); err != nil {
					return err
				}
				return r.finishReady(ctx, lastHour, len(spans))
			}
			spans = append(spans, span)
			lastHour = span.Hour
		}
		day = day.AddDays(1)
	}
}

// readyWriters is how many ready markers are written at once.
const readyWriters = 8

// writeMarkers writes the ready markers of spans, several at a time: each
// is a create-if-absent of its own and says nothing about the others, so
// their order does not matter (the next run creates any that a failing
// run left out). Each marker is marshalled by the goroutine that writes
// it. Afterwards r.ready holds every marker this run wrote and none that
// another run wrote first, even when writeMarkers returns an error.
func (r *run) writeMarkers(ctx context.Context, spans []warehouse.Span, states []warehouse.ReadyPartition) error {
	// written[i] is the marker of spans[i] once this run wrote it; exists[i]
	// is set when another run's marker was there first.
	written := make([]*warehouse.Ready, len(spans))
	exists := make([]bool, len(spans))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readyWriters)
	for i, span := range spans {
		g.Go(func() error {
			m := &warehouse.Ready{
				FormatVersion: warehouse.FormatVersion,
				Hour:          span.Hour.Path(),
				Start:         span.Start.UTC(),
				End:           span.End.UTC(),
				Grace:         r.opts.Grace.String(),
				WrittenAt:     r.opts.Now().UTC(),
				RunID:         r.id,
				Partitions:    states,
			}
			b, err := warehouse.Marshal(m)
			if err != nil {
				return fmt.Errorf("marshal ready marker %s: %w", span.Hour, err)
			}
			switch err := r.st.PutIfAbsent(gctx, warehouse.ReadyKey(span.Hour), b); {
			case errors.Is(err, storage.ErrExists):
				exists[i] = true
			case err != nil:
				return fmt.Errorf("write ready marker %s: %w", span.Hour, err)
			default:
				written[i] = m
			}
			return nil
		})
	}
	err := g.Wait()
	for i, span := range spans {
		switch {
		case exists[i]:
			delete(r.ready, span.Hour) // another run's marker: read it when needed
		case written[i] != nil:
			r.ready[span.Hour] = written[i]
		}
	}
	r.lastReady.ok = false // it may be an entry changed above
	return err
}

func (r *run) finishReady(ctx context.Context, last warehouse.Hour, marked int) error {
	if marked == 0 {
		return nil
	}
	r.log.Info("hours marked ready", "count", marked, "through", last.Path())
	b, err := json.Marshal(struct{ Hour string }{last.Path()})
	if err != nil {
		return err
	}
	return r.st.Put(ctx, lastReadyKey, bytes.NewReader(b))
}
