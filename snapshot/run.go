package snapshot

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/internal/pagezstd"
	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// Progress is where a snapshot stands, after a chunk.
type Progress struct {
	Rows        int64
	Chunks      int
	ShardsDone  int
	Shards      int
	RowsPerSec  float64
	RowsGuessed int64 // the sources' estimate of the rows (information_schema.TABLES.TABLE_ROWS)
	ETA         time.Duration
}

// Summary says what a snapshot did (the JSON summary of binlake snapshot).
type Summary struct {
	Table    string `json:"table"`
	Date     string `json:"date"`
	RunID    string `json:"run_id"`
	Position string `json:"position"`
	// GTIDs are the sources' GTID sets at the position, by source.
	GTIDs  map[string]string `json:"gtids,omitempty"`
	Shards int               `json:"shards"`
	Rows   int64             `json:"rows"`
	Chunks int               `json:"chunks"`
	// Resumed counts the chunks an earlier, interrupted run had finished.
	Resumed int `json:"chunks_resumed"`
	// ZeroDates counts dates that are not calendar dates (stored as
	// NULL), by column.
	ZeroDates     map[string]int64 `json:"zero_dates,omitempty"`
	SchemaVersion int              `json:"schema_version"`
	Files         int              `json:"files"`
	Seconds       float64          `json:"duration_seconds"`
	RowsPerSec    float64          `json:"rows_per_second"`
}

// Line is the one-line summary.
func (s *Summary) Line() string {
	line := fmt.Sprintf("%s dt=%s: %d rows from %d shards at %s, %d files, %.0f rows/s", s.Table, s.Date, s.Rows, s.Shards, s.Position, s.Files, s.RowsPerSec)
	if s.Resumed > 0 {
		line += fmt.Sprintf(" (resumed after %d chunks)", s.Resumed)
	}
	return line
}

