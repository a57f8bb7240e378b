package snapshot

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/schema"
)

// How verify reads a snapshot whose key leaves out the source columns
// (key_includes_source: false): each physical table's rows are spread
// over all the files, so the snapshot is read once and each row's key
// and hash are appended to a local file of its table; each table is then
// compared with its file. A record is the row's hash and its key's
// values; records are buffered in memory up to SpillBuffer bytes and
// appended to their files when the buffer is full, so at most one file
// is open at a time, whatever the number of tables.

// defaultSpillBuffer is VerifyOptions.SpillBuffer's default.
const defaultSpillBuffer = 32 << 20

// tableSpill is one physical table's records: those buffered and the
// file holding the others (created when they are first written).
type tableSpill struct {
	rows int64
	buf  []byte
	file string
}

// partitioned compares the shards with a snapshot whose key leaves out
// the source columns: one read of the snapshot into a file per physical
// table, then a comparison per shard. It returns the snapshot's rows of
// tables that are not among shards, per table.
func (v *verifier) partitioned(ctx context.Context, shards []shard) (map[srcTable]int64, error) {
	dir, err := merge.NewSpillDir(v.o.TempDir, "verify")
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer os.RemoveAll(dir)
	tables, err := v.spill(ctx, dir)
	if err != nil {
		return nil, err
	}
	for _, s := range shards {
		t := srcTable{s.DB, s.Table}
		ts := tables[t]
		delete(tables, t)
		err := v.shardFromSpill(ctx, s, ts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	orphans := map[srcTable]int64{}
	for t, ts := range tables {
		orphans[t] = ts.rows
	}
	return orphans, nil
}

// spill reads the snapshot once and writes each row's record to its
// table's file in dir.
func (v *verifier) spill(ctx context.Context, dir string) (map[srcTable]*tableSpill, error) {
	tables := map[srcTable]*tableSpill{}
	buffered := 0
	flush := func() error {
		for _, ts := range tables {
			if len(ts.buf) == 0 {
				continue
			}
			if err := appendFile(ts.file, ts.buf); err != nil {
				return fmt.Errorf("verify spill: %w", err)
			}
			// Released: with thousands of tables, buffers kept would
			// add up to far more than SpillBuffer.
			ts.buf = nil
		}
		buffered = 0
		return nil
	}
	rd := v.newSnapReader()
	defer rd.close()
	vals := make([]schema.Value, len(v.cols))
	var key []schema.Value
	for {
		t, pvs, ok, err := rd.next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if err := v.typed(pvs, vals); err != nil {
			return nil, fmt.Errorf("read %s: %s.%s: %w", rd.key, t.db, t.table, err)
		}
		ts := tables[t]
		if ts == nil {
			ts = &tableSpill{file: filepath.Join(dir, strconv.Itoa(len(tables)))}
			tables[t] = ts
		}
		key = v.keyValues(vals, key[:0])
		n := len(ts.buf)
		ts.buf = appendSpillRecord(ts.buf, v.hash(vals), key)
		ts.rows++
		if buffered += len(ts.buf) - n; buffered >= v.o.SpillBuffer {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	return tables, flush()
}

// appendFile appends b to the file name, creating it if needed.
func appendFile(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// shardFromSpill compares a shard with its table's records (ts is nil
// when the snapshot has no row of it).
func (v *verifier) shardFromSpill(ctx context.Context, s shard, ts *tableSpill) error {
	var r *bufio.Reader
	if ts != nil {
		f, err := os.Open(ts.file)
		if err != nil {
			return fmt.Errorf("verify spill: %w", err)
		}
		defer f.Close()
		r = bufio.NewReaderSize(f, 256<<10)
	}
	var key []schema.Value
	return v.shard(ctx, s, func() ([]schema.Value, uint64, bool, error) {
		if r == nil {
			return nil, 0, false, nil
		}
		h, k, err := readSpillRecord(r, len(v.keys), key[:0])
		if errors.Is(err, io.EOF) {
			return nil, 0, false, nil
		}
		if err != nil {
			return nil, 0, false, fmt.Errorf("verify spill %s: %w", ts.file, err)
		}
		key = k
		return key, h, true, nil
	})
}

// appendSpillRecord appends a record: the row's hash, then each key
// value's kind and fields (I, U, F, S, B).
func appendSpillRecord(b []byte, hash uint64, key []schema.Value) []byte {
	b = binary.LittleEndian.AppendUint64(b, hash)
	for _, x := range key {
		b = append(b, byte(x.Kind))
		b = binary.AppendVarint(b, x.I)
		b = binary.AppendUvarint(b, x.U)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x.F))
		b = binary.AppendUvarint(b, uint64(len(x.S)))
		b = append(b, x.S...)
		b = binary.AppendUvarint(b, uint64(len(x.B)))
		b = append(b, x.B...)
	}
	return b
}

// readSpillRecord reads a record of n key values written by
// appendSpillRecord, reusing key's capacity. It returns io.EOF at the end
// of the file, and io.ErrUnexpectedEOF within a record.
func readSpillRecord(r *bufio.Reader, n int, key []schema.Value) (uint64, []schema.Value, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, key, err
	}
	hash := binary.LittleEndian.Uint64(b[:])
	bytesOf := func() ([]byte, error) {
		l, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		if l > math.MaxInt32 {
			return nil, fmt.Errorf("value of %d bytes", l)
		}
		p := make([]byte, l)
		_, err = io.ReadFull(r, p)
		return p, err
	}
	for range n {
		var x schema.Value
		k, err := r.ReadByte()
		if err == nil {
			x.Kind = schema.ValueKind(k)
			x.I, err = binary.ReadVarint(r)
		}
		if err == nil {
			x.U, err = binary.ReadUvarint(r)
		}
		if err == nil {
			_, err = io.ReadFull(r, b[:])
			x.F = math.Float64frombits(binary.LittleEndian.Uint64(b[:]))
		}
		var s []byte
		if err == nil {
			s, err = bytesOf()
			x.S = string(s)
		}
		if err == nil {
			x.B, err = bytesOf()
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, key, err
		}
		if len(x.B) == 0 {
			x.B = nil
		}
		key = append(key, x)
	}
	return hash, key, nil
}
