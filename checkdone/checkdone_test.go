package checkdone_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/checkdone"
	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/warehouse"
)

func put(t *testing.T, st *mem.Store, key string, v any) {
	t.Helper()
	b, err := warehouse.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutIfAbsent(context.Background(), key, b); err != nil {
		t.Fatal(err)
	}
}

func commit(t *testing.T, st *mem.Store, p int32, wm time.Time) {
	put(t, st, warehouse.CommitKey("binlog_shop", p, 1), warehouse.Commit{
		FormatVersion: 1, Topic: "binlog_shop", Partition: p, Seq: 1, EndOffset: 10, MaxEventTime: wm,
	})
}

func markDay(t *testing.T, st *mem.Store, z warehouse.Zone, d warehouse.Date, except int) {
	for _, s := range z.Hours(d) {
		if s.Hour.Hour != except {
			put(t, st, warehouse.ReadyKey(s.Hour), warehouse.Ready{FormatVersion: 1, Hour: s.Hour.Path()})
		}
	}
}

func day(t *testing.T, s string) warehouse.Date {
	d, err := warehouse.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNoIngestStateIsAnError(t *testing.T) {
	_, err := checkdone.Check(context.Background(), mem.New(), checkdone.Options{Date: day(t, "2024-03-01")})
	if err == nil || !strings.Contains(err.Error(), "no ingest has committed") {
		t.Fatalf("want an error saying there is no ingest state, got %v", err)
	}
}

func TestHours(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		zone, day string
		hours     int
	}{
		{"UTC", "2024-03-01", 24},
		{"America/New_York", "2024-03-10", 23},
		{"America/New_York", "2024-11-03", 24},
	} {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		z := warehouse.NewZone(loc)
		d := day(t, c.day)
		st := mem.New()
		commit(t, st, 0, time.Date(2024, 3, 2, 5, 0, 0, 0, time.UTC))
		markDay(t, st, z, d, 5)
		r, err := checkdone.Check(ctx, st, checkdone.Options{Zone: z, Date: d})
		if err != nil {
			t.Fatal(err)
		}
		if r.Ready || len(r.MissingHours) != 1 || r.MissingHours[0] != "hr=05" || r.Hours != c.hours {
			t.Errorf("%s %s without hr=05: %+v", c.zone, c.day, r)
		}
		if !strings.Contains(r.Reason(), "hr=05") || !strings.Contains(r.Reason(), "watermark 2024-03-02T05:00:00Z") {
			t.Errorf("reason: %s", r.Reason())
		}
		put(t, st, warehouse.ReadyKey(warehouse.Hour{Date: d, Hour: 5}), warehouse.Ready{FormatVersion: 1})
		if r, err = checkdone.Check(ctx, st, checkdone.Options{Zone: z, Date: d}); err != nil || !r.Ready {
			t.Errorf("%s %s all %d hours marked: ready=%v err=%v %s", c.zone, c.day, c.hours, r != nil && r.Ready, err, r.Reason())
		}
	}
}

func TestMergeBase(t *testing.T) {
	ctx := context.Background()
	z := warehouse.NewZone(nil)
	d := day(t, "2024-03-05")
	snap := config.Table{Name: "orders", Bootstrap: config.BootstrapSnapshot}
	empty := config.Table{Name: "coupons", Bootstrap: config.BootstrapEmpty}
	st := mem.New()
	commit(t, st, 0, time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC))
	markDay(t, st, z, d, -1)
	o := checkdone.Options{Zone: z, Date: d, Tables: []config.Table{snap, empty}}

	// Never bootstrapped: an error, not "not yet".
	if _, err := checkdone.Check(ctx, st, o); err == nil || !strings.Contains(err.Error(), "binlake snapshot --table orders") {
		t.Fatalf("want a bootstrap error, got %v", err)
	}
	// Bootstrapped two days ago: waiting for yesterday's merge.
	put(t, st, warehouse.SnapshotManifest("orders", d.AddDays(-2)), warehouse.Manifest{FormatVersion: 1})
	r, err := checkdone.Check(ctx, st, o)
	if err != nil || r.Ready || !strings.Contains(r.Reason(), "snapshot dt=2024-03-04 not published yet") {
		t.Fatalf("want not ready for the missing base: %v %+v", err, r)
	}
	if !r.Tables[1].BaseReady || r.Tables[1].Base != "empty" {
		t.Errorf("bootstrap: empty table without snapshots should be ready on an empty base: %+v", r.Tables[1])
	}
	put(t, st, warehouse.SnapshotManifest("orders", d.AddDays(-1)), warehouse.Manifest{FormatVersion: 1})
	if r, err = checkdone.Check(ctx, st, o); err != nil || !r.Ready {
		t.Fatalf("want ready: %v %s", err, r.Reason())
	}
	// A bootstrap: empty table's first day can be merged again: its base
	// is still empty although dt=D itself now exists.
	put(t, st, warehouse.SnapshotManifest("coupons", d), warehouse.Manifest{FormatVersion: 1})
	if r, err = checkdone.Check(ctx, st, o); err != nil || !r.Ready || r.Tables[1].Base != "empty" {
		t.Fatalf("re-running the first day of a bootstrap: empty table: %v %+v", err, r)
	}
	// A day before the first snapshot can never be merged.
	o.Date = d.AddDays(-3)
	markDay(t, st, z, o.Date, -1)
	if _, err := checkdone.Check(ctx, st, o); err == nil || !strings.Contains(err.Error(), "can never be merged") {
		t.Fatalf("want an error for a day before the first snapshot, got %v", err)
	}
}

func TestWait(t *testing.T) {
	ctx := context.Background()
	z := warehouse.NewZone(nil)
	d := day(t, "2024-03-01")
	st := mem.New()
	commit(t, st, 0, time.Date(2024, 3, 2, 5, 0, 0, 0, time.UTC))
	markDay(t, st, z, d, 23)
	o := checkdone.Options{Zone: z, Date: d}
	_, err := checkdone.Wait(ctx, st, o, 50*time.Millisecond, 10*time.Millisecond)
	if !errors.Is(err, checkdone.ErrNotReady) || !strings.Contains(err.Error(), "hr=23") {
		t.Fatalf("want ErrNotReady naming hr=23, got %v", err)
	}
	go func() {
		time.Sleep(30 * time.Millisecond)
		put(t, st, warehouse.ReadyKey(warehouse.Hour{Date: d, Hour: 23}), warehouse.Ready{FormatVersion: 1})
	}()
	r, err := checkdone.Wait(ctx, st, o, 5*time.Second, 10*time.Millisecond)
	if err != nil || !r.Ready {
		t.Fatalf("want ready after the marker appeared: %v", err)
	}
}
