package ingest_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// effectiveFiles lists the committed files of the warehouse as readers see
// them: replays applied.
func effectiveFiles(t *testing.T, st storage.Store) []warehouse.CommitFile {
	t.Helper()
	chains := map[int32][]*warehouse.Commit{}
	for _, c := range allCommits(t, st) {
		chains[c.Partition] = append(chains[c.Partition], &c)
	}
	// By partition: the callers compare listings.
	var out []warehouse.CommitFile
	for _, p := range slices.Sorted(maps.Keys(chains)) {
		chain := chains[p]
		slices.SortFunc(chain, func(a, b *warehouse.Commit) int { return int(a.Seq - b.Seq) })
		out = append(out, warehouse.CommittedFiles(chain)...)
	}
	return out
}

func dayRows(t *testing.T, dir string, files []warehouse.CommitFile, day string) string {
	t.Helper()
	var paths []string
	for _, f := range files {
		if strings.HasPrefix(f.Hour, "dt="+day) {
			paths = append(paths, "'"+filepath.Join(dir, f.Key)+"'")
		}
	}
	if len(paths) == 0 {
		return ""
	}
	return duckdbtest.Query(t, fmt.Sprintf(`SELECT _kafka_partition, _kafka_offset, _op, _pos, _late, id, amount, status
		FROM read_parquet([%s]) ORDER BY ALL`, strings.Join(paths, ","))).String()
}

