package merge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"

	"github.com/binlake/binlake/internal/pagezstd"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// fileSink writes a sequence of key-sorted Parquet files (data or
// tombstones): row group after row group, a new file once the current one
// has reached the target size, or whole files copied from the base. It is
// used by one goroutine; carried files are copied in the background.
type fileSink struct {
	ctx      context.Context
	st       storage.Store
	dir      string
	name     func(n int) string
	schema   *parquet.Schema
	meta     [][2]string
	fileSize int64
	zstd     *pagezstd.Codec

	n     int
	cur   *sinkFile
	files []warehouse.ManifestFile
	// finishing is the file closed last, which the store may still be
	// finishing (a local store syncs it; S3 uploads its last parts).
	// One at a time: what the store holds of it is outside the budget.
	finishing *sinkFile

	copies errgroup.Group // carries
	mu     sync.Mutex
	// keys are every object this sink created or began to, for removal
	// when the run fails.
	keys []string

	written, carried int64
	nWritten, nCarry int
}

// sinkFile is the file being written; it streams to the store as it goes.
type sinkFile struct {
	key    string
	pw     *io.PipeWriter
	done   chan error
	cw     *countingWriter
	w      *parquet.GenericWriter[any]
	rgKeys [][2][]string
	rows   int64
}

// countingWriter counts bytes on their way to the store.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// newFileSink returns a sink of files dir+name(n) of schema sch,
// compressed by zstd (nil for a sink that only carries files).
func newFileSink(ctx context.Context, st storage.Store, dir string, name func(int) string, sch *parquet.Schema, meta [][2]string, fileSize int64, zstd *pagezstd.Codec) *fileSink {
	s := &fileSink{ctx: ctx, st: st, dir: dir, name: name, schema: sch, meta: meta, fileSize: fileSize, zstd: zstd}
	s.copies.SetLimit(8)
	return s
}

func (s *fileSink) track(key string) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
}

// writer returns the writer of the current file, opening a new file if
// there is none.
func (s *fileSink) writer() *parquet.GenericWriter[any] {
	if s.cur != nil {
		return s.cur.w
	}
	s.n++
	key := s.dir + s.name(s.n)
	s.track(key)
	pr, pw := io.Pipe()
	f := &sinkFile{key: key, pw: pw, done: make(chan error, 1)}
	f.cw = &countingWriter{w: pw}
	go func() {
		err := s.st.Put(s.ctx, key, pr)
		pr.CloseWithError(err) // unblock the writer if Put stopped early
		f.done <- err
	}()
	opts := []parquet.WriterOption{
		s.schema,
		parquet.Compression(s.zstd),
		parquet.DictionaryMaxBytes(maxDictionary),
		// Pages of 1 MiB compress better than the 256 KiB default, and
		// cost less per value.
		parquet.PageBufferSize(1 << 20),
		parquet.DataPageStatistics(false), // the column index has them
		parquet.CreatedBy("binlake", "merge", ""),
	}
	for _, kv := range s.meta {
		opts = append(opts, parquet.KeyValueMetadata(kv[0], kv[1]))
	}
	f.w = parquet.NewGenericWriter[any](f.cw, opts...)
	s.cur = f
	return f.w
}

// endRowGroup records a row group just completed in the current file and
// cuts the file once it is large enough.
func (s *fileSink) endRowGroup(rows int64, minKey, maxKey []string) error {
	f := s.cur
	f.rgKeys = append(f.rgKeys, [2][]string{minKey, maxKey})
	f.rows += rows
	if f.w.Size() >= s.fileSize {
		return s.closeFile()
	}
	return nil
}

// flushRowGroup ends the row group written through the current file's
// column writers.
func (s *fileSink) flushRowGroup(rows int64, minKey, maxKey []string) error {
	if err := s.cur.w.Flush(); err != nil {
		return s.fail(err)
	}
	return s.endRowGroup(rows, minKey, maxKey)
}

// copyRowGroup appends a row group of a base file as it is (parquet-go
// copies the pages without decoding them when the layouts agree).
func (s *fileSink) copyRowGroup(rg parquet.RowGroup, minKey, maxKey []string) error {
	if _, err := s.writer().WriteRowGroup(rg); err != nil {
		return s.fail(err)
	}
	return s.endRowGroup(rg.NumRows(), minKey, maxKey)
}

// writeRows writes rows (tombstones) into the current row group.
func (s *fileSink) writeRows(rows []parquet.Row) error {
	if _, err := s.writer().WriteRows(rows); err != nil {
		return s.fail(err)
	}
	return nil
}

func (s *fileSink) fail(err error) error {
	if s.cur != nil {
		s.cur.pw.CloseWithError(err)
		<-s.cur.done //nolint:errcheck // the store's error is err's consequence
		s.cur = nil
	}
	return err
}

// closeFile finishes the current file. The store has all its bytes then
// (the pipe hands them over as they are written); what it still does with
// them runs on while the next file is written, and the next closeFile or
// close waits for it.
func (s *fileSink) closeFile() error {
	f := s.cur
	if f == nil {
		return nil
	}
	if err := s.waitFinishing(); err != nil {
		return s.fail(err)
	}
	b, err := json.Marshal(f.rgKeys)
	if err != nil {
		return s.fail(err)
	}
	f.w.SetKeyValueMetadata(warehouse.MetaRowGroupKeys, string(b))
	if err := f.w.Close(); err != nil {
		return s.fail(fmt.Errorf("write %s: %w", f.key, err))
	}
	f.pw.Close()
	s.cur, s.finishing = nil, f
	mf := warehouse.ManifestFile{Key: f.key, Rows: f.rows, Bytes: f.cw.n}
	if len(f.rgKeys) > 0 {
		mf.MinKey, mf.MaxKey = f.rgKeys[0][0], f.rgKeys[len(f.rgKeys)-1][1]
	}
	s.files = append(s.files, mf)
	s.written += f.cw.n
	s.nWritten++
	return nil
}

// carry ends the current file and copies a whole base file (server-side;
// a hard link on local disk) as the next file.
func (s *fileSink) carry(src warehouse.ManifestFile) error {
	if err := s.closeFile(); err != nil {
		return err
	}
	s.n++
	dst := src
	dst.Key = s.dir + s.name(s.n)
	dst.CarriedFrom = src.Key
	s.track(dst.Key)
	s.files = append(s.files, dst)
	s.carried += src.Bytes
	s.nCarry++
	ctx := s.ctx
	s.copies.Go(func() error {
		if err := s.st.Copy(ctx, src.Key, dst.Key); err != nil {
			return fmt.Errorf("carry %s: %w", src.Key, err)
		}
		return nil
	})
	return nil
}

// waitFinishing waits for the store to have the file closed last.
func (s *fileSink) waitFinishing() error {
	f := s.finishing
	if f == nil {
		return nil
	}
	s.finishing = nil
	if err := <-f.done; err != nil {
		return fmt.Errorf("write %s: %w", f.key, err)
	}
	return nil
}

// close finishes the last file and waits for the store to have every
// file.
func (s *fileSink) close() error {
	err := s.closeFile()
	if ferr := s.waitFinishing(); err == nil {
		err = ferr
	}
	if cerr := s.copies.Wait(); err == nil {
		err = cerr
	}
	return err
}

// abort stops writing; the caller removes s.keys.
func (s *fileSink) abort() {
	_ = s.fail(context.Canceled)
	_ = s.waitFinishing() // errors of an aborted run are not its cause
	_ = s.copies.Wait()
}
