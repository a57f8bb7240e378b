package status

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// Options say what to report on.
type Options struct {
	Zone warehouse.Zone
	// Tables are the logical tables, in the order to report them.
	Tables []string
	// Days are the days to report, in order.
	Days []warehouse.Date
	// Now is the time lag is measured against.
	Now time.Time
	// Parallel bounds concurrent reads of commit records (default 16).
	Parallel int
	// EndOffsets are Kafka's current end offsets by topic and partition
	// (ingest.EndOffsets); nil when Kafka was not asked. Partitions in it
	// that have no commit are reported too.
	EndOffsets map[string]map[int32]int64
}

// Report is the state of a warehouse. Its JSON form is what binlake status
// --json prints.
type Report struct {
	GeneratedAt time.Time   `json:"generated_at"`
	Timezone    string      `json:"timezone"`
	Partitions  []Partition `json:"partitions"`
	Days        []Day       `json:"days"`
	Tables      []Table     `json:"tables"`
	// CommitsRead is how many commit records were read.
	CommitsRead int `json:"commits_read"`
}

// Partition is one Kafka partition's committed ingest progress.
type Partition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Commit is the latest commit's number, EndOffset the next offset to
	// read, CommittedAt when the latest commit was made.
	Commit      int64     `json:"commit"`
	EndOffset   int64     `json:"end_offset"`
	CommittedAt time.Time `json:"committed_at"`
	// Watermark is the time up to which the stream is committed; zero
	// when the partition never had a record and never caught up.
	Watermark time.Time `json:"watermark"`
	// LagSeconds is Now minus Watermark (absent when Watermark is zero).
	LagSeconds *float64 `json:"lag_seconds,omitempty"`
	// KafkaEndOffset is Kafka's end offset when it was asked, and
	// OffsetsBehind that minus EndOffset: how far the committed stream is
	// behind Kafka (absent for a partition with no commit, Commit 0).
	KafkaEndOffset *int64 `json:"kafka_end_offset,omitempty"`
	OffsetsBehind  *int64 `json:"offsets_behind,omitempty"`
	// DLQFiles and DLQBytes are what _dlq/ holds for the partition.
	DLQFiles int   `json:"dlq_files"`
	DLQBytes int64 `json:"dlq_bytes"`
}

// Day is what applies to all tables on one day.
type Day struct {
	Date string `json:"date"`
	// Hours the day has in the warehouse zone, ReadyHours of them with a
	// ready marker, MissingHours the others ("hr=05").
	Hours        int      `json:"hours"`
	ReadyHours   int      `json:"ready_hours"`
	MissingHours []string `json:"missing_hours,omitempty"`
	// DLQRecords went to the dead-letter queue in commits made that day.
	DLQRecords int64 `json:"dlq_records"`
}

// Table is one logical table.
type Table struct {
	Table string `json:"table"`
	// SnapshotDays is how many days have a published snapshot, from
	// FirstSnapshot to LastSnapshot.
	SnapshotDays  int    `json:"snapshot_days"`
	FirstSnapshot string `json:"first_snapshot,omitempty"`
	LastSnapshot  string `json:"last_snapshot,omitempty"`
	// LastMerge is the manifest of the latest snapshot day.
	LastMerge *Snapshot `json:"last_merge,omitempty"`
	// LateWaiting counts committed rows (and their files) of hours up to
	// LastSnapshot that it did not merge; the next merge applies them.
	// Absent when the latest snapshot was not made by merge.
	LateWaiting *Late      `json:"late_waiting,omitempty"`
	Days        []TableDay `json:"days"`
}

// Late counts rows waiting for a merge.
type Late struct {
	Rows  int64 `json:"rows"`
	Files int   `json:"files"`
}

// TableDay is one table on one day.
type TableDay struct {
	Date string `json:"date"`
	// BinlogRows and BinlogFiles are the committed change rows and files
	// of the day's hours; LateRows of them arrived after their hour was
	// ready.
	BinlogRows  int64 `json:"binlog_rows"`
	BinlogFiles int   `json:"binlog_files"`
	LateRows    int64 `json:"late_rows"`
	// Snapshot is the day's published snapshot, nil when there is none.
	Snapshot *Snapshot `json:"snapshot"`
}

