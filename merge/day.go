package merge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"

	"golang.org/x/sync/errgroup"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/internal/pagezstd"
	"github.com/binlake/binlake/warehouse"
)

// keyNames is Manifest.Key for a table rule.
func keyNames(includeSource bool, key []string) []string {
	var names []string
	if includeSource {
		names = append(names, warehouse.ColSourceDB, warehouse.ColSourceTable)
	}
	return append(names, key...)
}

// merge builds the new day's files and returns its manifest, not yet
// published.
func (r *run) merge(ctx context.Context, base, prev *warehouse.Manifest) (*warehouse.Manifest, error) {
	o := &r.o
	var err error
	r.cat, err = loadCatalog(ctx, o.Store, o.Table.Name, o.Table.Key, o.Table.KeyIncludesSource, o.IntegerEncoding == config.IntegerDelta)
	if err != nil {
		return nil, err
	}
	wantKey := keyNames(o.Table.KeyIncludesSource, o.Table.Key)
	baseVersion := 0
	baseMerged := map[string]int64{}
	if base != nil {
		r.sum.Base = base.Date
		baseVersion = base.SchemaVersion
		if baseVersion > 0 {
			r.cat.add(baseVersion, base.Columns)
		}
		if len(base.Key) > 0 && !slices.Equal(base.Key, wantKey) {
			return nil, fmt.Errorf("the key is %v in the configuration but %v in snapshot dt=%s: a key change needs a new snapshot (binlake snapshot --table %s)", wantKey, base.Key, base.Date, o.Table.Name)
		}
		for p, s := range base.Merged {
			baseMerged[p] = s
		}
		r.sum.RowsIn = base.Rows
	}
	var reuse map[string]int64
	if prev != nil {
		reuse = map[string]int64{}
		for p, s := range prev.Merged {
			reuse[p] = s
		}
	}
	var plan *changePlan
	if r.boot != nil {
		plan = r.bootPlan()
	} else if plan, err = planChanges(ctx, o.Store, o.CommitCache, o.Table.Name, o.Date, o.Zone, baseMerged, reuse); err != nil {
		return nil, err
	}
	r.sum.BinlogFiles, r.sum.Commits = len(plan.files), plan.commitsRead
	merged := plan.merged
	for p, s := range baseMerged {
		if merged[p] < s {
			merged[p] = s
		}
	}
	if reuse != nil {
		for p, s := range merged {
			if _, ok := reuse[p]; !ok && s == 0 {
				delete(merged, p)
			}
		}
	}
	r.sum.Merged = merged

	// The output schema: the newest version among the base and the
	// applied files, so a re-run with the same inputs has the same one.
	version := baseVersion
	versions, err := r.fileVersions(ctx, plan.files)
	if err != nil {
		return nil, err
	}
	for _, v := range versions {
		version = max(version, v)
	}
	if version == 0 {
		version = r.cat.latest()
	}
	m := &warehouse.Manifest{
		FormatVersion: warehouse.FormatVersion, Table: o.Table.Name, Date: o.Date.String(),
		CreatedAt: o.Now().UTC(), RunID: o.RunID, Kind: "merge", Key: wantKey,
		TombstoneDays: o.TombstoneDays, Merged: merged,
	}
	if base != nil {
		m.Base = base.Date
	}
	if version == 0 {
		// Nothing was ever known about this table: an empty day.
		if len(plan.files) > 0 || (base != nil && base.Rows > 0) {
			return nil, fmt.Errorf("no schema version for table %s in %s", o.Table.Name, warehouse.CatalogVersionDir(o.Table.Name))
		}
		m.Stats = r.sum.stats()
		if r.boot != nil {
			r.bootManifest(m)
		}
		return m, nil
	}
	if r.out, err = r.cat.layout(version); err != nil {
		return nil, err
	}
	m.SchemaVersion, m.Columns = version, r.out.cols
	r.baseLayout = r.out
	if base != nil && baseVersion > 0 {
		if r.baseLayout, err = r.cat.layout(baseVersion); err != nil {
			return nil, err
		}
	}
	reencodeAll := !r.out.sameAs(r.baseLayout)

	// What the base keeps of tombstones and TRUNCATEs.
	var tombFiles, truncFiles []warehouse.ManifestFile
	if base != nil {
		for _, f := range base.Tombstones {
			n, ok := warehouse.ParseSnapshotName(path.Base(f.Key))
			if !ok || (n.Prefix != warehouse.TombstonePrefix && n.Prefix != warehouse.TruncatesPrefix) {
				return nil, fmt.Errorf("snapshot dt=%s: unknown tombstone file %s", base.Date, f.Key)
			}
			if daysBetween(n.Deleted, o.Date) >= o.TombstoneDays {
				continue // expired
			}
			if n.Prefix == warehouse.TombstonePrefix {
				tombFiles = append(tombFiles, f)
			} else {
				truncFiles = append(truncFiles, f)
			}
		}
	}
	oldTruncs, err := readTruncates(ctx, o.Store, truncFiles)
	if err != nil {
		return nil, err
	}
	tombs, err := r.openTombstones(ctx, tombFiles, baseVersion)
	if err != nil {
		return nil, err
	}
	defer tombs.close()
	files, err := r.baseFiles(ctx, base)
	if err != nil {
		return nil, err
	}

	// The changes, sorted. They get an eighth of the budget: the peak
	// memory of a merge is this share plus what writing needs (row groups
	// of the base and the output, compressors: about 150 MiB on the merge
	// benchmark), and the share goes straight into the peak,
	// while what it saves beyond an eighth is small: each doubling halves
	// the number of spill runs but spills hardly fewer bytes (all but the
	// last arena's), so a day of changes far beyond the share costs
	// about the same either way.
	srt := newSorter(r.tmp, o.MemoryBudget/8)
	var total int64
	for _, f := range plan.files {
		total += f.rows
	}
	srt.reserve(total)
	newTruncs, cst, err := r.readChanges(ctx, plan.files, srt)
	if err != nil {
		// Spills in flight write into r.tmp, which the run removes: they
		// end first. The read's error is the one to report.
		_ = srt.wait()
		return nil, err
	}
	r.sum.Changes, r.sum.BytesRead = cst.rows, cst.bytes
	sorted, err := srt.iterate()
	if err != nil {
		return nil, err
	}
	iter := prefetch(sorted)
	defer iter.close()
	r.sum.SpillRuns, r.sum.SpillBytes = len(srt.runs), srt.spillBytes
	o.Log.Info("changes read", "table", o.Table.Name, "files", len(plan.files), "rows", cst.rows, "spill_runs", len(srt.runs))

	sortTruncates(newTruncs)
	all := map[srcTable][]byte{}
	fresh := map[srcTable][]byte{}
	for i, t := range slices.Concat(oldTruncs, newTruncs) {
		p := t.Pos.Decimal()
		k := srcTable{t.SourceDB, t.SourceTable}
		if cur, ok := all[k]; !ok || bytes.Compare(p[:], cur) > 0 {
			all[k] = p[:]
		}
		if i >= len(oldTruncs) {
			if cur, ok := fresh[k]; !ok || bytes.Compare(p[:], cur) > 0 {
				fresh[k] = p[:]
			}
		}
	}

	// Merge.
	meta := [][2]string{{warehouse.MetaTable, o.Table.Name}, {warehouse.MetaSchemaVersion, strconv.Itoa(version)}}
	// One codec for both sinks: its encoders are kept for the pages the
	// column goroutines and the tombstone writer compress at once.
	zstd := pagezstd.New(o.Parallelism + 1)
	dataSink := newFileSink(ctx, o.Store, r.dir, func(n int) string { return warehouse.SnapshotDataName(r.gen, n) }, r.out.schema, meta, o.FileSize, zstd)
	tombSchema := warehouse.FileSchema(r.out.tombstoneFields())
	tombSink := newFileSink(ctx, o.Store, r.dir, func(n int) string { return warehouse.TombstoneName(o.Date, r.gen, n) }, tombSchema,
		append(slices.Clone(meta), [2]string{warehouse.MetaDeletedOn, o.Date.String()}), o.FileSize, zstd)
	defer func() {
		for _, k := range slices.Concat(dataSink.keys, tombSink.keys) {
			r.track(k)
		}
	}()
	mctx, mcancel := context.WithCancelCause(ctx)
	defer mcancel(nil)
	mg := &merger{
		r: r, out: r.out, codec: newRowCodec(r.out), sum: r.sum, delta: iter, tombs: tombs,
		truncs: all, newTruncs: fresh, ctx: mctx,
		tasks: make(chan task, queuedTasks), slots: make(chan struct{}, 1), free: make(chan *chunk, 2),
		tw:        &tombWriter{sink: tombSink, out: r.out, day: int32(daysSinceEpoch(o.Date)), max: o.RowGroupRows},
		stampBase: base != nil && (base.Kind == KindBootstrap || base.Kind == KindImport),
	}
	mg.rgRows = rowGroupRows(o, base, plan)
	mg.tw.max = mg.rgRows
	cons := &consumer{out: r.out, sink: dataSink, par: o.Parallelism, slots: mg.slots, free: mg.free, cancel: mcancel}
	var cerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		cerr = cons.run(mctx, mg.tasks)
	}()
	perr := mg.mergeFiles(files, reencodeAll)
	if perr != nil {
		// The consumer drops what is queued instead of writing it.
		mcancel(perr)
	}
	close(mg.tasks)
	<-done
	for _, pf := range mg.toClose {
		pf.close()
	}
	if perr == nil {
		perr = mg.tw.endRowGroup()
	}
	if err := errors.Join(cerr, perr); err != nil {
		dataSink.abort()
		tombSink.abort()
		if cerr != nil {
			return nil, cerr
		}
		return nil, perr
	}
	// The sinks finish at once: the store syncs their last files
	// together.
	tombDone := make(chan error, 1)
	go func() { tombDone <- tombSink.close() }()
	if err := errors.Join(dataSink.close(), <-tombDone); err != nil {
		return nil, err
	}

	// Tombstones and TRUNCATEs: today's, and the base's that are kept.
	var tombOut []warehouse.ManifestFile
	carrySink := newFileSink(ctx, o.Store, r.dir, nil, nil, nil, 0, nil)
	for _, f := range slices.Concat(tombFiles, truncFiles) {
		n, _ := warehouse.ParseSnapshotName(path.Base(f.Key))
		name := warehouse.TombstoneName(n.Deleted, r.gen, n.N)
		if n.Prefix == warehouse.TruncatesPrefix {
			name = warehouse.TruncatesName(n.Deleted, r.gen)
		}
		carrySink.name = func(int) string { return name }
		if err := carrySink.carry(f); err != nil {
			return nil, err
		}
	}
	err = carrySink.close()
	for _, k := range carrySink.keys {
		r.track(k)
	}
	if err != nil {
		return nil, err
	}
	tombOut = append(tombOut, carrySink.files...)
	tombOut = append(tombOut, tombSink.files...)
	if len(newTruncs) > 0 {
		key := r.dir + warehouse.TruncatesName(o.Date, r.gen)
		b, err := warehouse.Marshal(&warehouse.Truncates{FormatVersion: warehouse.FormatVersion, Table: o.Table.Name, Deleted: o.Date.String(), Truncates: newTruncs})
		if err != nil {
			return nil, err
		}
		r.track(key)
		if err := o.Store.Put(ctx, key, bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("write %s: %w", key, err)
		}
		tombOut = append(tombOut, warehouse.ManifestFile{Key: key, Rows: int64(len(newTruncs)), Bytes: int64(len(b))})
	}
	sort.SliceStable(tombOut, func(i, j int) bool { return tombOut[i].Key < tombOut[j].Key })

	m.Files = dataSink.files
	m.Tombstones = tombOut
	for _, f := range m.Files {
		m.Rows += f.Rows
	}
	for _, f := range tombOut {
		if n, ok := warehouse.ParseSnapshotName(path.Base(f.Key)); ok && n.Prefix == warehouse.TombstonePrefix {
			r.sum.TombstonesKept += f.Rows
		}
	}
	r.sum.RowsOut = m.Rows
	r.sum.FilesWritten = dataSink.nWritten
	r.sum.FilesCarried = dataSink.nCarry
	r.sum.BytesWritten = dataSink.written + tombSink.written
	r.sum.BytesCarried = dataSink.carried
	m.Stats = r.sum.stats()
	if r.boot != nil {
		r.bootManifest(m)
	}
	return m, nil
}

