// Package checkdone answers the daily gate's question: is all of day D in
// the warehouse, so that merging it gives the final snapshot of D?
//
// Day D is ready when every hour partition of D (in the warehouse time
// zone, so 23 or 25 on daylight saving days) has its ready marker, which
// ingest writes only once every partition of its topics has a committed
// stream past the end of the hour plus the grace period (DESIGN.md §3.3).
// For merging, each table also needs its base: the snapshot of D-1, or
// nothing at all for a bootstrap: empty table that has no snapshot yet.
//
// Check reads markers, commit records and manifests only, never bare data
// listings. It returns an error, not "not ready", when the question cannot
// be answered — no ingest has ever committed in this warehouse, or a table
// that must be bootstrapped has no snapshot at all — so a misconfigured
// gate fails instead of waiting forever.
package checkdone

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// ErrNotReady is returned (wrapped, with what is missing) by Wait when the
// day is not ready; the command maps it to exit code 75.
var ErrNotReady = errors.New("not ready yet")

// Options say what to check.
type Options struct {
	Zone warehouse.Zone
	Date warehouse.Date
	// Tables whose merge base to check; none: only the hours.
	Tables []config.Table
}

// Result is the answer, with what is missing.
type Result struct {
	Date         string           `json:"date"`
	Ready        bool             `json:"ready"`
	Hours        int              `json:"hours"`
	MissingHours []string         `json:"missing_hours,omitempty"`
	Partitions   []PartitionState `json:"partitions"`
	Tables       []TableState     `json:"tables,omitempty"`
}

// PartitionState is a partition's committed progress.
type PartitionState struct {
	Topic     string    `json:"topic"`
	Partition int32     `json:"partition"`
	Commit    int64     `json:"commit"`
	EndOffset int64     `json:"end_offset"`
	Watermark time.Time `json:"watermark"`
}

// TableState says whether a table's merge base is there.
type TableState struct {
	Table     string `json:"table"`
	BaseReady bool   `json:"base_ready"`
	Base      string `json:"base,omitempty"` // the base day, or "empty"
	Missing   string `json:"missing,omitempty"`
}

// Reason says in one line why the day is not ready ("" when it is).
func (r *Result) Reason() string {
	if r.Ready {
		return ""
	}
	var parts []string
	if n := len(r.MissingHours); n > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d hours not ready (%s)", n, r.Hours, abbreviate(r.MissingHours)))
		if wm, p := r.lowWatermark(); !wm.IsZero() {
			parts = append(parts, fmt.Sprintf("lowest watermark %s (%s/%d)", wm.UTC().Format(time.RFC3339), p.Topic, p.Partition))
		}
	}
	for _, t := range r.Tables {
		if !t.BaseReady {
			parts = append(parts, fmt.Sprintf("table %s: %s", t.Table, t.Missing))
		}
	}
	return strings.Join(parts, "; ")
}

func (r *Result) lowWatermark() (time.Time, PartitionState) {
	var low PartitionState
	for i, p := range r.Partitions {
		if i == 0 || p.Watermark.Before(low.Watermark) {
			low = p
		}
	}
	return low.Watermark, low
}

func abbreviate(hours []string) string {
	if len(hours) <= 4 {
		return strings.Join(hours, ", ")
	}
	return fmt.Sprintf("%s … %s", strings.Join(hours[:2], ", "), hours[len(hours)-1])
}

