package warehouse_test

import (
	"testing"
	"time"

	"github.com/binlake/binlake/warehouse"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone %s: %v", name, err)
	}
	return loc
}

func date(t *testing.T, s string) warehouse.Date {
	t.Helper()
	d, err := warehouse.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPaths(t *testing.T) {
	h := warehouse.Hour{Date: warehouse.Date{Year: 2024, Month: 3, Day: 1}, Hour: 7}
	d := h.Date
	cases := map[string]string{
		warehouse.BinlogDir("orders", h):                 "binlog/orders/dt=2024-03-01/hr=07/",
		warehouse.ReadyKey(h):                            "binlog/_ready/dt=2024-03-01/hr=07.json",
		warehouse.CommitKey("binlog_shop", 3, 42):        "binlog/_commits/binlog_shop/3/000000000042.json",
		warehouse.PendingKey("binlog_shop", 3, 42, "r1"): "binlog/_pending/binlog_shop/3/000000000042-r1.json",
		warehouse.SnapshotDir("orders", d):               "snapshot/orders/dt=2024-03-01/",
		warehouse.SnapshotManifest("orders", d):          "snapshot/orders/dt=2024-03-01/_manifest.json",
		warehouse.SnapshotSuccess("orders", d):           "snapshot/orders/dt=2024-03-01/_SUCCESS",
		warehouse.CatalogKey("orders"):                   "_catalog/orders.json",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestParseBinlogKey(t *testing.T) {
	k, ok := warehouse.ParseBinlogKey("binlog/orders/dt=2024-03-01/hr=23/p3-000042.parquet")
	want := warehouse.BinlogKey{Table: "orders", Hour: warehouse.Hour{Date: warehouse.Date{Year: 2024, Month: 3, Day: 1}, Hour: 23}, File: "p3-000042.parquet"}
	if !ok || k != want {
		t.Errorf("got %+v %v, want %+v", k, ok, want)
	}
	for _, bad := range []string{
		"binlog/_commits/orders/p3",
		"binlog/_ready/dt=2024-03-01/hr=01/m",
		"binlog/orders/dt=2024-03-01/hr=24/x.parquet",
		"binlog/orders/dt=2024-02-30/hr=01/x.parquet",
		"binlog/orders/dt=2024-03-01/hr=1/x.parquet",
		"binlog/orders/dt=2024-03-01/hr=01/_tmp",
		"binlog/Orders/dt=2024-03-01/hr=01/x.parquet",
		"snapshot/orders/dt=2024-03-01/x.parquet",
	} {
		if k, ok := warehouse.ParseBinlogKey(bad); ok {
			t.Errorf("%s parsed as %+v", bad, k)
		}
	}
}

func TestCheckTable(t *testing.T) {
	for _, ok := range []string{"orders", "order_items", "t1", "9lives"} {
		if err := warehouse.CheckTable(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "_catalog", "Orders", "a-b", "a/b", "a.b", ".x"} {
		if err := warehouse.CheckTable(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	d := date(t, "2024-02-28")
	if got := d.AddDays(1).String(); got != "2024-02-29" {
		t.Errorf("leap day: %s", got)
	}
	if got := d.AddDays(2).String(); got != "2024-03-01" {
		t.Errorf("after leap day: %s", got)
	}
	if got := date(t, "2024-01-01").AddDays(-1).String(); got != "2023-12-31" {
		t.Errorf("year back: %s", got)
	}
	if d.Compare(d.AddDays(1)) != -1 || d.AddDays(1).Compare(d) != 1 || d.Compare(d) != 0 {
		t.Error("Compare")
	}
	for _, bad := range []string{"2024-13-01", "2024-02-30", "24-01-01", "2024/01/01", ""} {
		if _, err := warehouse.ParseDate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHourOfInZone(t *testing.T) {
	shanghai := warehouse.NewZone(mustLoad(t, "Asia/Shanghai"))
	ev := time.Date(2024, 3, 1, 17, 30, 0, 0, time.UTC) // 01:30 next day in Shanghai
	if got := shanghai.HourOf(ev).Path(); got != "dt=2024-03-02/hr=01" {
		t.Errorf("Shanghai: %s", got)
	}
	if got := warehouse.NewZone(nil).HourOf(ev).Path(); got != "dt=2024-03-01/hr=17" {
		t.Errorf("UTC: %s", got)
	}
}

// The hours of a day cover it without gaps or overlaps, in order, in every
// kind of zone, including days with daylight saving transitions.
func TestHoursCoverTheDay(t *testing.T) {
	cases := []struct {
		zone, day string
		hours     int
		long      int // the hour spanning two real hours, or -1
		missing   int // the hour that does not exist, or -1
	}{
		{"UTC", "2024-03-10", 24, -1, -1},
		{"Asia/Shanghai", "2024-03-10", 24, -1, -1},
		{"Asia/Kathmandu", "2024-03-10", 24, -1, -1},
		{"America/New_York", "2024-03-10", 23, -1, 2},
		{"America/New_York", "2024-11-03", 24, 1, -1},
		{"Europe/Berlin", "2024-03-31", 23, -1, 2},
		{"Europe/Berlin", "2024-10-27", 24, 2, -1},
		{"Australia/Lord_Howe", "2024-04-07", 24, 1, -1}, // 02:00 back to 01:30: hr=01 lasts 90 min
		{"America/Santiago", "2024-09-08", 23, -1, 0},    // midnight does not exist
		{"America/Santiago", "2024-04-06", 24, 23, -1},   // 23:00-24:00 twice
	}
	for _, c := range cases {
		z := warehouse.NewZone(mustLoad(t, c.zone))
		d := date(t, c.day)
		spans := z.Hours(d)
		if len(spans) != c.hours {
			t.Errorf("%s %s: %d hours, want %d", c.zone, c.day, len(spans), c.hours)
		}
		start, end := z.DayStart(d), z.DayStart(d.AddDays(1))
		if z.DateOf(start) != d || z.DateOf(start.Add(-time.Nanosecond)) == d {
			t.Errorf("%s %s: DayStart %v is not the first instant of the day", c.zone, c.day, start)
		}
		at := start
		for i, s := range spans {
			if i > 0 && s.Hour.Hour <= spans[i-1].Hour.Hour {
				t.Errorf("%s %s: hours out of order at %v", c.zone, c.day, s.Hour)
			}
			if !s.Start.Equal(at) {
				t.Errorf("%s %s: %v starts at %v, want %v (gap or overlap)", c.zone, c.day, s.Hour, s.Start, at)
			}
			if z.HourOf(s.Start) != s.Hour || z.HourOf(s.End.Add(-time.Nanosecond)) != s.Hour {
				t.Errorf("%s %s: span %v..%v is not all %v", c.zone, c.day, s.Start, s.End, s.Hour)
			}
			long := s.End.Sub(s.Start) > time.Hour
			if long != (s.Hour.Hour == c.long) {
				t.Errorf("%s %s: %v lasts %v", c.zone, c.day, s.Hour, s.End.Sub(s.Start))
			}
			if s.Hour.Hour == c.missing {
				t.Errorf("%s %s: hour %d should not exist", c.zone, c.day, c.missing)
			}
			at = s.End
		}
		if !at.Equal(end) {
			t.Errorf("%s %s: hours end at %v, day ends at %v", c.zone, c.day, at, end)
		}
		if c.missing >= 0 {
			if _, ok := z.Span(warehouse.Hour{Date: d, Hour: c.missing}); ok {
				t.Errorf("%s %s: Span found the missing hour", c.zone, c.day)
			}
		}
	}
}

func TestParseHourPathRoundTrip(t *testing.T) {
	h := warehouse.Hour{Date: warehouse.Date{Year: 2031, Month: 12, Day: 31}, Hour: 0}
	got, err := warehouse.ParseHourPath(h.Path())
	if err != nil || got != h {
		t.Errorf("round trip of %s: %v %v", h, got, err)
	}
}
