package snapshot

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/internal/pagezstd"
	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// ImportOptions say which existing export to publish as a table's first
// snapshot (binlake snapshot --from-files).
type ImportOptions struct {
	Store storage.Store
	// Config gives the table rule, kafka.format (which decides how
	// Position reads), the sources (for the schema) and the merge
	// settings.
	Config *config.Config
	Table  string
	// Date is the day published (default: yesterday, as for Run).
	Date warehouse.Date
	// Files are local Parquet (.parquet) or CSV (.csv, with a header
	// line) files, all of the table's columns by their source or output
	// names; columns _source_db and _source_table, when present, say
	// which physical table each row is of.
	Files []string
	// Position is where the export stands in the change stream
	// (DESIGN.md §4): FILE:POS for the binlog-positioned formats, start
	// or TOPIC/PARTITION:OFFSET,… for canal and rowjson. Required.
	Position string
	// Source is the physical table ("db.table") of rows whose file has
	// no _source_db and _source_table columns.
	Source string
	Log    *slog.Logger
	Now    func() time.Time
}

// importBatch is the most rows of one staged file.
const importBatch = 50_000

// Import publishes existing files as snapshot dt=o.Date, kind "import":
// the schema comes from the sources' information_schema when the
// configuration has sources, else from the table's catalog; every row is
// coerced to it (DESIGN.md §7) and stamped with the declared position;
// the rows are staged under snapshot/<table>/_import-<run>/ and published
// through merge.Bootstrap (key-sorted, deduplicated by key: of two rows
// with one key the later file's, then the later row, is kept). An
// interrupted import is run again from the start; its staged files are
// removed either way.
func Import(ctx context.Context, o ImportOptions) (*Summary, error) {
	so := Options{Store: o.Store, Config: o.Config, Table: o.Table, Date: o.Date, Log: o.Log, Now: o.Now}
	so.ensureDefaults()
	rule, err := so.validate()
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if len(o.Files) == 0 {
		return nil, errors.New("import: no files")
	}
	var stamp warehouse.Pos
	switch {
	case o.Position == "":
		return nil, errors.New("import: --position is required with --from-files: where the export stands in the change stream (FILE:POS, or start / TOPIC/PARTITION:OFFSET,… for canal and rowjson)")
	case offsetOrdered(o.Config):
		stamp, err = OffsetStamp(o.Position)
	default:
		stamp, err = filePosStamp(o.Position)
	}
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	var src srcTable
	if o.Source != "" {
		db, table, ok := strings.Cut(o.Source, ".")
		if !ok || db == "" || table == "" {
			return nil, fmt.Errorf("import: --source %q: want DB.TABLE", o.Source)
		}
		src = srcTable{db, table}
	}
	start := time.Now()
	r := &runner{o: so, rule: rule, dbs: map[string]*sql.DB{}, zstd: pagezstd.New(runtime.GOMAXPROCS(0))}
	defer r.close()
	cols, err := r.importSchema(ctx)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", o.Table, err)
	}
	runID := newRunID("import", so.Now())
	prefix := fmt.Sprintf("%s_import-%s/", warehouse.SnapshotTableDir(o.Table), runID)
	sum := &Summary{Table: o.Table, Date: so.Date.String(), RunID: runID, Position: o.Position, ZeroDates: map[string]int64{}}
	im := &importer{o: &o, rule: rule, cols: cols, src: src, sum: sum, prefix: prefix,
		w: &stager{table: o.Table, cols: cols.cols, version: cols.version, stamp: stamp, zstd: r.zstd}}
	defer func() {
		_ = removePrefix(context.WithoutCancel(ctx), o.Store, prefix)
	}()
	for _, f := range o.Files {
		if err := im.file(ctx, f); err != nil {
			return sum, fmt.Errorf("import %s: %s: %w", o.Table, f, err)
		}
	}
	if err := im.flush(ctx); err != nil {
		return sum, fmt.Errorf("import %s: %w", o.Table, err)
	}
	mo := merge.ConfigOptions(o.Config, *rule)
	mo.Store, mo.Date, mo.Log, mo.RunID, mo.Now = o.Store, so.Date, so.Log, runID, so.Now
	ms, err := merge.Bootstrap(ctx, mo, merge.BootstrapInput{Kind: merge.KindImport, Files: im.staged, Position: o.Position,
		Stats: map[string]int64{"import_rows": sum.Rows, "import_files": int64(len(o.Files))}})
	if err != nil {
		return sum, fmt.Errorf("import %s: %w", o.Table, err)
	}
	sum.Files, sum.Rows = ms.FilesWritten, ms.RowsOut
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.RowsPerSec = float64(sum.Rows) / sum.Seconds
	}
	return sum, nil
}

