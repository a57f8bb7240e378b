package merge

import (
	"context"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// retain removes snapshot days of the table outside the retention window:
// it keeps the RetentionDays days ending with the newest published day,
// and the newest day's base (a re-run of the newest day needs it). A day
// goes manifest first (so readers stop seeing it at once), then _SUCCESS,
// then its files. Days with a live merge lease are left alone.
func (r *run) retain(ctx context.Context) error {
	o := &r.o
	days := map[string]bool{}
	if err := o.Store.List(ctx, warehouse.SnapshotTableDir(o.Table.Name), func(obj storage.Object) error {
		if path.Base(obj.Key) == warehouse.ManifestName {
			days[strings.TrimPrefix(path.Base(path.Dir(obj.Key)), "dt=")] = true
		}
		return nil
	}); err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	var sorted []string
	for d := range days {
		if _, err := warehouse.ParseDate(d); err == nil {
			sorted = append(sorted, d)
		}
	}
	if len(sorted) == 0 {
		return nil
	}
	sort.Strings(sorted)
	newest, _ := warehouse.ParseDate(sorted[len(sorted)-1])
	keepFrom := newest.AddDays(-(o.RetentionDays - 1))
	nm, err := readManifest(ctx, o.Store, o.Table.Name, newest)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	needed := ""
	if nm != nil {
		needed = nm.Base
	}
	host, _ := os.Hostname()
	for _, s := range sorted {
		d, _ := warehouse.ParseDate(s)
		if d.Compare(keepFrom) >= 0 || s == needed {
			continue
		}
		dir := warehouse.SnapshotDir(o.Table.Name, d)
		dl, err := listDay(ctx, o.Store, dir)
		if err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		busy := false
		for _, key := range dl.locks {
			if rec, err := readLease(ctx, o.Store, key); err == nil && rec.live(o.Now(), host) {
				busy = true
			}
		}
		if busy {
			o.Log.Warn("retention: a merge of the day is running; keeping it", "table", o.Table.Name, "date", s)
			continue
		}
		if err := o.Store.Delete(ctx, warehouse.SnapshotManifest(o.Table.Name, d)); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		for _, obj := range dl.objects {
			if path.Base(obj.Key) == warehouse.ManifestName {
				continue
			}
			if err := o.Store.Delete(ctx, obj.Key); err != nil {
				return fmt.Errorf("retention: %w", err)
			}
		}
		o.Log.Info("retention: removed snapshot day", "table", o.Table.Name, "date", s)
		r.sum.DaysRemoved = append(r.sum.DaysRemoved, s)
	}
	return nil
}
