package merge

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// run is the state of one merge.
type run struct {
	o          Options
	dir        string
	gen        int64
	tmp        string
	cat        *catalog
	out        *layout
	baseLayout *layout
	sum        *Summary
	dl         downloads
	// boot is set for a bootstrap (see Bootstrap).
	boot *BootstrapInput

	mu      sync.Mutex
	written []string // every object this run created, removed if it fails
}

// Run builds snapshot dt=o.Date of o.Table and publishes it (see the
// package documentation). It returns the summary of what it did, also
// when it fails part way.
func Run(ctx context.Context, o Options) (*Summary, error) {
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	start := time.Now()
	if o.RunID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		o.RunID = o.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
	}
	r := &run{o: o, dir: warehouse.SnapshotDir(o.Table.Name, o.Date)}
	r.sum = &Summary{Table: o.Table.Name, Date: o.Date.String(), RunID: o.RunID}
	err := r.do(ctx)
	r.sum.Seconds = seconds(time.Since(start))
	if err != nil {
		return r.sum, fmt.Errorf("merge %s dt=%s: %w", o.Table.Name, o.Date, err)
	}
	return r.sum, nil
}

func (r *run) do(ctx context.Context) (err error) {
	o := &r.o
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	l, listing, err := acquire(ctx, o.Store, o.Table.Name, o.Date, o.RunID, o.LeaseTTL, o.Now, o.Log, cancel)
	if err != nil {
		return err
	}
	r.gen = l.rec.Generation
	r.sum.Generation = r.gen
	published := false
	defer func() {
		if err != nil && !published {
			r.removeWritten()
			if c := context.Cause(ctx); c != nil && errors.Is(c, errLeaseLost) && !errors.Is(err, errLeaseLost) {
				err = fmt.Errorf("%w (%w)", c, err)
			}
		}
		state := stateFailed
		if err == nil {
			state = statePublished
		}
		l.release(state, listing)
	}()
	o.Log.Info("merge started", "table", o.Table.Name, "date", o.Date.String(), "generation", r.gen, "run", o.RunID)

	prev, err := readManifest(ctx, o.Store, o.Table.Name, o.Date)
	if err != nil {
		return err
	}
	if prev != nil && r.boot != nil {
		return fmt.Errorf("dt=%s already has a snapshot (%s, run %s)", o.Date, prev.Kind, prev.RunID)
	}
	if prev != nil && prev.Kind != "merge" {
		return fmt.Errorf("dt=%s is a %s snapshot, not a merge: it is never merged over; merge the days after it", o.Date, prev.Kind)
	}
	r.sum.Rerun = prev != nil
	base, err := r.loadBase(ctx)
	if err != nil {
		return err
	}
	if err := r.cleanup(ctx, listing, prev); err != nil {
		return err
	}
	if r.tmp, err = NewSpillDir(o.SpillDir, "merge"); err != nil {
		return err
	}
	defer os.RemoveAll(r.tmp)

	m, err := r.merge(ctx, base, prev)
	if err != nil {
		return err
	}
	// Publish: the lease must still be ours, then the manifest is the
	// commit point.
	if err := l.check(ctx); err != nil {
		return err
	}
	b, err := warehouse.Marshal(m)
	if err != nil {
		return err
	}
	// From here the manifest may be visible even if Put fails (a lost
	// answer), so the files it lists must stay: the next run sorts out
	// what is published.
	published = true
	if err := o.Store.Put(ctx, warehouse.SnapshotManifest(o.Table.Name, o.Date), bytes.NewReader(b)); err != nil {
		return fmt.Errorf("publish manifest: %w", err)
	}
	o.Log.Info("merge published", "table", o.Table.Name, "date", o.Date.String(), "rows", m.Rows, "files", len(m.Files))
	// The previous version's files go only now.
	if prev != nil {
		keep := map[string]bool{}
		for _, f := range slices.Concat(m.Files, m.Tombstones) {
			keep[f.Key] = true
		}
		for _, f := range slices.Concat(prev.Files, prev.Tombstones) {
			if !keep[f.Key] {
				if err := o.Store.Delete(ctx, f.Key); err != nil {
					return fmt.Errorf("remove %s of the replaced version (the next run removes it): %w", f.Key, err)
				}
			}
		}
	}
	if err := o.Store.Put(ctx, warehouse.SnapshotSuccess(o.Table.Name, o.Date), strings.NewReader("")); err != nil {
		return fmt.Errorf("write _SUCCESS: %w", err)
	}
	if o.RetentionDays > 0 {
		if err := r.retain(ctx); err != nil {
			return err
		}
	}
	return nil
}