// filePosStamp parses FILE:POS.
func filePosStamp(s string) (warehouse.Pos, error) {
	file, pos, ok := strings.Cut(s, ":")
	var p BinlogPosition
	if ok {
		p.File = file
		_, err := fmt.Sscan(pos, &p.Pos)
		ok = err == nil
	}
	if !ok {
		return warehouse.Pos{}, fmt.Errorf("--position %q: want FILE:POS, such as mysql-bin.000042:1534 (a GTID set cannot be turned into a position)", s)
	}
	return stampFor(p)
}

// importCols is the schema an import coerces to.
type importCols struct {
	version int
	cols    []column
}

// importSchema is the sources' schema (written to the catalog as a
// snapshot does) when there are sources, else the catalog's latest.
func (r *runner) importSchema(ctx context.Context) (*importCols, error) {
	o := &r.o
	if len(o.Config.Sources) > 0 {
		schemas, order, err := r.discoverAll(ctx)
		if err != nil {
			return nil, err
		}
		if len(order) > 0 {
			cols, err := unify(schemas, order)
			if err != nil {
				return nil, err
			}
			sv, err := ensureCatalog(ctx, o.Store, r.rule, r.rule.Key, cols, "import, schema from "+strings.Join(r.sources(), ", "), o.Now())
			if err != nil {
				return nil, err
			}
			return versionCols(sv)
		}
	}
	versions, err := readVersions(ctx, o.Store, o.Table)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("no schema for table %s: no physical table of it on the sources and no version in %s", o.Table, warehouse.CatalogVersionDir(o.Table))
	}
	return versionCols(&versions[len(versions)-1])
}

func versionCols(sv *warehouse.SchemaVersion) (*importCols, error) {
	types, err := sv.Types()
	if err != nil {
		return nil, err
	}
	ic := &importCols{version: sv.Version}
	for i, c := range sv.Columns {
		ic.cols = append(ic.cols, column{Name: c.Name, Type: types[i]})
	}
	return ic, nil
}

// importer stages the rows of the files.
type importer struct {
	o      *ImportOptions
	rule   *config.Table
	cols   *importCols
	src    srcTable
	sum    *Summary
	prefix string
	w      *stager
	rows   [][]schema.Value
	srcs   []srcTable
	staged []merge.StagedFile
}

// mapping finds, for each file column name, its index in the schema
// (through the column rules; -1: not a column of it) and the source
// columns.
func (im *importer) mapping(names []string) (idx []int, dbCol, tableCol int, err error) {
	dbCol, tableCol = -1, -1
	found := make([]bool, len(im.cols.cols))
	for i, n := range names {
		switch n {
		case warehouse.ColSourceDB:
			dbCol = i
			idx = append(idx, -1)
			continue
		case warehouse.ColSourceTable:
			tableCol = i
			idx = append(idx, -1)
			continue
		}
		out, keep := im.rule.Columns.Name(n)
		j := slices.IndexFunc(im.cols.cols, func(c column) bool { return c.Name == out || c.Name == n })
		if !keep || j < 0 {
			if strings.HasPrefix(n, "_") {
				idx = append(idx, -1) // bookkeeping of another binlake table
				continue
			}
			return nil, 0, 0, fmt.Errorf("column %s is not a column of table %s (schema version %d)", n, im.o.Table, im.cols.version)
		}
		found[j] = true
		idx = append(idx, j)
	}
	for _, k := range im.rule.Key {
		j := slices.IndexFunc(im.cols.cols, func(c column) bool { return c.Name == k })
		if j < 0 || !found[j] {
			return nil, 0, 0, fmt.Errorf("no key column %s", k)
		}
	}
	if (dbCol < 0 || tableCol < 0) && im.src.db == "" {
		return nil, 0, 0, errors.New("no _source_db and _source_table columns: say with --source DB.TABLE which physical table the rows are of")
	}
	return idx, dbCol, tableCol, nil
}