// fileVersions reads the schema version of every binlog file (downloads
// are kept for readChanges).
func (r *run) fileVersions(ctx context.Context, files []binlogFile) ([]int, error) {
	out := make([]int, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(r.o.Parallelism, 8))
	for i, f := range files {
		g.Go(func() error {
			pf, err := openParquetCached(gctx, r.o.Store, f.key, r.tmp, &r.dl, true)
			if err != nil {
				return err
			}
			defer pf.close()
			out[i] = pf.schemaVersion(0)
			return nil
		})
	}
	return out, g.Wait()
}

// baseFiles returns the base's data files with their key ranges, opening
// files whose manifest entry has none.
func (r *run) baseFiles(ctx context.Context, base *warehouse.Manifest) ([]baseFile, error) {
	if base == nil {
		return nil, nil
	}
	var files []baseFile
	for _, f := range base.Files {
		if f.Rows == 0 {
			continue
		}
		bf := baseFile{mf: f}
		lo, ok1 := keyFromText(nil, r.out.keys, f.MinKey)
		hi, ok2 := keyFromText(nil, r.out.keys, f.MaxKey)
		if ok1 && ok2 {
			bf.min, bf.max = lo, hi
		} else {
			pf, err := openParquet(ctx, r.o.Store, f.Key, r.tmp)
			if err != nil {
				return nil, err
			}
			fc := fileColumns(pf, r.baseLayout.cols, r.baseLayout.types)
			bounds, err := rowGroupBounds(pf, fc, r.out)
			pf.close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Key, err)
			}
			if len(bounds) == 0 {
				continue
			}
			bf.min, bf.max = bounds[0][0], bounds[len(bounds)-1][1]
		}
		files = append(files, bf)
	}
	for i := 1; i < len(files); i++ {
		if bytes.Compare(files[i-1].max, files[i].min) >= 0 {
			return nil, fmt.Errorf("snapshot dt=%s: files %s and %s overlap or are out of key order", base.Date, files[i-1].mf.Key, files[i].mf.Key)
		}
	}
	return files, nil
}

