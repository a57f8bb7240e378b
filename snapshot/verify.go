package snapshot

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"maps"
	"math"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/time/rate"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// VerifyOptions say which snapshot day to compare with the live source.
type VerifyOptions struct {
	Store  storage.Store
	Config *config.Config
	Table  string
	// Date is the snapshot day; zero means the latest published one.
	Date warehouse.Date
	// ChunkRows is the most rows one source query reads (default 10000).
	ChunkRows int
	// Rate limits the source rows read per second; 0 means no limit.
	Rate float64
	// UpdatedColumn names a source column holding each row's last change
	// time (a DATETIME or TIMESTAMP). A differing key whose source row has
	// a later value than the snapshot's cut-off is an expected difference
	// (the change is not in the snapshot yet), reported apart.
	UpdatedColumn string
	// MaxKeys bounds the keys listed per kind of difference (default
	// 100); all are counted.
	MaxKeys int
	// TempDir holds verify's temporary files (default: the configuration's
	// merge.spill_dir): a key and a hash per snapshot row when the key
	// leaves out the source columns.
	TempDir string
	// SpillBuffer is how many bytes of those keys and hashes are buffered
	// before they are appended to their files (default 32 MiB).
	SpillBuffer int
	Log         *slog.Logger
}

// Difference is one differing key.
type Difference struct {
	Shard string   `json:"shard"`
	Key   []string `json:"key"`
	// Kind is "changed", "only_in_source" or "only_in_snapshot".
	Kind string `json:"kind"`
}

// ShardReport compares one physical table.
type ShardReport struct {
	Shard          string `json:"shard"`
	SourceRows     int64  `json:"source_rows"`
	SnapshotRows   int64  `json:"snapshot_rows"`
	Chunks         int    `json:"chunks"`
	ChunksDiffered int    `json:"chunks_differed"`
}

// VerifyReport is the result of Verify: equal when Differences is zero.
type VerifyReport struct {
	Table  string `json:"table"`
	Date   string `json:"date"`
	Kind   string `json:"kind"`
	Cutoff string `json:"cutoff,omitempty"`
	// Rows compared in all.
	SourceRows   int64         `json:"source_rows"`
	SnapshotRows int64         `json:"snapshot_rows"`
	Shards       []ShardReport `json:"shards"`
	// Differences counts real differences; Expected those --updated-column
	// explains. Keys lists up to MaxKeys of each.
	Differences int64        `json:"differences"`
	Expected    int64        `json:"expected_differences"`
	Keys        []Difference `json:"keys,omitempty"`
	ExpectedKey []Difference `json:"expected_keys,omitempty"`
	// Notes are schema differences and other remarks.
	Notes []string `json:"notes,omitempty"`
}

// Equal reports whether the snapshot matches the source (expected
// differences aside).
func (r *VerifyReport) Equal() bool { return r.Differences == 0 }

// Line is the one-line result.
func (r *VerifyReport) Line() string {
	s := fmt.Sprintf("%s dt=%s: %d shards, %d rows in the source, %d in the snapshot", r.Table, r.Date, len(r.Shards), r.SourceRows, r.SnapshotRows)
	if r.Differences == 0 {
		s += ": equal"
	} else {
		s += fmt.Sprintf(": %d keys differ", r.Differences)
		if len(r.Keys) > 0 {
			s += fmt.Sprintf(" (first: %s %v %s)", r.Keys[0].Shard, r.Keys[0].Key, r.Keys[0].Kind)
		}
	}
	if r.Expected > 0 {
		s += fmt.Sprintf("; %d changed after the cut-off (expected)", r.Expected)
	}
	return s
}

