package snapshot

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"math"
	"path"
	"slices"
	"sort"
	"strconv"
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
	Log     *slog.Logger
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
// order (keyset pagination, rate limited, as a snapshot reads), a
// checksum of each chunk's rows on both sides; the keys of a chunk whose
// checksums differ are compared one by one and listed. Values are
// compared after the very coercion a snapshot applies (DESIGN.md §7), as
// typed values, so the comparison is exact for every type. It is exact on
// a quiet source; see UpdatedColumn for a live one.
//
// The snapshot side of one physical table is held in memory while it is
// compared (about 60 bytes and the key's text per row).
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
	var shards []shard
	for _, src := range v.r.sources() {
		db, err := v.r.db(src)
		if err != nil {
			return nil, err
		}
		s, err := discover(ctx, db, src, v.rule)
		if err != nil {
			return nil, err
		}
		shards = append(shards, s...)
	}
	snapCounts, err := v.snapshotCounts(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range shards {
		if err := v.shard(ctx, s, snapCounts[srcTable{s.DB, s.Table}]); err != nil {
			return v.rep, fmt.Errorf("%s: %w", s, err)
		}
		delete(snapCounts, srcTable{s.DB, s.Table})
	}
	for t, n := range snapCounts {
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

// snapshotCounts counts the snapshot's rows per physical table.
func (v *verifier) snapshotCounts(ctx context.Context) (map[srcTable]int64, error) {
	counts := map[srcTable]int64{}
	err := v.scan(ctx, nil, func(t srcTable, _ []parquet.Value) error {
		counts[t]++
		return nil
	})
	return counts, err
}

// scan calls fn for every row of the snapshot's data files (of physical
// table only, when set and the key starts with it), with the values of
// v.cols.
func (v *verifier) scan(ctx context.Context, only *srcTable, fn func(srcTable, []parquet.Value) error) error {
	bySource := len(v.m.Key) >= 2 && v.m.Key[0] == warehouse.ColSourceDB && v.m.Key[1] == warehouse.ColSourceTable
	for _, f := range v.m.Files {
		if only != nil && bySource {
			// Key texts are schema.Value.String: quoted strings.
			lo, ok1 := unquoteTable(f.MinKey)
			hi, ok2 := unquoteTable(f.MaxKey)
			if ok1 && ok2 && (lessTable(*only, lo) || lessTable(hi, *only)) {
				continue
			}
		}
		if err := v.scanFile(ctx, f.Key, only, fn); err != nil {
			return fmt.Errorf("read %s: %w", f.Key, err)
		}
	}
	return nil
}

// unquoteTable reads the physical table of a file's key range.
func unquoteTable(key []string) (srcTable, bool) {
	if len(key) < 2 {
		return srcTable{}, false
	}
	db, err1 := strconv.Unquote(key[0])
	table, err2 := strconv.Unquote(key[1])
	return srcTable{db, table}, err1 == nil && err2 == nil
}

func lessTable(a, b srcTable) bool {
	if a.db != b.db {
		return a.db < b.db
	}
	return a.table < b.table
}

func (v *verifier) scanFile(ctx context.Context, key string, only *srcTable, fn func(srcTable, []parquet.Value) error) error {
	b, err := storage.ReadAll(ctx, v.o.Store, key)
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
	want := []int{index[warehouse.ColSourceDB], index[warehouse.ColSourceTable]}
	for _, c := range v.cols {
		i, ok := index[c.Name]
		if !ok {
			i = -1
		}
		want = append(want, i)
	}
	vals := make([]parquet.Value, len(v.cols))
	buf := make([]parquet.Row, 256)
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				t := srcTable{string(row[want[0]].ByteArray()), string(row[want[1]].ByteArray())}
				if only != nil && t != *only {
					continue
				}
				for i, j := range want[2:] {
					if j < 0 {
						vals[i] = parquet.NullValue()
					} else {
						vals[i] = row[j]
					}
				}
				if err := fn(t, vals); err != nil {
					rows.Close()
					return err
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rows.Close()
				return err
			}
			if err := ctx.Err(); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
	}
	return nil
}

// shard compares one physical table.
func (v *verifier) shard(ctx context.Context, s shard, snapRows int64) error {
	o := &v.o
	t := srcTable{s.DB, s.Table}
	sr := ShardReport{Shard: s.String(), SnapshotRows: snapRows}
	db, err := v.r.db(s.Source)
	if err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(s.DB)+"."+quoteIdent(s.Table)).Scan(&sr.SourceRows); err != nil {
		return fmt.Errorf("count rows: %w", err)
	}
	// The snapshot side: key → row hash.
	snap := map[string]*snapshotRow{}
	vals := make([]schema.Value, len(v.cols))
	err = v.scan(ctx, &t, func(_ srcTable, pvs []parquet.Value) error {
		for i, pv := range pvs {
			x, err := schema.FromParquet(pv, v.cols[i].Type)
			if err != nil {
				return fmt.Errorf("column %s: %w", v.cols[i].Name, err)
			}
			vals[i] = x
		}
		snap[v.keyText(vals)] = &snapshotRow{hash: v.hash(vals)}
		return nil
	})
	if err != nil {
		return err
	}
	// The source side, chunk by chunk.
	rd, err := newChunkReader(ctx, db, s, v.rule, nil, v.cols, o.ChunkRows)
	if err != nil {
		return err
	}
	defer rd.close()
	if len(rd.extra) > 0 {
		sort.Strings(rd.extra)
		v.rep.Notes = append(v.rep.Notes, fmt.Sprintf("%s has columns the snapshot does not: %v (not compared)", s, rd.extra))
	}
	var last []keyValue
	for {
		if v.lim != nil {
			if err := v.lim.WaitN(ctx, o.ChunkRows); err != nil {
				return err
			}
		}
		rows, err := rd.read(ctx, last)
		if err != nil {
			return fmt.Errorf("chunk %d: %w", sr.Chunks, err)
		}
		if len(rows) == 0 {
			break
		}
		sr.Chunks++
		// Checksums of the chunk on both sides: the sum of its rows'
		// hashes, each side's own.
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
			sr.ChunksDiffered++
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
		if len(rows) < o.ChunkRows {
			break
		}
		last = rd.lastKey()
	}
	for k, r := range snap {
		if !r.seen {
			v.rep.Differences++
			if len(v.rep.Keys) < o.MaxKeys {
				v.rep.Keys = append(v.rep.Keys, Difference{Shard: s.String(), Key: strings.Split(k, "\x00"), Kind: "only_in_snapshot"})
			}
		}
	}
	v.rep.SourceRows += sr.SourceRows
	v.rep.SnapshotRows += sr.SnapshotRows
	v.rep.Shards = append(v.rep.Shards, sr)
	o.Log.Info("verified", "shard", s.String(), "source_rows", sr.SourceRows, "snapshot_rows", sr.SnapshotRows, "chunks_differed", sr.ChunksDiffered)
	return nil
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
	var parts []string
	for _, i := range v.keys {
		parts = append(parts, row[i].String())
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