// Check answers once.
func Check(ctx context.Context, st storage.Store, o Options) (*Result, error) {
	r := &Result{Date: o.Date.String()}
	parts, err := partitions(ctx, st)
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("no ingest has committed anything in this warehouse (%s is empty): check the warehouse setting, or run binlake ingest first", warehouse.CommitsPrefix)
	}
	r.Partitions = parts

	marked := map[string]bool{}
	prefix := warehouse.ReadyPrefix + "dt=" + o.Date.String() + "/"
	if err := st.List(ctx, prefix, func(obj storage.Object) error {
		marked[strings.TrimSuffix(obj.Key[len(warehouse.ReadyPrefix):], ".json")] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list ready markers: %w", err)
	}
	spans := o.Zone.Hours(o.Date)
	r.Hours = len(spans)
	for _, s := range spans {
		if !marked[s.Hour.Path()] {
			r.MissingHours = append(r.MissingHours, fmt.Sprintf("hr=%02d", s.Hour.Hour))
		}
	}
	for _, t := range o.Tables {
		ts, err := base(ctx, st, t, o.Date)
		if err != nil {
			return nil, err
		}
		r.Tables = append(r.Tables, ts)
	}
	r.Ready = len(r.MissingHours) == 0
	for _, t := range r.Tables {
		r.Ready = r.Ready && t.BaseReady
	}
	return r, nil
}

// Wait checks every poll until the day is ready or timeout passes. It
// returns the last result, and an error wrapping ErrNotReady if the day
// did not become ready.
func Wait(ctx context.Context, st storage.Store, o Options, timeout, poll time.Duration) (*Result, error) {
	deadline := time.Now().Add(timeout)
	for {
		r, err := Check(ctx, st, o)
		if err != nil || r.Ready {
			return r, err
		}
		if !time.Now().Add(poll).Before(deadline) {
			return r, fmt.Errorf("day %s: %w: %s", r.Date, ErrNotReady, r.Reason())
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// partitions reads the latest commit of every partition that has one.
func partitions(ctx context.Context, st storage.Store) ([]PartitionState, error) {
	ends, err := warehouse.LatestCommits(ctx, st)
	if err != nil {
		return nil, err
	}
	out := make([]PartitionState, len(ends))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(warehouse.ConcurrentReads)
	for i, e := range ends {
		g.Go(func() error {
			c, err := warehouse.ReadCommit(gctx, st, warehouse.CommitKey(e.Topic, e.Partition, e.Latest))
			if err != nil {
				return err
			}
			out[i] = PartitionState{Topic: c.Topic, Partition: c.Partition, Commit: c.Seq, EndOffset: c.EndOffset, Watermark: c.Watermark().UTC()}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out, nil
}

// base checks a table's merge base for day d.
func base(ctx context.Context, st storage.Store, t config.Table, d warehouse.Date) (TableState, error) {
	ts := TableState{Table: t.Name}
	prev := d.AddDays(-1)
	ok, err := storage.Exists(ctx, st, warehouse.SnapshotManifest(t.Name, prev))
	if err != nil {
		return ts, err
	}
	if ok {
		ts.BaseReady, ts.Base = true, prev.String()
		return ts, nil
	}
	var earlier, any bool
	if err := st.List(ctx, warehouse.SnapshotTableDir(t.Name), func(obj storage.Object) error {
		if !strings.HasSuffix(obj.Key, "/"+warehouse.ManifestName) {
			return nil
		}
		any = true
		day := strings.TrimPrefix(obj.Key[len(warehouse.SnapshotTableDir(t.Name)):strings.LastIndexByte(obj.Key, '/')], "dt=")
		if sd, err := warehouse.ParseDate(day); err == nil && sd.Compare(d) < 0 {
			earlier = true
		}
		return nil
	}); err != nil {
		return ts, err
	}
	switch {
	case !earlier && t.Bootstrap == config.BootstrapEmpty:
		// The table started empty: a day with no snapshot before it
		// (the first day, or a re-run of it) merges onto nothing.
		ts.BaseReady, ts.Base = true, "empty"
	case !any:
		return ts, fmt.Errorf("table %s has no snapshot at all and is not bootstrap: empty: run binlake snapshot --table %s first", t.Name, t.Name)
	case earlier:
		ts.Missing = fmt.Sprintf("snapshot dt=%s not published yet (merge %s first)", prev, prev)
	default:
		return ts, fmt.Errorf("table %s: no snapshot before %s, the first one is later: day %s can never be merged", t.Name, d, d)
	}
	return ts, nil
}