// Verify compares snapshot day o.Date of a table with its live sources:
// row counts per physical table, then, chunk by chunk in the source's key
// order (keyset pagination, rate limited, as a snapshot reads), each
// source row with the snapshot's row of its key (integer keys), or a
// checksum of each chunk's rows on both sides, the keys of a chunk whose
// checksums differ then compared one by one (other keys). Values are
// compared after the very coercion a snapshot applies (DESIGN.md §7), as
// typed values, so the comparison is exact for every type. It is exact on
// a quiet source; see UpdatedColumn for a live one.
//
// When the key starts with the source columns (key_includes_source), the
// snapshot is read once, table after table in its key order; otherwise it
// is read once into a local file per physical table of each row's key and
// hash (in TempDir; removed at the end), which are then compared table
// by table. A table whose key columns are all integers is compared as
// both sides stream in (MySQL's order is the snapshot's), holding a chunk
// of source rows and one data file; for other keys the snapshot side of
// one physical table is held in memory while it is compared (about 60
// bytes and the key's text per row).
func Verify(ctx context.Context, o VerifyOptions) (*VerifyReport, error) {
	if o.ChunkRows <= 0 {
		o.ChunkRows = DefaultChunkRows
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 100
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.SpillBuffer <= 0 {
		o.SpillBuffer = defaultSpillBuffer
	}
	if o.TempDir == "" && o.Config != nil {
		o.TempDir = o.Config.Merge.SpillDir
	}
	so := Options{Store: o.Store, Config: o.Config, Table: o.Table, Date: warehouse.Date{Year: 1}}
	rule, err := so.validate()
	if err == nil && len(o.Config.Sources) == 0 {
		err = errNoSources
	}
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v := &verifier{o: o, rule: rule, r: &runner{o: so, rule: rule, dbs: map[string]*sql.DB{}}}
	defer v.r.close()
	rep, err := v.run(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify %s: %w", o.Table, err)
	}
	return rep, nil
}

type verifier struct {
	o    VerifyOptions
	rule *config.Table
	r    *runner
	m    *warehouse.Manifest
	cols []column
	keys []int // indexes into cols of the key's data columns
	seed maphash.Seed
	rep  *VerifyReport
	lim  *rate.Limiter
	// cutoff is the instant after which a change may be missing from the
	// snapshot (zero: no --updated-column).
	cutoff time.Time
	upd    int // index into cols of UpdatedColumn, -1 if none
}

func (v *verifier) run(ctx context.Context) (*VerifyReport, error) {
	o := &v.o
	d := o.Date
	if d.Year == 0 {
		var err error
		if d, err = latestDay(ctx, o.Store, o.Table); err != nil {
			return nil, err
		}
	}
	var err error
	if v.m, err = warehouse.ReadManifest(ctx, o.Store, o.Table, d); err != nil {
		return nil, fmt.Errorf("snapshot dt=%s: %w", d, err)
	}
	v.rep = &VerifyReport{Table: o.Table, Date: d.String(), Kind: v.m.Kind}
	sv := warehouse.SchemaVersion{Version: v.m.SchemaVersion, Columns: v.m.Columns}
	types, err := sv.Types()
	if err != nil {
		return nil, err
	}
	for i, c := range v.m.Columns {
		v.cols = append(v.cols, column{Name: c.Name, Type: types[i]})
	}
	for _, k := range v.m.Key {
		if k == warehouse.ColSourceDB || k == warehouse.ColSourceTable {
			continue
		}
		i := slices.IndexFunc(v.cols, func(c column) bool { return c.Name == k })
		if i < 0 {
			return nil, fmt.Errorf("snapshot dt=%s: key column %s is not among its columns", d, k)
		}
		v.keys = append(v.keys, i)
	}
	v.upd = -1
	if o.UpdatedColumn != "" {
		v.upd = slices.IndexFunc(v.cols, func(c column) bool { return c.Name == o.UpdatedColumn })
		if v.upd < 0 {
			return nil, fmt.Errorf("--updated-column %s is not a column of snapshot dt=%s", o.UpdatedColumn, d)
		}
		if k := v.cols[v.upd].Type.Kind; k != schema.DateTime && k != schema.Timestamp {
			return nil, fmt.Errorf("--updated-column %s is a %s, want datetime or timestamp", o.UpdatedColumn, v.cols[v.upd].Type)
		}
		v.cutoff = v.cutoffOf(d)
		v.rep.Cutoff = v.cutoff.UTC().Format(time.RFC3339)
	}
	if o.Rate > 0 {
		v.lim = rate.NewLimiter(rate.Limit(o.Rate), max(o.ChunkRows, int(o.Rate)))
	}
	v.seed = maphash.MakeSeed()

	// The physical tables: those of the sources now, and those the
	// snapshot has rows of (a table dropped since is all differences).
	shards, err := v.r.shards(ctx)
	if err != nil {
		return nil, err
	}
	var orphans map[srcTable]int64
	if v.bySource() {
		if orphans, err = v.onePass(ctx, shards); err != nil {
			return v.rep, err
		}
	} else if orphans, err = v.partitioned(ctx, shards); err != nil {
		return v.rep, err
	}
	tables := slices.SortedFunc(maps.Keys(orphans), compareTables)
	for _, t := range tables {
		n := orphans[t]
		v.rep.Notes = append(v.rep.Notes, fmt.Sprintf("%s.%s has %d rows in the snapshot but is not on the sources", t.db, t.table, n))
		v.rep.Differences += n
		v.rep.SnapshotRows += n
	}
	return v.rep, nil
}

// cutoffOf is the instant the snapshot day's content reaches: the start
// of a bootstrap (its rows were read after it), or the end of a merged
// day.
func (v *verifier) cutoffOf(d warehouse.Date) time.Time {
	if s, ok := v.m.Stats[statStartedUnix]; ok {
		return time.Unix(s, 0)
	}
	return warehouse.NewZone(v.o.Config.Location).DayStart(d.AddDays(1))
}

// statStartedUnix is the manifest stat holding when a bootstrap started.
const statStartedUnix = "snapshot_started_unix"

// latestDay is the latest snapshot day with a manifest.
func latestDay(ctx context.Context, st storage.Store, table string) (warehouse.Date, error) {
	var days []string
	if err := st.List(ctx, warehouse.SnapshotTableDir(table), func(obj storage.Object) error {
		if path.Base(obj.Key) == warehouse.ManifestName {
			days = append(days, strings.TrimPrefix(path.Base(path.Dir(obj.Key)), "dt="))
		}
		return nil
	}); err != nil {
		return warehouse.Date{}, fmt.Errorf("list snapshots of %s: %w", table, err)
	}
	if len(days) == 0 {
		return warehouse.Date{}, fmt.Errorf("table %s has no snapshot yet", table)
	}
	sort.Strings(days)
	return warehouse.ParseDate(days[len(days)-1])
}

type srcTable struct{ db, table string }

// snapshotRow is a row of the snapshot: its hash and whether the source
// had it.
type snapshotRow struct {
	hash uint64
	seen bool
}

// snapReader reads the rows of the snapshot's data files in key order
// (the manifest lists them so), with the values of v.cols.
type snapReader struct {
	v     *verifier
	files []warehouse.ManifestFile

	key  string // the file being read
	rgs  []parquet.RowGroup
	rows parquet.Rows
	want []int // file columns of _source_db, _source_table and v.cols; -1: absent
	buf  []parquet.Row
	n, i int
	vals []parquet.Value
}

// newSnapReader reads the snapshot's rows.
func (v *verifier) newSnapReader() *snapReader {
	return &snapReader{v: v, files: v.m.Files, buf: make([]parquet.Row, 256), vals: make([]parquet.Value, len(v.cols))}
}

// bySource reports whether the snapshot's key starts with _source_db and
// _source_table, so that each physical table's rows are contiguous.
func (v *verifier) bySource() bool {
	return len(v.m.Key) >= 2 && v.m.Key[0] == warehouse.ColSourceDB && v.m.Key[1] == warehouse.ColSourceTable
}

// next returns the next row's physical table and values (valid until the
// next call); ok is false after the last row.
func (r *snapReader) next(ctx context.Context) (t srcTable, vals []parquet.Value, ok bool, err error) {
	for {
		for r.i < r.n {
			row := r.buf[r.i]
			r.i++
			t = srcTable{string(row[r.want[0]].ByteArray()), string(row[r.want[1]].ByteArray())}
			for i, j := range r.want[2:] {
				if j < 0 {
					r.vals[i] = parquet.NullValue()
				} else {
					r.vals[i] = row[j]
				}
			}
			return t, r.vals, true, nil
		}
		if err := ctx.Err(); err != nil {
			return t, nil, false, err
		}
		if err := r.fill(ctx); err != nil {
			return t, nil, false, fmt.Errorf("read %s: %w", r.key, err)
		}
		if r.n == 0 {
			return t, nil, false, nil
		}
	}
}

// fill reads the next batch of rows into buf, opening the next row group
// or file as needed; n is 0 after the last file.
func (r *snapReader) fill(ctx context.Context) error {
	r.i, r.n = 0, 0
	for {
		if r.rows != nil {
			n, err := r.rows.ReadRows(r.buf)
			r.n = n
			if errors.Is(err, io.EOF) {
				r.rows.Close()
				r.rows = nil
			} else if err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			continue
		}
		if len(r.rgs) > 0 {
			r.rows, r.rgs = r.rgs[0].Rows(), r.rgs[1:]
			continue
		}
		if len(r.files) == 0 {
			return nil
		}
		r.key = r.files[0].Key
		r.files = r.files[1:]
		if err := r.open(ctx); err != nil {
			return err
		}
	}
}

// open reads the file r.key.
func (r *snapReader) open(ctx context.Context) error {
	b, err := storage.ReadAll(ctx, r.v.o.Store, r.key)
	if err != nil {
		return err
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return err
	}
	index := map[string]int{}
	for i, p := range f.Schema().Columns() {
		index[strings.Join(p, ".")] = i
	}
	r.want = append(r.want[:0], index[warehouse.ColSourceDB], index[warehouse.ColSourceTable])
	for _, c := range r.v.cols {
		i, ok := index[c.Name]
		if !ok {
			i = -1
		}
		r.want = append(r.want, i)
	}
	r.rgs = f.RowGroups()
	return nil
}

func (r *snapReader) close() {
	if r.rows != nil {
		r.rows.Close()
		r.rows = nil
	}
}

// compareTables orders physical tables as warehouse.KeyOrder does.
func compareTables(a, b srcTable) int {
	return cmp.Or(strings.Compare(a.db, b.db), strings.Compare(a.table, b.table))
}

// onePass compares the shards in the snapshot's order of physical tables,
// reading the snapshot once: each table's rows are contiguous when the
// key starts with the source columns. It returns the snapshot's rows of
// tables that are not among shards, per table.
func (v *verifier) onePass(ctx context.Context, shards []shard) (map[srcTable]int64, error) {
	shards = slices.Clone(shards)
	slices.SortStableFunc(shards, func(a, b shard) int {
		return compareTables(srcTable{a.DB, a.Table}, srcTable{b.DB, b.Table})
	})
	rd := v.newSnapReader()
	defer rd.close()
	orphans := map[srcTable]int64{}
	// The row read ahead: the first of a table not compared yet.
	var (
		pt    srcTable
		pvals []parquet.Value
		pok   bool
		err   error
	)
	if pt, pvals, pok, err = rd.next(ctx); err != nil {
		return nil, err
	}
	for _, s := range shards {
		t := srcTable{s.DB, s.Table}
		for pok && compareTables(pt, t) < 0 {
			orphans[pt]++
			if pt, pvals, pok, err = rd.next(ctx); err != nil {
				return nil, err
			}
		}
		// The rows of t, starting with the one read ahead.
		ahead := pok && pt == t
		rows := func() ([]parquet.Value, bool, error) {
			if ahead {
				ahead = false
				return pvals, true, nil
			}
			if !pok || pt != t {
				return nil, false, nil
			}
			if pt, pvals, pok, err = rd.next(ctx); err != nil || !pok || pt != t {
				return nil, false, err
			}
			return pvals, true, nil
		}
		if err := v.shard(ctx, s, v.fromParquet(rows)); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
		if pok && pt == t {
			return nil, fmt.Errorf("internal error: rows of %s left unread", s)
		}
	}
	for pok {
		orphans[pt]++
		if pt, pvals, pok, err = rd.next(ctx); err != nil {
			return nil, err
		}
	}
	return orphans, nil
}

// snapSide returns a physical table's snapshot rows in key order, each as
// its key's values and its hash (v.hash of all its values); the key is
// valid until the next call, and ok is false after the last row.
type snapSide func() (key []schema.Value, hash uint64, ok bool, err error)

// fromParquet is the snapSide of rows that snap returns as Parquet values
// of v.cols (valid until its next call).
func (v *verifier) fromParquet(snap func() ([]parquet.Value, bool, error)) snapSide {
	vals := make([]schema.Value, len(v.cols))
	var key []schema.Value
	return func() ([]schema.Value, uint64, bool, error) {
		pvs, ok, err := snap()
		if err != nil || !ok {
			return nil, 0, false, err
		}
		if err := v.typed(pvs, vals); err != nil {
			return nil, 0, false, err
		}
		key = v.keyValues(vals, key[:0])
		return key, v.hash(vals), true, nil
	}
}

// typed converts a snapshot row's Parquet values of v.cols into vals.
func (v *verifier) typed(pvs []parquet.Value, vals []schema.Value) error {
	for i, pv := range pvs {
		x, err := schema.FromParquet(pv, v.cols[i].Type)
		if err != nil {
			return fmt.Errorf("column %s: %w", v.cols[i].Name, err)
		}
		vals[i] = x
	}
	return nil
}

// shard compares one physical table with its rows of the snapshot, which
// snap returns in key order. When the key's columns are integers on both
// sides, the source's order (MySQL's) is the snapshot's, and the two are
// joined as they stream in, holding a chunk of rows; otherwise the
// snapshot side is held in memory by key (a hash and the key's text per
// row) and the source is compared chunk by chunk.
func (v *verifier) shard(ctx context.Context, s shard, snap snapSide) error {
	o := &v.o
	sr := ShardReport{Shard: s.String()}
	db, err := v.r.db(s.Source)
	if err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(s.DB)+"."+quoteIdent(s.Table)).Scan(&sr.SourceRows); err != nil {
		return fmt.Errorf("count rows: %w", err)
	}
	rd, err := newChunkReader(ctx, db, s, v.rule, nil, v.cols, o.ChunkRows)
	if err != nil {
		return err
	}
	defer rd.close()
	if len(rd.extra) > 0 {
		sort.Strings(rd.extra)
		v.rep.Notes = append(v.rep.Notes, fmt.Sprintf("%s has columns the snapshot does not: %v (not compared)", s, rd.extra))
	}
	src := &sourceChunks{v: v, rd: rd, sr: &sr}
	counted := func() ([]schema.Value, uint64, bool, error) {
		key, h, ok, err := snap()
		if ok {
			sr.SnapshotRows++
		}
		return key, h, ok, err
	}
	if v.integerKey(rd) {
		err = v.join(ctx, s, src, counted)
	} else {
		err = v.hashed(ctx, s, src, counted)
	}
	if err != nil {
		return err
	}
	v.rep.SourceRows += sr.SourceRows
	v.rep.SnapshotRows += sr.SnapshotRows
	v.rep.Shards = append(v.rep.Shards, sr)
	o.Log.Info("verified", "shard", s.String(), "source_rows", sr.SourceRows, "snapshot_rows", sr.SnapshotRows, "chunks_differed", sr.ChunksDiffered)
	return nil
}

