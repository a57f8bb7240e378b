package merge

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/storage"
)

// rooted is a store whose objects are files under a local directory
// (storage/local): merge reads them in place instead of downloading them.
type rooted interface {
	Root() string
}

// parquetFile is an open Parquet object of the warehouse.
type parquetFile struct {
	key  string
	file *parquet.File
	size int64
	os   *os.File
	temp bool // os is a download to remove on close
}

// openParquet opens a Parquet object: in place on a local store, else
// downloaded to tmpDir first (Parquet readers seek; a ranged GET per page
// header would be slow on S3) and removed again on close.
func openParquet(ctx context.Context, st storage.Store, key, tmpDir string) (*parquetFile, error) {
	return openParquetCached(ctx, st, key, tmpDir, nil, false)
}

// downloads keeps downloaded objects for a second opening.
type downloads struct {
	mu    sync.Mutex
	paths map[string]string
}

// openParquetCached is openParquet that, with keep, leaves the download in
// dl for the next opening, which then removes it on close.
func openParquetCached(ctx context.Context, st storage.Store, key, tmpDir string, dl *downloads, keep bool) (*parquetFile, error) {
	pf := &parquetFile{key: key}
	if r, ok := st.(rooted); ok {
		f, err := os.Open(filepath.Join(r.Root(), filepath.FromSlash(key)))
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", key, err)
		}
		pf.os = f
	} else if p := dl.take(key, keep); p != "" {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("open download of %s: %w", key, err)
		}
		pf.os, pf.temp = f, !keep
	} else {
		f, err := os.CreateTemp(tmpDir, "download-*.parquet")
		if err != nil {
			return nil, fmt.Errorf("download %s: %w", key, err)
		}
		pf.os, pf.temp = f, true
		rc, err := st.Get(ctx, key)
		if err == nil {
			_, err = io.Copy(f, rc)
			rc.Close()
		}
		if err != nil {
			pf.close()
			return nil, fmt.Errorf("download %s: %w", key, err)
		}
		if keep && dl != nil {
			dl.put(key, f.Name())
			pf.temp = false
		}
	}
	fi, err := pf.os.Stat()
	if err != nil {
		pf.close()
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	pf.size = fi.Size()
	pf.file, err = parquet.OpenFile(pf.os, pf.size, parquet.SkipBloomFilters(true))
	if err != nil {
		pf.close()
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return pf, nil
}

func (d *downloads) take(key string, keep bool) string {
	if d == nil {
		return ""
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.paths[key]
	if !keep {
		delete(d.paths, key)
	}
	return p
}

func (d *downloads) put(key, path string) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.paths == nil {
		d.paths = map[string]string{}
	}
	d.paths[key] = path
}

func (pf *parquetFile) close() {
	if pf == nil || pf.os == nil {
		return
	}
	pf.os.Close()
	if pf.temp {
		os.Remove(pf.os.Name())
	}
	pf.os = nil
}

// meta returns a key-value metadata entry of the file.
func (pf *parquetFile) meta(key string) (string, bool) {
	return pf.file.Lookup(key)
}

// schemaVersion is the file's MetaSchemaVersion, or def.
func (pf *parquetFile) schemaVersion(def int) int {
	if s, ok := pf.meta("binlake.schema_version"); ok {
		if v, err := strconv.Atoi(s); err == nil {
			return v
		}
	}
	return def
}
