// Package fakeingest writes what binlake ingest writes — catalog schema
// versions, binlog Parquet files in the ingest layout, commit records and
// hour ready markers — without Kafka, for merge's tests and benchmark.
//
// Binlog files have ingest's columns (warehouse.BinlogMetaFields, then the
// data columns of the schema version, all optional), its key-value
// metadata and its zstd compression; commit records number each
// partition's commits 1, 2, … and account for contiguous offsets.
package fakeingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// Warehouse writes one table's ingest output into a store.
type Warehouse struct {
	Store storage.Store
	Table string
	Topic string
	// Now stamps commit records (CommittedAt); nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	versions map[int]*warehouse.SchemaVersion
	types    map[int][]schema.Type
	seq      map[int32]int64
	offset   map[int32]int64
	maxEvent map[int32]time.Time
}

// New returns a writer for table, with Kafka topic topic.
func New(st storage.Store, table, topic string) *Warehouse {
	return &Warehouse{Store: st, Table: table, Topic: topic,
		versions: map[int]*warehouse.SchemaVersion{}, types: map[int][]schema.Type{},
		seq: map[int32]int64{}, offset: map[int32]int64{}, maxEvent: map[int32]time.Time{}}
}

// Schema creates schema version v with the columns name → MySQL type
// (given as "name type" pairs in order, e.g. "id", "int").
func (w *Warehouse) Schema(ctx context.Context, v int, nameType ...string) error {
	if len(nameType)%2 != 0 {
		return fmt.Errorf("Schema wants name, type pairs")
	}
	sv := &warehouse.SchemaVersion{FormatVersion: warehouse.FormatVersion, Version: v, Created: time.Unix(0, 0).UTC(), Reason: "fakeingest"}
	for i := 0; i < len(nameType); i += 2 {
		sv.Columns = append(sv.Columns, warehouse.CatalogColumn{Name: nameType[i], Type: nameType[i+1]})
	}
	types, err := sv.Types()
	if err != nil {
		return err
	}
	b, err := warehouse.Marshal(sv)
	if err != nil {
		return err
	}
	if err := w.Store.Put(ctx, warehouse.CatalogVersionKey(w.Table, v), bytes.NewReader(b)); err != nil {
		return err
	}
	w.mu.Lock()
	w.versions[v], w.types[v] = sv, types
	w.mu.Unlock()
	return nil
}

// Row is one change row.
type Row struct {
	Op    string // insert, update, delete, truncate
	Pos   warehouse.Pos
	Event time.Time
	DB    string
	Table string
	Late  bool
	// Values are the data columns of the file's schema version, in order;
	// missing trailing values are NULL. They are coerced to the column
	// types as ingest does.
	Values []schema.Value
	// Offset is the Kafka offset; 0 means the next one. Rows of one file
	// must have growing offsets.
	Offset int64
}

// File is one binlog file of a commit: the rows of one hour.
type File struct {
	Hour    warehouse.Hour
	Version int
	Rows    []Row
	// RowGroupRows, if positive, ends a row group every RowGroupRows
	// rows; ingest writes one row group per file.
	RowGroupRows int
	// PageRows, if positive, ends the pages of every column every
	// PageRows rows of a row group; else parquet-go ends them by size.
	PageRows int
	// PlainSource writes _source_db and _source_table PLAIN-encoded,
	// not dictionary-encoded as ingest does.
	PlainSource bool
}