// integerKey reports whether every key column is a signed or unsigned
// integer both in the snapshot and in the source's declaration: then
// MySQL's key order is the snapshot's (warehouse.KeyOrder).
func (v *verifier) integerKey(rd *chunkReader) bool {
	if len(v.keys) == 0 || len(v.keys) != len(rd.keyIdx) {
		return false
	}
	isInt := func(k schema.Kind) bool { return k >= schema.TinyInt && k <= schema.BigInt }
	for j, i := range v.keys {
		// The same column, an integer of the same signedness on both
		// sides: a value converted from another (a signed -1 read as an
		// unsigned column) would sort elsewhere.
		snap, src := v.cols[i].Type, rd.types[rd.keyIdx[j]]
		if rd.target[i] != rd.keyIdx[j] || !isInt(snap.Kind) || !isInt(src.Kind) || snap.Unsigned != src.Unsigned {
			return false
		}
	}
	return true
}

// sourceChunks reads a shard's source rows chunk by chunk, counting
// chunks (and those marked differing) in its report.
type sourceChunks struct {
	v        *verifier
	rd       *chunkReader
	sr       *ShardReport
	last     []keyValue
	done     bool
	differed bool // the current chunk has a differing key
}

// next reads the next chunk; nil after the last.
func (c *sourceChunks) next(ctx context.Context) ([][]schema.Value, error) {
	c.endChunk()
	if c.done {
		return nil, nil
	}
	if c.v.lim != nil {
		if err := c.v.lim.WaitN(ctx, c.v.o.ChunkRows); err != nil {
			return nil, err
		}
	}
	rows, err := c.rd.read(ctx, c.last)
	if err != nil {
		return nil, fmt.Errorf("chunk %d: %w", c.sr.Chunks, err)
	}
	if len(rows) < c.v.o.ChunkRows {
		c.done = true
	} else {
		c.last = c.rd.lastKey()
	}
	if len(rows) > 0 {
		c.sr.Chunks++
	}
	return rows, nil
}