func sortTruncates(ts []warehouse.Truncate) {
	sort.Slice(ts, func(i, j int) bool {
		a, b := ts[i], ts[j]
		if a.SourceDB != b.SourceDB {
			return a.SourceDB < b.SourceDB
		}
		if a.SourceTable != b.SourceTable {
			return a.SourceTable < b.SourceTable
		}
		return a.Pos.Compare(b.Pos) < 0
	})
}

func daysSinceEpoch(d warehouse.Date) int {
	return daysBetween(warehouse.Date{Year: 1970, Month: 1, Day: 1}, d)
}

// rowGroupRows is how many rows a rewritten row group holds at most:
// RowGroupRows, or fewer if a quarter of FileSize holds fewer rows (by
// the bytes per row of the base, or else of the changes), so that a file
// ends close to FileSize. It depends only on the inputs, so a re-run cuts
// the same row groups.
func rowGroupRows(o *Options, base *warehouse.Manifest, plan *changePlan) int {
	var bytes, rows int64
	if base != nil {
		for _, f := range base.Files {
			bytes, rows = bytes+f.Bytes, rows+f.Rows
		}
	}
	if rows == 0 {
		for _, f := range plan.files {
			bytes, rows = bytes+f.bytes, rows+f.rows
		}
	}
	n := o.RowGroupRows
	if rows > 0 && bytes > 0 {
		perRow := max(bytes/rows, 1)
		n = int(min(int64(n), max(o.FileSize/4/perRow, 1)))
	}
	return n
}