// Run takes a table's snapshot from its sources and publishes it as
// snapshot dt=o.Date (see the package documentation).
func Run(ctx context.Context, o Options) (*Summary, error) {
	o.ensureDefaults()
	rule, err := o.validate()
	if err == nil && len(o.Config.Sources) == 0 {
		err = errNoSources
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	start := time.Now()
	r := &runner{o: o, rule: rule, dbs: map[string]*sql.DB{}, zstd: pagezstd.New(runtime.GOMAXPROCS(0))}
	defer r.close()
	sum, err := r.run(ctx)
	if sum != nil {
		sum.Seconds = time.Since(start).Seconds()
		if sum.Seconds > 0 {
			sum.RowsPerSec = float64(sum.Rows) / sum.Seconds
		}
	}
	if err != nil {
		return sum, fmt.Errorf("snapshot %s: %w", o.Table, err)
	}
	return sum, nil
}

type runner struct {
	o    Options
	rule *config.Table
	dbMu sync.Mutex
	dbs  map[string]*sql.DB
	st   *state
	cols []column      // the schema version's columns
	lim  *rate.Limiter // nil: no limit
	// zstd compresses the files the run stages, with encoders kept
	// across them.
	zstd *pagezstd.Codec

	mu       sync.Mutex
	sum      *Summary
	prog     Progress
	started  time.Time
	progRows int64 // rows of this run (not resumed), for the rate
}

func (r *runner) close() {
	for _, db := range r.dbs {
		db.Close()
	}
}

// sources are the names of the sources the rule reads, in name order.
func (r *runner) sources() []string {
	if len(r.rule.Sources) > 0 {
		return r.rule.Sources
	}
	var names []string
	for n := range r.o.Config.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (r *runner) db(name string) (*sql.DB, error) {
	r.dbMu.Lock()
	defer r.dbMu.Unlock()
	if db, ok := r.dbs[name]; ok {
		return db, nil
	}
	db, err := Open(name, r.o.Config.Sources[name])
	if err != nil {
		return nil, err
	}
	db.SetMaxIdleConns(r.o.Parallel + 1)
	r.dbs[name] = db
	return db, nil
}

func (r *runner) run(ctx context.Context) (*Summary, error) {
	o := &r.o
	st, err := readState(ctx, o.Store, o.Table)
	if err != nil {
		return nil, err
	}
	if st != nil {
		if st.Date != o.Date.String() {
			return nil, fmt.Errorf("an interrupted snapshot for dt=%s is staged in %s; run again with --date %s to finish it, or remove that directory to start over",
				st.Date, stagingPrefix(o.Table), st.Date)
		}
		o.Log.Info("resuming snapshot", "table", o.Table, "date", st.Date, "run", st.RunID, "position", st.Position)
	} else {
		if m, err := storage.Exists(ctx, o.Store, warehouse.SnapshotManifest(o.Table, o.Date)); err != nil {
			return nil, err
		} else if m {
			return nil, fmt.Errorf("snapshot/%s/dt=%s already exists; remove it to take the snapshot again, or choose another --date", o.Table, o.Date)
		}
		if st, err = r.begin(ctx); err != nil {
			return nil, err
		}
	}
	r.st = st
	if done, err := r.published(ctx); err != nil || done {
		return r.sum, err
	}
	sv, err := readVersion(ctx, o.Store, o.Table, st.SchemaVersion)
	if err != nil {
		return nil, err
	}
	types, err := sv.Types()
	if err != nil {
		return nil, err
	}
	for i, c := range sv.Columns {
		r.cols = append(r.cols, column{Name: c.Name, Type: types[i]})
	}
	r.sum = &Summary{Table: o.Table, Date: st.Date, RunID: st.RunID, Position: st.Position, Shards: len(st.Shards),
		SchemaVersion: st.SchemaVersion, ZeroDates: map[string]int64{}}
	for name, p := range st.Positions {
		if p.GTID != "" {
			if r.sum.GTIDs == nil {
				r.sum.GTIDs = map[string]string{}
			}
			r.sum.GTIDs[name] = p.GTID
		}
	}
	if o.Rate > 0 {
		r.lim = rate.NewLimiter(rate.Limit(o.Rate), max(o.ChunkRows, int(o.Rate)))
	}
	r.prog.Shards = len(st.Shards)
	r.prog.RowsGuessed = r.guessRows(ctx)
	r.started = time.Now()

	// Copy.
	files := make([][]merge.StagedFile, len(st.Shards))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Parallel)
	for i := range st.Shards {
		g.Go(func() error {
			f, err := r.copyShard(gctx, i)
			if err != nil {
				return fmt.Errorf("shard %s: %w", st.Shards[i], err)
			}
			files[i] = f
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return r.sum, err
	}

	// Publish.
	mo := merge.ConfigOptions(o.Config, *r.rule)
	mo.Table.Key = st.Key
	mo.Store, mo.Date, mo.Log, mo.RunID, mo.Now = o.Store, o.Date, o.Log, st.RunID, o.Now
	in := merge.BootstrapInput{Kind: merge.KindBootstrap, Files: slices.Concat(files...), Position: st.Position, GTIDs: r.sum.GTIDs,
		Stats: map[string]int64{"snapshot_rows": r.sum.Rows, "snapshot_shards": int64(len(st.Shards)), statStartedUnix: st.Started.Unix()}}
	ms, err := merge.Bootstrap(ctx, mo, in)
	if err != nil {
		return r.sum, err
	}
	r.sum.Files = ms.FilesWritten
	o.Log.Info("snapshot published", "table", o.Table, "date", st.Date, "rows", ms.RowsOut)
	if err := removeStaging(ctx, o.Store, o.Table); err != nil {
		return r.sum, fmt.Errorf("published, but the staging area was not removed (the next run removes it): %w", err)
	}
	return r.sum, nil
}

// published finishes a run that was killed after it published: the
// manifest of its run id exists, so only _SUCCESS and the removal of the
// staging area may be missing (the staged chunks may be partly gone).
func (r *runner) published(ctx context.Context) (bool, error) {
	o := &r.o
	key := warehouse.SnapshotManifest(o.Table, o.Date)
	b, err := storage.ReadAll(ctx, o.Store, key)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	var m warehouse.Manifest
	if err := warehouse.Unmarshal(key, b, &m); err != nil {
		return false, err
	}
	if m.RunID != r.st.RunID {
		return false, fmt.Errorf("snapshot/%s/dt=%s was published by another run (%s); remove %s to start over", o.Table, o.Date, m.RunID, stagingPrefix(o.Table))
	}
	if err := o.Store.Put(ctx, warehouse.SnapshotSuccess(o.Table, o.Date), strings.NewReader("")); err != nil {
		return false, fmt.Errorf("write _SUCCESS: %w", err)
	}
	r.sum = &Summary{Table: o.Table, Date: r.st.Date, RunID: r.st.RunID, Position: r.st.Position, Shards: len(r.st.Shards),
		SchemaVersion: r.st.SchemaVersion, Rows: m.Rows, Files: len(m.Files)}
	o.Log.Info("snapshot was already published; finishing", "table", o.Table, "date", r.st.Date)
	return true, removeStaging(ctx, o.Store, o.Table)
}

// guessRows sums the sources' row estimates of the shards, for the ETA
// (0 when unknown).
func (r *runner) guessRows(ctx context.Context) int64 {
	var n int64
	for _, s := range r.st.Shards {
		db, err := r.db(s.Source)
		if err != nil {
			return 0
		}
		var rows sql.NullInt64
		if err := db.QueryRowContext(ctx, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", s.DB, s.Table).Scan(&rows); err != nil {
			return 0
		}
		n += rows.Int64
	}
	return n
}

// newRunID names a run: what, the time and random bits.
func newRunID(what string, now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return what + "-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// shards finds the rule's physical tables on its sources, in source and
// then name order. A table on two sources is an error: their rows would
// have the same _source_db and _source_table.
func (r *runner) shards(ctx context.Context) ([]shard, error) {
	var order []shard
	seen := map[string]string{}
	for _, src := range r.sources() {
		db, err := r.db(src)
		if err != nil {
			return nil, err
		}
		shards, err := discover(ctx, db, src, r.rule)
		if err != nil {
			return nil, err
		}
		for _, s := range shards {
			if other, ok := seen[s.String()]; ok {
				return nil, fmt.Errorf("table %s is on both sources %s and %s: _source_db and _source_table could not tell their rows apart; list one source in the rule's sources", s, other, src)
			}
			seen[s.String()] = src
			order = append(order, s)
		}
	}
	return order, nil
}

// discoverAll finds the rule's physical tables (see shards) and reads
// their schemas.
func (r *runner) discoverAll(ctx context.Context) (map[shard]*tableSchema, []shard, error) {
	order, err := r.shards(ctx)
	if err != nil {
		return nil, nil, err
	}
	schemas := map[shard]*tableSchema{}
	for _, s := range order {
		db, err := r.db(s.Source)
		if err != nil {
			return nil, nil, err
		}
		ts, err := readSchema(ctx, db, s, r.rule)
		if err != nil {
			return nil, nil, fmt.Errorf("source %s: %w", s.Source, err)
		}
		schemas[s] = ts
	}
	return schemas, order, nil
}

// begin discovers the shards and their schema, reads the positions,
// creates the catalog version and writes the state: everything fixed
// before the first chunk.
func (r *runner) begin(ctx context.Context) (*state, error) {
	o := &r.o
	st := &state{FormatVersion: warehouse.FormatVersion, Table: o.Table, Date: o.Date.String(),
		RunID: newRunID("snapshot", o.Now()), Started: o.Now().UTC(),
		Stamps: map[string]warehouse.Pos{}, Positions: map[string]BinlogPosition{}}
	schemas, shards, err := r.discoverAll(ctx)
	if err != nil {
		return nil, err
	}
	st.Shards = shards
	if len(st.Shards) == 0 {
		return nil, fmt.Errorf("no table on sources %v matches %s (rule %s)", r.sources(), r.rule.Match, r.rule.Name)
	}
	st.Key = r.rule.Key
	for _, s := range st.Shards {
		var page []string
		for _, i := range schemas[s].pageBy {
			page = append(page, schemas[s].cols[i].Source)
		}
		st.PageBy = append(st.PageBy, page)
	}
	cols, err := unify(schemas, st.Shards)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", r.rule.Name, err)
	}

	// The positions: before the first chunk of any shard.
	var texts []string
	for _, src := range r.sources() {
		db, err := r.db(src)
		if err != nil {
			return nil, err
		}
		p, err := readPosition(ctx, db)
		switch {
		case errors.Is(err, errNoBinlog) && offsetOrdered(o.Config):
			continue
		case err != nil:
			return nil, fmt.Errorf("source %s: %w", src, err)
		}
		st.Positions[src] = p
		if !offsetOrdered(o.Config) {
			if st.Stamps[src], err = stampFor(p); err != nil {
				return nil, fmt.Errorf("source %s: %w", src, err)
			}
			texts = append(texts, src+"="+p.String())
		}
	}
	if offsetOrdered(o.Config) {
		stamp, err := OffsetStamp(o.Position)
		if err != nil {
			return nil, err
		}
		for _, src := range r.sources() {
			st.Stamps[src] = stamp
		}
		st.Position = o.Position
		if st.Position == "" {
			st.Position = "start"
		}
	} else if len(texts) == 1 {
		st.Position = strings.TrimPrefix(texts[0], r.sources()[0]+"=")
	} else {
		st.Position = strings.Join(texts, ",")
	}

	sv, err := ensureCatalog(ctx, o.Store, r.rule, st.Key, cols, "snapshot from "+strings.Join(r.sources(), ", "), o.Now())
	if err != nil {
		return nil, err
	}
	st.SchemaVersion = sv.Version
	b2, err := warehouse.Marshal(st)
	if err != nil {
		return nil, err
	}
	if err := o.Store.PutIfAbsent(ctx, stateKey(o.Table), b2); err != nil {
		if errors.Is(err, storage.ErrExists) {
			return nil, fmt.Errorf("another snapshot of %s started meanwhile (%s)", o.Table, stateKey(o.Table))
		}
		return nil, fmt.Errorf("write %s: %w", stateKey(o.Table), err)
	}
	o.Log.Info("snapshot started", "table", o.Table, "date", st.Date, "shards", len(st.Shards), "position", st.Position, "schema_version", st.SchemaVersion)
	return st, nil
}

// copyShard reads a shard's remaining chunks and returns all its staged
// files.
func (r *runner) copyShard(ctx context.Context, i int) ([]merge.StagedFile, error) {
	o := &r.o
	s := r.st.Shards[i]
	done, err := readProgress(ctx, o.Store, o.Table, i)
	if err != nil {
		return nil, err
	}
	var files []merge.StagedFile
	var last []keyValue
	finished := false
	for n, p := range done {
		if p.Rows > 0 {
			files = append(files, merge.StagedFile{Key: chunkKey(o.Table, i, n, "parquet"), Rows: p.Rows, Bytes: p.Bytes})
		}
		last, finished = p.Last, p.Done
		r.addChunk(p, true)
	}
	if finished {
		r.shardDone()
		return files, nil
	}
	db, err := r.db(s.Source)
	if err != nil {
		return nil, err
	}
	rd, err := newChunkReader(ctx, db, s, r.rule, r.st.PageBy[i], r.cols, o.ChunkRows)
	if err != nil {
		return nil, err
	}
	defer rd.close()
	w := &stager{table: o.Table, cols: r.cols, version: r.st.SchemaVersion, db: s.DB, tbl: s.Table, stamp: r.st.Stamps[s.Source], zstd: r.zstd}
	for n := len(done); ; n++ {
		if r.lim != nil {
			if err := r.lim.WaitN(ctx, o.ChunkRows); err != nil {
				return nil, err
			}
		}
		rows, err := rd.read(ctx, last)
		if err != nil {
			return nil, fmt.Errorf("chunk %d: %w", n, err)
		}
		p := progress{FormatVersion: warehouse.FormatVersion, Rows: int64(len(rows)), Done: len(rows) < o.ChunkRows, Last: last}
		if len(rows) > 0 {
			key := chunkKey(o.Table, i, n, "parquet")
			body, err := w.write(rows, nil)
			if err != nil {
				return nil, fmt.Errorf("chunk %d: %w", n, err)
			}
			if err := o.Store.Put(ctx, key, bytes.NewReader(body)); err != nil {
				return nil, fmt.Errorf("write %s: %w", key, err)
			}
			p.Bytes, p.ZeroDates = int64(len(body)), rd.takeZeroDates()
			p.Last = rd.lastKey()
			files = append(files, merge.StagedFile{Key: key, Rows: p.Rows, Bytes: p.Bytes})
		}
		b, err := warehouse.Marshal(p)
		if err != nil {
			return nil, err
		}
		if err := o.Store.Put(ctx, chunkKey(o.Table, i, n, "json"), bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("write %s: %w", chunkKey(o.Table, i, n, "json"), err)
		}
		r.addChunk(p, false)
		if p.Done {
			r.shardDone()
			return files, nil
		}
		last = p.Last
	}
}

func (r *runner) addChunk(p progress, resumed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Rows += p.Rows
	r.sum.Chunks++
	if resumed {
		r.sum.Resumed++
	} else {
		r.progRows += p.Rows
	}
	for c, n := range p.ZeroDates {
		r.sum.ZeroDates[c] += n
	}
	r.report()
}

func (r *runner) shardDone() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prog.ShardsDone++
	r.report()
}

// report calls Progress; r.mu is held.
func (r *runner) report() {
	r.prog.Rows, r.prog.Chunks = r.sum.Rows, r.sum.Chunks
	if el := time.Since(r.started).Seconds(); el > 0 {
		r.prog.RowsPerSec = float64(r.progRows) / el
	}
	if r.prog.RowsGuessed > r.prog.Rows && r.prog.RowsPerSec > 0 {
		r.prog.ETA = time.Duration(float64(r.prog.RowsGuessed-r.prog.Rows) / r.prog.RowsPerSec * float64(time.Second))
	}
	if r.o.Progress != nil {
		r.o.Progress(r.prog)
	}
}

// stager writes one chunk's rows as a staged Parquet file: _op, _pos,
// _source_db, _source_table, then the schema version's columns.
type stager struct {
	table   string
	cols    []column
	version int
	db, tbl string
	stamp   warehouse.Pos
	zstd    *pagezstd.Codec
}

func (w *stager) fields() []warehouse.Field {
	fields := []warehouse.Field{
		{Name: warehouse.ColOp, Node: parquet.String()},
		{Name: warehouse.ColPos, Node: warehouse.PosNode()},
		{Name: warehouse.ColSourceDB, Node: parquet.String()},
		{Name: warehouse.ColSourceTable, Node: parquet.String()},
	}
	for _, c := range w.cols {
		n, _ := schema.ParquetNode(c.Type)
		fields = append(fields, warehouse.Field{Name: c.Name, Node: n})
	}
	return fields
}

// write encodes rows (values of w.cols, NULL for a column the shard
// lacks), of physical tables srcs[i] (nil: all of w.db.w.tbl).
func (w *stager) write(rows [][]schema.Value, srcs []srcTable) ([]byte, error) {
	var buf bytes.Buffer
	pw := parquet.NewWriter(&buf, warehouse.FileSchema(w.fields()),
		parquet.Compression(w.zstd),
		parquet.KeyValueMetadata(warehouse.MetaSchemaVersion, fmt.Sprint(w.version)),
		parquet.KeyValueMetadata(warehouse.MetaTable, w.table))
	pos := w.stamp.Decimal()
	meta := []parquet.Value{
		parquet.ByteArrayValue([]byte("insert")).Level(0, 0, 0),
		parquet.FixedLenByteArrayValue(pos[:]).Level(0, 0, 1),
		parquet.ByteArrayValue([]byte(w.db)).Level(0, 0, 2),
		parquet.ByteArrayValue([]byte(w.tbl)).Level(0, 0, 3),
	}
	var scratch []byte
	out := make([]parquet.Row, 0, 256)
	flush := func() error {
		if _, err := pw.WriteRows(out); err != nil {
			return err
		}
		out, scratch = out[:0], scratch[:0]
		return nil
	}
	for r, row := range rows {
		pr := make(parquet.Row, 0, 4+len(w.cols))
		pr = append(pr, meta...)
		if srcs != nil {
			pr[2] = parquet.ByteArrayValue([]byte(srcs[r].db)).Level(0, 0, 2)
			pr[3] = parquet.ByteArrayValue([]byte(srcs[r].table)).Level(0, 0, 3)
		}
		for i, v := range row {
			var pv parquet.Value
			var err error
			pv, scratch, err = schema.AppendParquetValue(scratch, v, w.cols[i].Type, 4+i)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", w.cols[i].Name, err)
			}
			pr = append(pr, pv)
		}
		out = append(out, pr)
		if len(out) == cap(out) {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if err := pw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