// A replay rebuilds a day from Kafka — here after one of its files was
// lost — with the same rows and late flags, leaves other days alone,
// removes the files it replaced, and a second replay changes nothing.
func TestReplayDay(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 2)
	dir := t.TempDir()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	d1 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var recs []*kgo.Record
	for i := range 300 {
		es := d1.Add(time.Duration(i) * 9 * time.Minute) // two days and a bit
		r := rec(int32(i%2), canalMessage("shop_01", "orders_00", "INSERT", es,
			[]orderRow{{ID: i, Customer: 1, Cents: int64(i), Status: 1 + i%3, Created: es}}, nil))
		r.Timestamp = es
		recs = append(recs, r)
	}
	produce(t, kc, recs...)
	// Ingest in several runs, the clock following the stream, so that
	// some hours become ready before their last rows arrive.
	o := options(t, kc, st, d1)
	for step := range 6 {
		o.Now = func() time.Time { return d1.Add(time.Duration(step+1) * 8 * time.Hour) }
		o.MaxRecords = 60
		if _, err := ingest.Run(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	o.MaxRecords = 0
	if _, err := ingest.Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	// Long transactions: day-1 rows that arrive after day 1 is ready.
	var lateRecs []*kgo.Record
	for i := range 4 {
		es := d1.Add(time.Duration(3+i) * time.Hour)
		r := rec(int32(i%2), canalMessage("shop_01", "orders_00", "UPDATE", es,
			[]orderRow{{ID: i, Customer: 1, Cents: 5, Status: 3, Created: es}}, nil))
		r.Timestamp = d1.Add(50 * time.Hour)
		lateRecs = append(lateRecs, r)
	}
	produce(t, kc, lateRecs...)
	if sum, err := ingest.Run(ctx, o); err != nil || sum.Late != 4 {
		t.Fatalf("late rows: %v %+v", err, sum)
	}
	before := effectiveFiles(t, st)
	want1, want2 := dayRows(t, dir, before, "2024-03-01"), dayRows(t, dir, before, "2024-03-02")
	if want1 == "" || want2 == "" {
		t.Fatal("no rows for the test days")
	}
	if !strings.Contains(want1, "true") {
		t.Fatalf("no late row on the replayed day: the test does not check that a replay keeps late flags\n%s", want1)
	}
	// Lose a file of the first day.
	for _, f := range before {
		if strings.HasPrefix(f.Hour, "dt=2024-03-01") {
			if err := st.Delete(ctx, f.Key); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	day, _ := warehouse.ParseDate("2024-03-01")
	// A replay that stops early replaces nothing: its files would hold
	// fewer rows than the ones it replaces.
	o.ReplayDate, o.MaxRecords = &day, 5
	lost := effectiveFiles(t, st)
	if _, err := ingest.Run(ctx, o); err == nil || !strings.Contains(err.Error(), "replay of 2024-03-01: partition binlog_shop/") || !strings.Contains(err.Error(), "nothing was replaced") {
		t.Fatalf("a replay cut short by --max-records: err %v", err)
	}
	if got := effectiveFiles(t, st); !slices.Equal(got, lost) {
		t.Fatalf("a replay cut short changed the committed files:\n%v\nwant\n%v", got, lost)
	}
	o.MaxRecords = 0
	for round := range 2 {
		o.ReplayDate = &day
		sum, err := ingest.Run(ctx, o)
		if err != nil {
			t.Fatalf("replay %d: %v", round, err)
		}
		after := effectiveFiles(t, st)
		if got := dayRows(t, dir, after, "2024-03-01"); got != want1 {
			t.Fatalf("replay %d: day 1 rows differ:\n%s\nwant:\n%s", round, got, want1)
		}
		if got := dayRows(t, dir, after, "2024-03-02"); got != want2 {
			t.Fatalf("replay %d: day 2 changed", round)
		}
		// Every file of the warehouse is either effective or gone.
		live := map[string]bool{}
		for _, f := range after {
			live[f.Key] = true
		}
		_ = st.List(ctx, warehouse.BinlogPrefix, func(obj storage.Object) error {
			if _, ok := warehouse.ParseBinlogKey(obj.Key); ok && !live[obj.Key] {
				t.Errorf("replay %d left %s behind", round, obj.Key)
			}
			return nil
		})
		t.Logf("replay %d: %s", round, sum.Line())
		o.ReplayDate = nil
	}
	// Normal ingest goes on after a replay.
	late := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	produce(t, kc, rec(0, canalMessage("shop_01", "orders_00", "INSERT", late, []orderRow{{ID: 9999, Customer: 1, Cents: 1, Status: 1, Created: late}}, nil)))
	sum, err := ingest.Run(ctx, o)
	if err != nil || sum.Records != 1 || sum.Late != 1 {
		t.Fatalf("ingest after replay: %v, %+v", err, sum)
	}
}

// commitGets is a store that notes the commit records read through it.
type commitGets struct {
	storage.Store
	mu   sync.Mutex
	seqs []int64
}

func (s *commitGets) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if seq, ok := warehouse.ParseCommitSeq(key); ok {
		s.mu.Lock()
		s.seqs = append(s.seqs, seq)
		s.mu.Unlock()
	}
	return s.Store.Get(ctx, key)
}

// A replay reads the commits made since a day before the replayed day
// (warehouse.CommitLead), not the partition's whole history, and still
// replaces every file of the day: here a partition committed every three
// hours for eight days, and a late row of the day committed after it.
func TestReplayReadsCommitsSinceTheDay(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 1)
	dir := t.TempDir()
	disk, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := &commitGets{Store: disk}
	d1 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	o := options(t, kc, st, d1)
	const step = 3 * time.Hour
	id := 0
	for at := d1; at.Before(d1.Add(8 * 24 * time.Hour)); at = at.Add(step) {
		var recs []*kgo.Record
		for es := at; es.Before(at.Add(step)); es = es.Add(20 * time.Minute) {
			r := rec(0, canalMessage("shop_01", "orders_00", "INSERT", es, []orderRow{{ID: id, Customer: 1, Cents: int64(id), Status: 1 + id%3, Created: es}}, nil))
			r.Timestamp = es
			recs = append(recs, r)
			id++
		}
		produce(t, kc, recs...)
		o.Now = func() time.Time { return at.Add(step) }
		if _, err := ingest.Run(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	day, _ := warehouse.ParseDate("2024-03-07")
	es := time.Date(2024, 3, 7, 5, 0, 0, 0, time.UTC)
	late := rec(0, canalMessage("shop_01", "orders_00", "UPDATE", es, []orderRow{{ID: 3, Customer: 1, Cents: 7, Status: 2, Created: es}}, nil))
	late.Timestamp = d1.Add(9 * 24 * time.Hour)
	produce(t, kc, late)
	o.Now = func() time.Time { return late.Timestamp }
	if sum, err := ingest.Run(ctx, o); err != nil || sum.Late != 1 {
		t.Fatalf("late row: %v %+v", err, sum)
	}

	before := effectiveFiles(t, st)
	want := dayRows(t, dir, before, day.String())
	if !strings.Contains(want, "true") {
		t.Fatalf("no late row on the replayed day: the test does not check that a replay finds a file committed after the day\n%s", want)
	}
	var others []warehouse.CommitFile
	for _, f := range before {
		if !strings.HasPrefix(f.Hour, "dt="+day.String()) {
			others = append(others, f)
		}
	}
	for _, f := range before {
		if strings.HasPrefix(f.Hour, "dt="+day.String()) {
			if err := st.Delete(ctx, f.Key); err != nil { // a file lost
				t.Fatal(err)
			}
			break
		}
	}
	commits := allCommits(t, st)
	// The first commit made since a day before the replayed day began
	// (in UTC, the options' zone).
	stop := warehouse.NewZone(nil).DayStart(day).Add(-warehouse.CommitLead)
	first := int64(len(commits) + 1)
	for _, c := range commits {
		if !c.CommittedAt.Before(stop) {
			first = min(first, c.Seq)
		}
	}

	st.seqs = nil
	o.ReplayDate = &day
	sum, err := ingest.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	read := st.seqs
	after := effectiveFiles(t, st)
	if got := dayRows(t, dir, after, day.String()); got != want {
		t.Fatalf("replayed day's rows differ:\n%s\nwant:\n%s", got, want)
	}
	var kept []warehouse.CommitFile
	for _, f := range after {
		if !strings.HasPrefix(f.Hour, "dt="+day.String()) {
			kept = append(kept, f)
		}
	}
	if !slices.Equal(kept, others) {
		t.Fatalf("the replay changed other days' files:\n%v\nwant\n%v", kept, others)
	}
	// ReadCommitsBack reads ConcurrentReads at once: it may read that
	// many less one before first.
	oldest := slices.Min(read)
	if oldest < first-warehouse.ConcurrentReads+1 || len(read) > len(commits)-int(first)+warehouse.ConcurrentReads+1 {
		t.Fatalf("the replay read %d commit records, the oldest %d; of %d commits, %d were made since a day before the replayed day (from %d on)",
			len(read), oldest, len(commits), len(commits)-int(first)+1, first)
	}
	t.Logf("replay read %d of %d commit records, the oldest %d; %s", len(read), len(commits), oldest, sum.Line())
}