// Snapshot summarises a snapshot day's manifest.
type Snapshot struct {
	Date      string    `json:"date"`
	Kind      string    `json:"kind"` // merge, bootstrap or import
	Base      string    `json:"base,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Rows      int64     `json:"rows"`
	Files     int       `json:"files"`
	Bytes     int64     `json:"bytes"`
	// Stats are the manifest's merge statistics (inserted, updated,
	// deleted, changes, late_applied …).
	Stats map[string]int64 `json:"stats,omitempty"`
}

// committedFile is a committed binlog file with where it was committed.
type committedFile struct {
	part string // topic/partition, as in Manifest.Merged
	seq  int64
	warehouse.CommitFile
	day warehouse.Date
}

// Build reads the warehouse and returns its report.
func Build(ctx context.Context, st storage.Store, o Options) (*Report, error) {
	if len(o.Days) == 0 {
		return nil, errors.New("status: no days to report")
	}
	if o.Parallel <= 0 {
		o.Parallel = 16
	}
	r := &Report{GeneratedAt: o.Now.UTC(), Timezone: o.Zone.Location().String()}

	// Snapshots first: their Merged bounds say how far back to read
	// commits.
	manifests := map[string]map[string]*warehouse.Manifest{} // table → day → manifest
	floor := map[string]int64{}                              // partition → lowest Merged bound of a latest snapshot
	var tables []Table
	for _, name := range o.Tables {
		t, ms, err := snapshots(ctx, st, name, o.Days)
		if err != nil {
			return nil, err
		}
		manifests[name] = ms
		if last := ms[t.LastSnapshot]; last != nil && last.Kind == "merge" {
			t.LateWaiting = &Late{}
			for p, seq := range last.Merged {
				if cur, ok := floor[p]; !ok || seq < cur {
					floor[p] = seq
				}
			}
		}
		tables = append(tables, t)
	}

	files, parts, dlqByDay, n, err := readCommits(ctx, st, o, floor)
	if err != nil {
		return nil, err
	}
	r.CommitsRead = n
	if err := dlqFiles(ctx, st, parts); err != nil {
		return nil, err
	}
	for topic, ends := range o.EndOffsets {
		for part, end := range ends {
			key := topic + "/" + strconv.Itoa(int(part))
			p := parts[key]
			if p == nil {
				p = &Partition{Topic: topic, Partition: part}
				parts[key] = p
			} else {
				behind := end - p.EndOffset
				p.OffsetsBehind = &behind
			}
			p.KafkaEndOffset = &end
		}
	}
	for _, p := range parts {
		if !p.Watermark.IsZero() {
			lag := o.Now.Sub(p.Watermark).Seconds()
			p.LagSeconds = &lag
		}
		r.Partitions = append(r.Partitions, *p)
	}
	sort.Slice(r.Partitions, func(i, j int) bool {
		a, b := r.Partitions[i], r.Partitions[j]
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		return a.Partition < b.Partition
	})

	for _, d := range o.Days {
		day, err := readyHours(ctx, st, o.Zone, d)
		if err != nil {
			return nil, err
		}
		day.DLQRecords = dlqByDay[d]
		r.Days = append(r.Days, day)
	}

	for i := range tables {
		t := &tables[i]
		ms := manifests[t.Table]
		var last *warehouse.Manifest
		var lastDay warehouse.Date
		if t.LastSnapshot != "" {
			last = ms[t.LastSnapshot]
			lastDay, _ = warehouse.ParseDate(t.LastSnapshot)
		}
		for _, d := range o.Days {
			td := TableDay{Date: d.String(), Snapshot: summarise(ms[d.String()])}
			for _, f := range files {
				if f.Table == t.Table && f.day == d {
					td.BinlogRows += f.Rows
					td.BinlogFiles++
					td.LateRows += f.Late
				}
			}
			t.Days = append(t.Days, td)
		}
		if t.LateWaiting != nil {
			for _, f := range files {
				if f.Table == t.Table && f.day.Compare(lastDay) <= 0 && f.seq > last.Merged[f.part] {
					t.LateWaiting.Rows += f.Rows
					t.LateWaiting.Files++
				}
			}
		}
	}
	r.Tables = tables
	return r, nil
}

// snapshots lists a table's snapshot days once and reads the manifests of
// the days asked about and of the latest day.
func snapshots(ctx context.Context, st storage.Store, table string, days []warehouse.Date) (Table, map[string]*warehouse.Manifest, error) {
	t := Table{Table: table}
	dir := warehouse.SnapshotTableDir(table)
	var published []string
	if err := st.List(ctx, dir, func(obj storage.Object) error {
		rest, ok := strings.CutSuffix(obj.Key[len(dir):], "/"+warehouse.ManifestName)
		if !ok || !strings.HasPrefix(rest, "dt=") || strings.Contains(rest, "/") {
			return nil
		}
		if _, err := warehouse.ParseDate(rest[3:]); err == nil {
			published = append(published, rest[3:])
		}
		return nil
	}); err != nil {
		return t, nil, fmt.Errorf("list snapshots of %s: %w", table, err)
	}
	sort.Strings(published)
	t.SnapshotDays = len(published)
	want := map[string]bool{}
	if len(published) > 0 {
		t.FirstSnapshot, t.LastSnapshot = published[0], published[len(published)-1]
		want[t.LastSnapshot] = true
	}
	have := map[string]bool{}
	for _, d := range published {
		have[d] = true
	}
	for _, d := range days {
		if have[d.String()] {
			want[d.String()] = true
		}
	}
	ms := map[string]*warehouse.Manifest{}
	for d := range want {
		day, err := warehouse.ParseDate(d)
		if err != nil {
			return t, nil, err
		}
		if ms[d], err = warehouse.ReadManifest(ctx, st, table, day); err != nil {
			return t, nil, err
		}
	}
	t.LastMerge = summarise(ms[t.LastSnapshot])
	return t, ms, nil
}

func summarise(m *warehouse.Manifest) *Snapshot {
	if m == nil {
		return nil
	}
	s := &Snapshot{Date: m.Date, Kind: m.Kind, Base: m.Base, CreatedAt: m.CreatedAt, Rows: m.Rows, Files: len(m.Files), Stats: m.Stats}
	for _, f := range m.Files {
		s.Bytes += f.Bytes
	}
	return s
}

// readCommits lists the commit records once and reads, per partition, the
// latest and then back while they may hold files of the days asked about
// (made no earlier than a day before the first) or rows a latest snapshot
// has not merged (above floor).
func readCommits(ctx context.Context, st storage.Store, o Options, floor map[string]int64) ([]committedFile, map[string]*Partition, map[warehouse.Date]int64, int, error) {
	ends, err := warehouse.LatestCommits(ctx, st)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	first := o.Days[0]
	for _, d := range o.Days {
		if d.Compare(first) < 0 {
			first = d
		}
	}
	stop := o.Zone.DayStart(first).Add(-warehouse.CommitLead)

	var (
		mu    sync.Mutex
		files []committedFile
		parts = map[string]*Partition{}
		dlq   = map[warehouse.Date]int64{}
		read  int
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Parallel)
	for _, e := range ends {
		g.Go(func() error {
			chain, err := readBack(gctx, st, e, stop, floor)
			if err != nil {
				return err
			}
			latest := chain[len(chain)-1]
			p := &Partition{Topic: latest.Topic, Partition: latest.Partition, Commit: latest.Seq, EndOffset: latest.EndOffset,
				CommittedAt: latest.CommittedAt.UTC(), Watermark: latest.Watermark().UTC()}
			key := p.Topic + "/" + strconv.Itoa(int(p.Partition))
			var fs []committedFile
			byCommit := map[warehouse.Date]int64{}
			seqOf := map[string]int64{}
			for _, c := range chain {
				for _, f := range c.Files {
					seqOf[f.Key] = c.Seq
				}
				for _, f := range c.DLQ {
					byCommit[o.Zone.DateOf(c.CommittedAt)] += f.Records
				}
			}
			for _, f := range warehouse.CommittedFiles(chain) {
				h, err := warehouse.ParseHourPath(f.Hour)
				if err != nil {
					return fmt.Errorf("commit record of %s: file %s: %w", key, f.Key, err)
				}
				fs = append(fs, committedFile{part: key, seq: seqOf[f.Key], CommitFile: f, day: h.Date})
			}
			mu.Lock()
			defer mu.Unlock()
			parts[key] = p
			files = append(files, fs...)
			for d, n := range byCommit {
				dlq[d] += n
			}
			read += len(chain)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, nil, 0, err
	}
	return files, parts, dlq, read, nil
}

// readBack reads a partition's commits from the latest back, and returns
// the ones it read in sequence order.
func readBack(ctx context.Context, st storage.Store, end warehouse.ChainEnd, stop time.Time, floor map[string]int64) ([]*warehouse.Commit, error) {
	var chain []*warehouse.Commit
	part := end.String()
	for seq := end.Latest; seq >= 1; seq-- {
		c, err := warehouse.ReadCommit(ctx, st, warehouse.CommitKey(end.Topic, end.Partition, seq))
		if err != nil {
			return nil, err
		}
		recent := !c.CommittedAt.Before(stop)
		unmerged := false
		if f, ok := floor[part]; ok && c.Seq > f {
			unmerged = true
		}
		if !recent && !unmerged && len(chain) > 0 {
			break
		}
		chain = append(chain, c)
	}
	slices.Reverse(chain)
	return chain, nil
}

// readyHours counts a day's ready markers against its hours.
func readyHours(ctx context.Context, st storage.Store, z warehouse.Zone, d warehouse.Date) (Day, error) {
	day := Day{Date: d.String()}
	marked := map[string]bool{}
	prefix := warehouse.ReadyPrefix + "dt=" + d.String() + "/"
	if err := st.List(ctx, prefix, func(obj storage.Object) error {
		marked[strings.TrimSuffix(obj.Key[len(warehouse.ReadyPrefix):], ".json")] = true
		return nil
	}); err != nil {
		return day, fmt.Errorf("list ready markers of %s: %w", d, err)
	}
	spans := z.Hours(d)
	day.Hours = len(spans)
	for _, s := range spans {
		if marked[s.Hour.Path()] {
			day.ReadyHours++
		} else {
			day.MissingHours = append(day.MissingHours, fmt.Sprintf("hr=%02d", s.Hour.Hour))
		}
	}
	return day, nil
}

// dlqFiles counts the files and bytes under _dlq/<topic>/<partition>/.
func dlqFiles(ctx context.Context, st storage.Store, parts map[string]*Partition) error {
	return st.List(ctx, warehouse.DLQPrefix, func(obj storage.Object) error {
		rest := obj.Key[len(warehouse.DLQPrefix):]
		i := strings.LastIndexByte(rest, '/')
		if i < 0 {
			return nil
		}
		if p := parts[rest[:i]]; p != nil {
			p.DLQFiles++
			p.DLQBytes += obj.Size
		}
		return nil
	})
}