// add coerces and buffers one row.
func (im *importer) add(ctx context.Context, vals []schema.Value, src srcTable, line int) error {
	for i, c := range im.cols.cols {
		v, zero, err := schema.Coerce(vals[i], c.Type, schema.CoerceOptions{})
		if err != nil {
			return fmt.Errorf("row %d column %s: %w", line, c.Name, err)
		}
		if zero {
			im.sum.ZeroDates[c.Name]++
		}
		vals[i] = v
	}
	for _, k := range im.rule.Key {
		j := slices.IndexFunc(im.cols.cols, func(c column) bool { return c.Name == k })
		if vals[j].IsNull() {
			return fmt.Errorf("row %d: key column %s is NULL", line, k)
		}
	}
	im.rows = append(im.rows, vals)
	im.srcs = append(im.srcs, src)
	im.sum.Rows++
	if len(im.rows) >= importBatch {
		return im.flush(ctx)
	}
	return nil
}

// flush stages the buffered rows as one file.
func (im *importer) flush(ctx context.Context) error {
	if len(im.rows) == 0 {
		return nil
	}
	body, err := im.w.write(im.rows, im.srcs)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("%spart-%06d.parquet", im.prefix, len(im.staged))
	if err := im.o.Store.Put(ctx, key, bytes.NewReader(body)); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	im.staged = append(im.staged, merge.StagedFile{Key: key, Rows: int64(len(im.rows)), Bytes: int64(len(body))})
	im.sum.Chunks++
	im.rows, im.srcs = nil, nil
	return nil
}

func (im *importer) file(ctx context.Context, name string) error {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".parquet":
		return im.parquetFile(ctx, name)
	case ".csv":
		return im.csvFile(ctx, name)
	}
	return errors.New("not a .parquet or .csv file")
}

func (im *importer) parquetFile(ctx context.Context, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return err
	}
	var names []string
	var types []parquet.Type
	for _, p := range pf.Schema().Columns() {
		if len(p) != 1 {
			return fmt.Errorf("nested column %s: only flat files can be imported", strings.Join(p, "."))
		}
		leaf, _ := pf.Schema().Lookup(p...)
		names = append(names, p[0])
		types = append(types, leaf.Node.Type())
	}
	idx, dbCol, tableCol, err := im.mapping(names)
	if err != nil {
		return err
	}
	buf := make([]parquet.Row, 256)
	line := 0
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		for {
			n, rerr := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				line++
				vals := make([]schema.Value, len(im.cols.cols))
				src := im.src
				for _, pv := range row {
					c := pv.Column()
					switch {
					case c == dbCol && !pv.IsNull():
						src.db = string(pv.ByteArray())
					case c == tableCol && !pv.IsNull():
						src.table = string(pv.ByteArray())
					case idx[c] >= 0:
						v, err := fileValue(pv, types[c])
						if err != nil {
							rows.Close()
							return fmt.Errorf("row %d column %s: %w", line, names[c], err)
						}
						vals[idx[c]] = v
					}
				}
				if err := im.add(ctx, vals, src, line); err != nil {
					rows.Close()
					return err
				}
			}
			if errors.Is(rerr, io.EOF) {
				break
			}
			if rerr != nil {
				rows.Close()
				return rerr
			}
		}
		rows.Close()
	}
	return nil
}

func (im *importer) csvFile(ctx context.Context, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	idx, dbCol, tableCol, err := im.mapping(header)
	if err != nil {
		return err
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		vals := make([]schema.Value, len(im.cols.cols))
		src := im.src
		for i, field := range rec {
			switch {
			case i == dbCol:
				src.db = field
			case i == tableCol:
				src.table = field
			case idx[i] >= 0:
				vals[idx[i]] = csvValue(field, im.cols.cols[idx[i]].Type)
			}
		}
		if err := im.add(ctx, vals, src, line); err != nil {
			return err
		}
	}
}

// removePrefix removes every object under prefix.
func removePrefix(ctx context.Context, st storage.Store, prefix string) error {
	var keys []string
	if err := st.List(ctx, prefix, func(o storage.Object) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := st.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}