// Commit writes the files of partition p and then their commit record,
// as one ingest run does. It returns the commit's sequence number. Commits
// of one partition may run concurrently: each reserves its sequence number
// and offsets first.
func (w *Warehouse) Commit(ctx context.Context, p int32, files ...File) (int64, error) {
	w.mu.Lock()
	seq := w.seq[p] + 1
	start := w.offset[p]
	next := start
	maxEvent := w.maxEvent[p]
	for fi := range files {
		f := &files[fi]
		for i := range f.Rows {
			if f.Rows[i].Offset == 0 {
				f.Rows[i].Offset = next
			}
			if f.Rows[i].Offset < next {
				w.mu.Unlock()
				return 0, fmt.Errorf("offset %d after %d: offsets must grow", f.Rows[i].Offset, next)
			}
			next = f.Rows[i].Offset + 1
			if f.Rows[i].Event.After(maxEvent) {
				maxEvent = f.Rows[i].Event
			}
		}
	}
	w.seq[p], w.offset[p], w.maxEvent[p] = seq, next, maxEvent
	w.mu.Unlock()
	c := warehouse.Commit{FormatVersion: warehouse.FormatVersion, Topic: w.Topic, Partition: p, Seq: seq,
		RunID: "fakeingest", StartOffset: start, EndOffset: next, Records: next - start, MaxEventTime: maxEvent.UTC()}
	for fi := range files {
		f := &files[fi]
		if len(f.Rows) == 0 {
			continue
		}
		first, last := f.Rows[0].Offset, f.Rows[len(f.Rows)-1].Offset
		key := warehouse.BinlogDir(w.Table, f.Hour) + fmt.Sprintf("%s-%d-%020d-%020d.parquet", w.Topic, p, first, last)
		n, err := w.writeFile(ctx, key, p, f)
		if err != nil {
			return 0, fmt.Errorf("write %s: %w", key, err)
		}
		late := int64(0)
		for _, r := range f.Rows {
			if r.Late {
				late++
			}
		}
		c.Files = append(c.Files, warehouse.CommitFile{Key: key, Table: w.Table, Hour: f.Hour.Path(), Rows: int64(len(f.Rows)),
			Bytes: n, FirstOffset: first, LastOffset: last, Late: late})
		c.Late += late
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	c.CommittedAt = now().UTC()
	b, err := warehouse.Marshal(&c)
	if err != nil {
		return 0, err
	}
	if err := w.Store.PutIfAbsent(ctx, warehouse.CommitKey(w.Topic, p, seq), b); err != nil {
		return 0, err
	}
	if err := warehouse.WriteCommitHead(ctx, w.Store, w.Topic, p, seq); err != nil {
		return 0, err
	}
	return seq, nil
}

// Replay writes what ingest --replay-date d writes for partition p: a
// replay commit whose files replace those of commit of (copied under new
// keys), after which the replaced files are deleted. It returns the
// replay commit's sequence number.
func (w *Warehouse) Replay(ctx context.Context, p int32, d warehouse.Date, of int64) (int64, error) {
	b, err := storage.ReadAll(ctx, w.Store, warehouse.CommitKey(w.Topic, p, of))
	if err != nil {
		return 0, err
	}
	var old warehouse.Commit
	if err := warehouse.Unmarshal("replayed commit", b, &old); err != nil {
		return 0, err
	}
	w.mu.Lock()
	seq := w.seq[p] + 1
	w.seq[p] = seq
	off, maxEvent := w.offset[p], w.maxEvent[p]
	w.mu.Unlock()
	c := warehouse.Commit{FormatVersion: warehouse.FormatVersion, Topic: w.Topic, Partition: p, Seq: seq,
		RunID: "fakeingest", StartOffset: off, EndOffset: off, MaxEventTime: maxEvent.UTC(), Replay: d.String()}
	for _, f := range old.Files {
		nf := f
		nf.Key = fmt.Sprintf("%s-r%d.parquet", strings.TrimSuffix(f.Key, ".parquet"), seq)
		if err := w.Store.Copy(ctx, f.Key, nf.Key); err != nil {
			return 0, fmt.Errorf("replay %s: %w", f.Key, err)
		}
		c.Files, c.Replaces = append(c.Files, nf), append(c.Replaces, f.Key)
		c.Replayed += f.Rows
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	c.CommittedAt = now().UTC()
	if b, err = warehouse.Marshal(&c); err != nil {
		return 0, err
	}
	if err := w.Store.PutIfAbsent(ctx, warehouse.CommitKey(w.Topic, p, seq), b); err != nil {
		return 0, err
	}
	if err := warehouse.WriteCommitHead(ctx, w.Store, w.Topic, p, seq); err != nil {
		return 0, err
	}
	for _, k := range c.Replaces {
		if err := w.Store.Delete(ctx, k); err != nil {
			return 0, fmt.Errorf("replay: delete %s: %w", k, err)
		}
	}
	return seq, nil
}

// Ready writes the ready markers of every hour of day d.
func (w *Warehouse) Ready(ctx context.Context, zone warehouse.Zone, d warehouse.Date) error {
	for _, s := range zone.Hours(d) {
		r := warehouse.Ready{FormatVersion: warehouse.FormatVersion, Hour: s.Hour.Path(), Start: s.Start.UTC(), End: s.End.UTC(),
			Grace: "15m0s", WrittenAt: time.Now().UTC(), RunID: "fakeingest"}
		b, err := warehouse.Marshal(&r)
		if err != nil {
			return err
		}
		if err := w.Store.Put(ctx, warehouse.ReadyKey(s.Hour), bytes.NewReader(b)); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes one binlog file as ingest does.
func (w *Warehouse) writeFile(ctx context.Context, key string, p int32, f *File) (int64, error) {
	w.mu.Lock()
	sv, types := w.versions[f.Version], w.types[f.Version]
	w.mu.Unlock()
	if sv == nil {
		return 0, fmt.Errorf("schema version %d was not created", f.Version)
	}
	fields := warehouse.BinlogMetaFields()
	nmeta := len(fields)
	if f.PlainSource {
		for i := range fields {
			if n := fields[i].Name; n == warehouse.ColSourceDB || n == warehouse.ColSourceTable {
				fields[i].Node = parquet.Encoded(parquet.String(), &parquet.Plain)
			}
		}
	}
	for i, c := range sv.Columns {
		n, err := schema.ParquetNode(types[i])
		if err != nil {
			return 0, err
		}
		fields = append(fields, warehouse.Field{Name: c.Name, Node: n})
	}
	var buf bytes.Buffer
	pw := parquet.NewWriter(&buf, warehouse.FileSchema(fields),
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.KeyValueMetadata("binlake.schema_version", strconv.Itoa(f.Version)),
		parquet.KeyValueMetadata("binlake.table", w.Table))
	rows := make([]parquet.Row, 0, 256)
	// write writes rows; then, at the end of a page or row group, ends
	// the pages of every column or the row group.
	var rgRows, pageRows int
	write := func() error {
		if _, err := pw.WriteRows(rows); err != nil {
			return err
		}
		rgRows, pageRows, rows = rgRows+len(rows), pageRows+len(rows), rows[:0]
		if f.RowGroupRows > 0 && rgRows == f.RowGroupRows {
			rgRows, pageRows = 0, 0
			return pw.Flush()
		}
		if f.PageRows > 0 && pageRows == f.PageRows {
			pageRows = 0
			for _, cw := range pw.ColumnWriters() {
				if err := cw.Flush(); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, r := range f.Rows {
		if err := r.Pos.Check(); err != nil {
			return 0, err
		}
		pos := r.Pos.Decimal()
		out := make(parquet.Row, len(fields))
		out[0] = parquet.ByteArrayValue([]byte(r.Op)).Level(0, 0, 0)
		out[1] = parquet.FixedLenByteArrayValue(pos[:]).Level(0, 0, 1)
		out[2] = parquet.Int64Value(r.Event.UnixMicro()).Level(0, 0, 2)
		out[3] = parquet.ByteArrayValue([]byte(r.DB)).Level(0, 0, 3)
		out[4] = parquet.ByteArrayValue([]byte(r.Table)).Level(0, 0, 4)
		out[5] = parquet.ByteArrayValue([]byte(w.Topic)).Level(0, 0, 5)
		out[6] = parquet.Int32Value(p).Level(0, 0, 6)
		out[7] = parquet.Int64Value(r.Offset).Level(0, 0, 7)
		out[8] = parquet.BooleanValue(r.Late).Level(0, 0, 8)
		for i := range sv.Columns {
			var v schema.Value
			if i < len(r.Values) && r.Op != "truncate" {
				var err error
				if v, _, err = schema.Coerce(r.Values[i], types[i], schema.CoerceOptions{}); err != nil {
					return 0, fmt.Errorf("column %s: %w", sv.Columns[i].Name, err)
				}
			}
			pv, err := schema.ParquetValue(v, types[i], nmeta+i)
			if err != nil {
				return 0, fmt.Errorf("column %s: %w", sv.Columns[i].Name, err)
			}
			out[nmeta+i] = pv
		}
		rows = append(rows, out)
		if len(rows) == cap(rows) || rgRows+len(rows) == f.RowGroupRows || pageRows+len(rows) == f.PageRows {
			if err := write(); err != nil {
				return 0, err
			}
		}
	}
	if err := write(); err != nil {
		return 0, err
	}
	if err := pw.Close(); err != nil {
		return 0, err
	}
	n := int64(buf.Len())
	return n, w.Store.Put(ctx, key, io.Reader(&buf))
}