// endChunk counts the current chunk as differing if it was marked so.
func (c *sourceChunks) endChunk() {
	if c.differed {
		c.sr.ChunksDiffered++
		c.differed = false
	}
}

// join compares a shard whose key is integers on both sides by a merge
// join in key order. A snapshot or source row out of key order is an
// error (the snapshot's files are not what the manifest says).
func (v *verifier) join(ctx context.Context, s shard, src *sourceChunks, snap snapSide) error {
	var (
		chunk         [][]schema.Value
		srow          []schema.Value // the current source row; nil after the last
		skey, prevSrc []schema.Value
		key, prevSnap []schema.Value
	)
	advance := func() error {
		for len(chunk) == 0 {
			var err error
			if chunk, err = src.next(ctx); err != nil {
				return err
			}
			if chunk == nil {
				srow = nil
				return nil
			}
		}
		srow, chunk = chunk[0], chunk[1:]
		prevSrc = append(prevSrc[:0], skey...)
		skey = v.keyValues(srow, skey[:0])
		if len(prevSrc) > 0 && compareIntKeys(prevSrc, skey) >= 0 {
			return fmt.Errorf("source rows out of key order: %s after %s", formatKey(skey), formatKey(prevSrc))
		}
		return nil
	}
	if err := advance(); err != nil {
		return err
	}
	for {
		k, h, ok, err := snap()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		prevSnap = append(prevSnap[:0], key...)
		key = append(key[:0], k...)
		if len(prevSnap) > 0 && compareIntKeys(prevSnap, key) >= 0 {
			return fmt.Errorf("snapshot rows out of key order: %s after %s", formatKey(key), formatKey(prevSnap))
		}
		for srow != nil && compareIntKeys(skey, key) < 0 {
			v.differ(s, srow, v.keyText(srow), "only_in_source")
			src.differed = true
			if err := advance(); err != nil {
				return err
			}
		}
		if srow == nil || compareIntKeys(skey, key) > 0 {
			// As with keys held in memory, a key only in the snapshot
			// marks no chunk of the source differing.
			v.onlyInSnapshot(s, keyText(key))
			continue
		}
		if v.hash(srow) != h {
			v.differ(s, srow, v.keyText(srow), "changed")
			src.differed = true
		}
		if err := advance(); err != nil {
			return err
		}
	}
	for srow != nil {
		v.differ(s, srow, v.keyText(srow), "only_in_source")
		src.differed = true
		if err := advance(); err != nil {
			return err
		}
	}
	src.endChunk()
	return nil
}

