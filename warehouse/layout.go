package warehouse

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Top-level prefixes of the warehouse.
const (
	BinlogPrefix   = "binlog/"
	CommitsPrefix  = "binlog/_commits/"
	ReadyPrefix    = "binlog/_ready/"
	SnapshotPrefix = "snapshot/"
	CatalogPrefix  = "_catalog/"
	DLQPrefix      = "_dlq/"
)

// File names inside a snapshot day.
const (
	ManifestName = "_manifest.json"
	SuccessName  = "_SUCCESS"
)

var tableName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)

// CheckTable reports whether name can be a logical table name: lower-case
// letters, digits and underscores, not starting with an underscore (names
// starting with "_" are bookkeeping).
func CheckTable(name string) error {
	if !tableName.MatchString(name) {
		return fmt.Errorf("invalid table name %q: use lower-case letters, digits and _, not starting with _", name)
	}
	return nil
}

// BinlogDir is the directory of one table-hour's change files, with a
// trailing slash.
func BinlogDir(table string, h Hour) string {
	return BinlogPrefix + table + "/" + h.Path() + "/"
}

// SnapshotDir is the directory of a table's snapshot as of the end of day
// d, with a trailing slash.
func SnapshotDir(table string, d Date) string {
	return SnapshotPrefix + table + "/dt=" + d.String() + "/"
}

// SnapshotTableDir is the directory of all snapshot days of a table.
func SnapshotTableDir(table string) string {
	return SnapshotPrefix + table + "/"
}

// SnapshotManifest is the key of a snapshot day's manifest, its commit
// point.
func SnapshotManifest(table string, d Date) string {
	return SnapshotDir(table, d) + ManifestName
}

// SnapshotSuccess is the key of a snapshot day's _SUCCESS flag, written
// after the manifest for tools that wait for it.
func SnapshotSuccess(table string, d Date) string {
	return SnapshotDir(table, d) + SuccessName
}

// CatalogKey is the key of a table's catalog entry.
func CatalogKey(table string) string {
	return CatalogPrefix + table + ".json"
}

// BinlogKey is a parsed binlog data file key.
type BinlogKey struct {
	Table string
	Hour  Hour
	File  string
}

// ParseBinlogKey parses binlog/<table>/dt=D/hr=H/<file>. Keys of
// bookkeeping ("_"-prefixed parts) or of any other shape are not binlog
// data files.
func ParseBinlogKey(key string) (BinlogKey, bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 5 || parts[0]+"/" != BinlogPrefix || CheckTable(parts[1]) != nil {
		return BinlogKey{}, false
	}
	h, err := ParseHourPath(parts[2] + "/" + parts[3])
	if err != nil || parts[4] == "" || strings.HasPrefix(parts[4], "_") || strings.HasPrefix(parts[4], ".") {
		return BinlogKey{}, false
	}
	return BinlogKey{Table: parts[1], Hour: h, File: parts[4]}, true
}

// Date is a calendar day, the dt= of a partition.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("invalid date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf is the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String formats YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// AddDays returns the date n days later (earlier for negative n).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmp.Compare(d.Year, e.Year)
	case d.Month != e.Month:
		return cmp.Compare(int(d.Month), int(e.Month))
	}
	return cmp.Compare(d.Day, e.Day)
}

// Hour is one hourly partition: a local date and hour of day.
type Hour struct {
	Date Date
	Hour int
}

// Path formats dt=YYYY-MM-DD/hr=HH.
func (h Hour) Path() string {
	return fmt.Sprintf("dt=%s/hr=%02d", h.Date, h.Hour)
}

// String is the same as Path.
func (h Hour) String() string { return h.Path() }

// Compare orders hours by date, then hour.
func (h Hour) Compare(o Hour) int {
	if c := h.Date.Compare(o.Date); c != 0 {
		return c
	}
	return cmp.Compare(h.Hour, o.Hour)
}

// ParseHourPath parses dt=YYYY-MM-DD/hr=HH.
func ParseHourPath(p string) (Hour, error) {
	dt, hr, ok := strings.Cut(p, "/")
	if !ok || !strings.HasPrefix(dt, "dt=") || !strings.HasPrefix(hr, "hr=") || len(hr) != 5 {
		return Hour{}, fmt.Errorf("invalid hour partition %q: want dt=YYYY-MM-DD/hr=HH", p)
	}
	d, err := ParseDate(dt[3:])
	if err != nil {
		return Hour{}, fmt.Errorf("invalid hour partition %q: %w", p, err)
	}
	n, err := strconv.Atoi(hr[3:])
	if err != nil || n < 0 || n > 23 {
		return Hour{}, fmt.Errorf("invalid hour partition %q: hour must be 00-23", p)
	}
	return Hour{Date: d, Hour: n}, nil
}

// Zone maps instants to partitions in the warehouse time zone.
type Zone struct {
	loc *time.Location
}

// NewZone returns the partitioning of loc (nil means UTC).
func NewZone(loc *time.Location) Zone {
	if loc == nil {
		loc = time.UTC
	}
	return Zone{loc: loc}
}

// Location returns the zone's location.
func (z Zone) Location() *time.Location { return z.loc }

// HourOf is the partition of an event at t.
func (z Zone) HourOf(t time.Time) Hour {
	lt := t.In(z.loc)
	return Hour{Date: DateOf(lt), Hour: lt.Hour()}
}

// DateOf is the dt of an event at t.
func (z Zone) DateOf(t time.Time) Date {
	return DateOf(t.In(z.loc))
}

// step is the resolution of the partition arithmetic. Every UTC offset in
// use is a multiple of 15 minutes, and so is every transition.
const step = 15 * time.Minute

// DayStart is the first instant of day d in the zone.
func (z Zone) DayStart(d Date) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, z.loc).Truncate(step)
	for z.DateOf(t.Add(-step)).Compare(d) == 0 {
		t = t.Add(-step)
	}
	for z.DateOf(t).Compare(d) < 0 {
		t = t.Add(step)
	}
	return t
}

// Span is the interval [Start, End) of real instants that a partition
// covers.
type Span struct {
	Hour       Hour
	Start, End time.Time
}

// Hours lists the hour partitions of day d in order, with the instants
// each covers. A skipped hour (clocks moved forward) is absent; a repeated
// hour (clocks moved back) is one partition spanning both occurrences.
func (z Zone) Hours(d Date) []Span {
	end := z.DayStart(d.AddDays(1))
	var spans []Span
next:
	for t := z.DayStart(d); t.Before(end); t = t.Add(step) {
		h := z.HourOf(t)
		if h.Date != d {
			continue
		}
		for i := range spans {
			if spans[i].Hour == h {
				spans[i].End = t.Add(step)
				continue next
			}
		}
		spans = append(spans, Span{Hour: h, Start: t, End: t.Add(step)})
	}
	return spans
}

// Span returns the instants an hour partition covers; ok is false for an
// hour that does not exist on that day in this zone.
func (z Zone) Span(h Hour) (s Span, ok bool) {
	for _, s := range z.Hours(h.Date) {
		if s.Hour == h {
			return s, true
		}
	}
	return Span{Hour: h}, false
}