// readManifest reads the manifest of a snapshot day, or returns nil if
// there is none.
func readManifest(ctx context.Context, st storage.Store, table string, d warehouse.Date) (*warehouse.Manifest, error) {
	m, err := warehouse.ReadManifest(ctx, st, table, d)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return m, err
}

// loadBase reads the manifest of the day before, or returns nil for a
// bootstrap: empty table that has no snapshot before the day.
func (r *run) loadBase(ctx context.Context) (*warehouse.Manifest, error) {
	o := &r.o
	if r.boot != nil {
		return nil, nil
	}
	prevDay := o.Date.AddDays(-1)
	m, err := readManifest(ctx, o.Store, o.Table.Name, prevDay)
	if err != nil || m != nil {
		return m, err
	}
	var earlier []string
	if err := o.Store.List(ctx, warehouse.SnapshotTableDir(o.Table.Name), func(obj storage.Object) error {
		if path.Base(obj.Key) != warehouse.ManifestName {
			return nil
		}
		day := strings.TrimPrefix(path.Base(path.Dir(obj.Key)), "dt=")
		if d, err := warehouse.ParseDate(day); err == nil && d.Compare(o.Date) < 0 {
			earlier = append(earlier, day)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list snapshots of %s: %w", o.Table.Name, err)
	}
	switch {
	case len(earlier) > 0:
		sort.Strings(earlier)
		return nil, fmt.Errorf("no snapshot of table %s for dt=%s, the base of day %s: merge %s first (the latest earlier snapshot is dt=%s)",
			o.Table.Name, prevDay, o.Date, prevDay, earlier[len(earlier)-1])
	case o.Table.Bootstrap == config.BootstrapEmpty:
		return nil, nil
	}
	return nil, fmt.Errorf("no snapshot of table %s for dt=%s, the base of day %s, nor any earlier one: run binlake snapshot --table %s first (or set bootstrap: empty if the table started empty)",
		o.Table.Name, prevDay, o.Date, o.Table.Name)
}

// cleanup removes what crashed runs of this day left behind: files of
// this layout that the published manifest does not list. On a re-run it
// also removes _SUCCESS until the new version is complete, so that
// _SUCCESS always means "the directory holds exactly the manifest's
// files".
func (r *run) cleanup(ctx context.Context, dl *dayListing, prev *warehouse.Manifest) error {
	keep := map[string]bool{}
	if prev != nil {
		for _, f := range slices.Concat(prev.Files, prev.Tombstones) {
			keep[f.Key] = true
		}
	}
	for _, obj := range dl.objects {
		name := path.Base(obj.Key)
		n, ok := warehouse.ParseSnapshotName(name)
		switch {
		case name == warehouse.SuccessName && prev != nil:
		case ok && n.Prefix != warehouse.LockPrefix && !keep[obj.Key]:
			r.o.Log.Info("removing leftover of an earlier run", "key", obj.Key)
		default:
			continue
		}
		if err := r.o.Store.Delete(ctx, obj.Key); err != nil {
			return fmt.Errorf("remove leftover %s: %w", obj.Key, err)
		}
	}
	return nil
}

// track records an object the run created.
func (r *run) track(key string) {
	r.mu.Lock()
	r.written = append(r.written, key)
	r.mu.Unlock()
}

// removeWritten removes what a failed run wrote (best effort: the next
// run removes whatever remains).
func (r *run) removeWritten() {
	r.mu.Lock()
	keys := r.written
	r.mu.Unlock()
	for _, k := range keys {
		_ = r.o.Store.Delete(context.Background(), k)
	}
}

// daysBetween is b - a in days.
func daysBetween(a, b warehouse.Date) int {
	ta := time.Date(a.Year, a.Month, a.Day, 12, 0, 0, 0, time.UTC)
	tb := time.Date(b.Year, b.Month, b.Day, 12, 0, 0, 0, time.UTC)
	return int(tb.Sub(ta).Round(24*time.Hour) / (24 * time.Hour))
}