// keyValues appends the key columns' values of row to dst.
func (v *verifier) keyValues(row []schema.Value, dst []schema.Value) []schema.Value {
	for _, i := range v.keys {
		dst = append(dst, row[i])
	}
	return dst
}

// compareIntKeys compares keys of integer values (IntV, or UintV above
// the int64 range; NULL first), as MySQL and warehouse.KeyOrder order them.
func compareIntKeys(a, b []schema.Value) int {
	for i := range a {
		if c := compareInt(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

func compareInt(a, b schema.Value) int {
	rank := func(x schema.Value) int {
		switch x.Kind {
		case schema.Null:
			return 0
		case schema.UintV:
			return 2
		}
		return 1
	}
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	if a.Kind == schema.UintV {
		return cmp.Compare(a.U, b.U)
	}
	return cmp.Compare(a.I, b.I)
}

// formatKey is a key's text for messages.
func formatKey(key []schema.Value) string {
	parts := make([]string, len(key))
	for i, x := range key {
		parts[i] = x.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// hashed compares a shard by holding the snapshot side in memory by key
// and checking the source chunk by chunk: the sum of a chunk's row
// hashes on both sides, each side's own; the keys of a chunk whose sums
// differ are compared one by one.
func (v *verifier) hashed(ctx context.Context, s shard, src *sourceChunks, side snapSide) error {
	snap := map[string]*snapshotRow{}
	for {
		key, h, ok, err := side()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		snap[keyText(key)] = &snapshotRow{hash: h}
	}
	for {
		rows, err := src.next(ctx)
		if err != nil {
			return err
		}
		if rows == nil {
			break
		}
		var srcSum, snapSum uint64
		keys := make([]string, len(rows))
		hashes := make([]uint64, len(rows))
		for i, row := range rows {
			keys[i], hashes[i] = v.keyText(row), v.hash(row)
			srcSum += hashes[i]
			if r, ok := snap[keys[i]]; ok {
				snapSum += r.hash
				r.seen = true
			} else {
				snapSum += v.missing()
			}
		}
		if srcSum != snapSum {
			src.differed = true
			for i, row := range rows {
				r, ok := snap[keys[i]]
				switch {
				case !ok:
					v.differ(s, row, keys[i], "only_in_source")
				case r.hash != hashes[i]:
					v.differ(s, row, keys[i], "changed")
				}
			}
		}
	}
	src.endChunk()
	keys := make([]string, 0)
	for k, r := range snap {
		if !r.seen {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v.onlyInSnapshot(s, k)
	}
	return nil
}

// onlyInSnapshot records a key the source lacks.
func (v *verifier) onlyInSnapshot(s shard, key string) {
	v.rep.Differences++
	if len(v.rep.Keys) < v.o.MaxKeys {
		v.rep.Keys = append(v.rep.Keys, Difference{Shard: s.String(), Key: strings.Split(key, "\x00"), Kind: "only_in_snapshot"})
	}
}

// differ records a differing key of a source row.
func (v *verifier) differ(s shard, row []schema.Value, key, kind string) {
	d := Difference{Shard: s.String(), Key: strings.Split(key, "\x00"), Kind: kind}
	if v.upd >= 0 && v.changedAfterCutoff(row[v.upd]) {
		v.rep.Expected++
		if len(v.rep.ExpectedKey) < v.o.MaxKeys {
			v.rep.ExpectedKey = append(v.rep.ExpectedKey, d)
		}
		return
	}
	v.rep.Differences++
	if len(v.rep.Keys) < v.o.MaxKeys {
		v.rep.Keys = append(v.rep.Keys, d)
	}
}

// changedAfterCutoff reports whether an updated-column value lies after
// the cut-off. DATETIME values are wall clocks of kafka.source_timezone
// (UTC without it).
func (v *verifier) changedAfterCutoff(x schema.Value) bool {
	switch x.Kind {
	case schema.TimestampV:
		return time.UnixMicro(x.I).After(v.cutoff)
	case schema.DateTimeV:
		loc := time.UTC
		if k := v.o.Config.Kafka; k != nil && k.SourceLocation != nil {
			loc = k.SourceLocation
		}
		wall := time.UnixMicro(x.I).UTC()
		t := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), loc)
		return t.After(v.cutoff)
	}
	return false
}

// keyText is a row's key: its key columns' text, NUL-separated.
func (v *verifier) keyText(row []schema.Value) string {
	return keyText(v.keyValues(row, nil))
}

// keyText is the text of a key's values, NUL-separated.
func keyText(key []schema.Value) string {
	parts := make([]string, len(key))
	for i, x := range key {
		parts[i] = x.String()
	}
	return strings.Join(parts, "\x00")
}

// missing is the hash a key absent from the snapshot contributes, so that
// a chunk with a missing row never sums equal by chance of zeros.
func (v *verifier) missing() uint64 { return 0x9e3779b97f4a7c15 }

// hash is a row's hash over every column's typed value.
func (v *verifier) hash(row []schema.Value) uint64 {
	var h maphash.Hash
	h.SetSeed(v.seed)
	var b [8]byte
	for _, x := range row {
		h.WriteByte(byte(x.Kind))
		binary.LittleEndian.PutUint64(b[:], uint64(x.I))
		h.Write(b[:])
		binary.LittleEndian.PutUint64(b[:], x.U)
		h.Write(b[:])
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(x.F))
		h.Write(b[:])
		binary.LittleEndian.PutUint64(b[:], uint64(len(x.S)))
		h.Write(b[:])
		h.WriteString(x.S)
		binary.LittleEndian.PutUint64(b[:], uint64(len(x.B)))
		h.Write(b[:])
		h.Write(x.B)
	}
	return h.Sum64()
}
