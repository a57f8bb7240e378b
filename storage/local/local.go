// Package local is a storage.Store on a local (or network) file system.
//
// An object key maps to the file <root>/<key>. Writes never touch a
// published file in place: Put writes a temporary file under
// <root>/.binlake-tmp, fsyncs it, renames it over the destination and
// fsyncs the directory, so a reader sees the old file or the new one and a
// crash at any instant leaves no partial object. PutIfAbsent publishes with
// link(2), which fails if the name exists, so exactly one of many concurrent
// writers wins. Copy hard-links when it can, which is safe because files are
// never modified after they are published.
//
// Temporary files are named after the host and process that wrote them.
// New removes those of processes that are gone and any older than a day;
// they were never visible, so removing them loses nothing.
//
// Unlike S3, a key cannot be both an object and a directory of other
// objects ("a" and "a/b"); the warehouse layout never needs that.
package local

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/binlake/binlake/storage"
)

// TempDir is the directory under the root that holds files being written.
// It starts with "." so query engines and List skip it.
const TempDir = ".binlake-tmp"

// staleAge is the age after which any temporary file is considered dead.
const staleAge = 24 * time.Hour

// Store is a storage.Store rooted at a directory. It is safe for concurrent
// use by several goroutines and several processes.
type Store struct {
	root string
	tmp  string
	host string
}

var _ storage.Store = (*Store)(nil)

// New opens (creating if needed) the store rooted at dir and removes
// temporary files that dead writers left behind.
func New(dir string) (*Store, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local store %s: %w", dir, err)
	}
	host, _ := os.Hostname()
	s := &Store{root: root, tmp: filepath.Join(root, TempDir), host: sanitize(host)}
	if err := os.MkdirAll(s.tmp, 0o755); err != nil {
		return nil, fmt.Errorf("local store %s: %w", dir, classify(err))
	}
	if err := s.removeStaleTemps(); err != nil {
		return nil, fmt.Errorf("local store %s: remove stale temporary files: %w", dir, err)
	}
	return s, nil
}

// Root returns the absolute directory the store is rooted at.
func (s *Store) Root() string { return s.root }

func sanitize(host string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '/' || r == '\\' || r == '.' {
			return '_'
		}
		return r
	}, host)
}

// tempName returns a fresh temporary path: <tmp>/<op>-<host>-<pid>-<random>.
func (s *Store) tempName(op string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return filepath.Join(s.tmp, fmt.Sprintf("%s-%s-%d-%s", op, s.host, os.Getpid(), hex.EncodeToString(b[:])))
}

// removeStaleTemps deletes temporary files of processes on this host that
// no longer run, and any older than staleAge.
func (s *Store) removeStaleTemps() error {
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		parts := strings.Split(e.Name(), "-")
		stale := false
		if len(parts) == 4 && parts[1] == s.host {
			pid, err := strconv.Atoi(parts[2])
			stale = err == nil && pid != os.Getpid() && !processAlive(pid)
		}
		if !stale {
			info, err := e.Info()
			stale = err == nil && time.Since(info.ModTime()) > staleAge
		}
		if stale {
			if err := os.Remove(filepath.Join(s.tmp, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func (s *Store) path(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

// classify marks errors that retrying cannot fix as storage.ErrPermanent
// and maps a missing file to storage.ErrNotFound.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %w", err, storage.ErrNotFound)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS),
		errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.ENAMETOOLONG):
		return fmt.Errorf("%w: %w", err, storage.ErrPermanent)
	}
	return err
}

// ctxReader stops a copy when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// writeTemp writes r to a new synced temporary file and returns its path.
func (s *Store) writeTemp(ctx context.Context, op string, r io.Reader) (string, error) {
	name := s.tempName(op)
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return "", classify(err)
	}
	_, err = io.Copy(f, ctxReader{ctx, r})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(name)
		return "", classify(err)
	}
	return name, nil
}

// Put writes r to a temporary file and renames it into place.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	if err := storage.CheckKey(key); err != nil {
		return fmt.Errorf("local put: %w", err)
	}
	tmp, err := s.writeTemp(ctx, "put", r)
	if err != nil {
		return fmt.Errorf("local put %s: %w", key, err)
	}
	if err := s.publish(tmp, s.path(key), os.Rename); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("local put %s: %w", key, classify(err))
	}
	return nil
}

// PutIfAbsent writes data to a temporary file and links it into place;
// link fails if the destination exists.
func (s *Store) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if err := storage.CheckKey(key); err != nil {
		return fmt.Errorf("local put-if-absent: %w", err)
	}
	tmp, err := s.writeTemp(ctx, "create", bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("local put-if-absent %s: %w", key, err)
	}
	defer os.Remove(tmp)
	err = s.publish(tmp, s.path(key), os.Link)
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("local put-if-absent %s: %w", key, storage.ErrExists)
	case err != nil:
		return fmt.Errorf("local put-if-absent %s: %w", key, classify(err))
	}
	return nil
}

// publish moves or links tmp to dst, creating dst's directory, and syncs the
// directory so the new name survives a crash. A concurrent Delete may remove
// a directory that just became empty between creating it and using it, so
// a missing directory is retried a few times.
func (s *Store) publish(tmp, dst string, place func(oldpath, newpath string) error) error {
	dir := filepath.Dir(dst)
	var err error
	for range 5 {
		if err = s.mkdirAll(dir); err != nil {
			return err
		}
		err = place(tmp, dst)
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
		if _, serr := os.Stat(tmp); serr != nil {
			return fmt.Errorf("temporary file vanished: %w", serr)
		}
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

// mkdirAll creates dir and its missing parents, syncing each parent after a
// directory is created in it.
func (s *Store) mkdirAll(dir string) error {
	if info, err := os.Stat(dir); err == nil && info.IsDir() {
		return nil
	}
	if dir == s.root || len(dir) <= len(s.root) {
		return os.MkdirAll(dir, 0o755)
	}
	parent := filepath.Dir(dir)
	if err := s.mkdirAll(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// rangeReader closes the file under a limited reader.
type rangeReader struct {
	io.Reader
	f *os.File
}

func (r rangeReader) Close() error { return r.f.Close() }

// openFile opens a regular file; a directory counts as absent.
func (s *Store) openFile(key string) (*os.File, os.FileInfo, error) {
	if err := storage.CheckKey(key); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		return nil, nil, classify(err)
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file: %w", key, storage.ErrNotFound)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// Get opens the file. Because published files are replaced by rename, an
// open reader keeps reading the version it opened.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.GetRange(ctx, key, 0, -1)
}

// GetRange opens the file at off, limited to length bytes.
func (s *Store) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	if off < 0 {
		return nil, fmt.Errorf("local get %s: negative offset %d: %w", key, off, storage.ErrPermanent)
	}
	f, _, err := s.openFile(key)
	if err != nil {
		return nil, fmt.Errorf("local get %s: %w", key, err)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("local get %s: %w", key, err)
	}
	var r io.Reader = f
	if length >= 0 {
		r = io.LimitReader(f, length)
	}
	return rangeReader{r, f}, nil
}

// Stat describes the file.
func (s *Store) Stat(ctx context.Context, key string) (storage.Object, error) {
	if err := storage.CheckKey(key); err != nil {
		return storage.Object{}, fmt.Errorf("local stat: %w", err)
	}
	info, err := os.Stat(s.path(key))
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file: %w", key, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Object{}, fmt.Errorf("local stat %s: %w", key, classify(err))
	}
	return storage.Object{Key: key, Size: info.Size(), ModTime: info.ModTime()}, nil
}

// List reports the files under prefix in key order.
func (s *Store) List(ctx context.Context, prefix string, fn func(storage.Object) error) error {
	return s.ListAfter(ctx, prefix, "", fn)
}

// ListAfter walks the directories that can hold keys with prefix that
// sort after after, each in key order, and reports their files as it goes:
// it reads no directory whose keys all sort before after, and stops as
// soon as fn fails. A directory's entries are read before fn sees any of
// them, so fn may write to the store.
func (s *Store) ListAfter(ctx context.Context, prefix, after string, fn func(storage.Object) error) error {
	if err := storage.CheckPrefix(prefix); err != nil {
		return fmt.Errorf("local list: %w", err)
	}
	dir := prefix[:strings.LastIndexByte(prefix, '/')+1] // "" or "a/b/"
	return s.walk(ctx, dir, prefix, after, fn)
}

// walk lists directory dir (a key prefix, "" or ending in "/"). Errors of
// fn are returned as they are.
func (s *Store) walk(ctx context.Context, dir, prefix, after string, fn func(storage.Object) error) error {
	fail := func(err error) error {
		return fmt.Errorf("local list %s: %w", prefix, classify(err))
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	entries, err := os.ReadDir(s.path(dir))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil // never written, emptied and removed, or an object (prefix "a/" of key "a")
	}
	if err != nil {
		return fail(err)
	}
	type entry struct {
		key string // a directory's ends in "/": that is how its keys sort
		de  fs.DirEntry
	}
	list := make([]entry, 0, len(entries))
	for _, de := range entries {
		key := dir + de.Name()
		switch {
		case de.IsDir():
			if dir == "" && de.Name() == TempDir {
				continue
			}
			key += "/"
			// Skip a directory none of whose keys has the prefix or
			// sorts after after.
			if !strings.HasPrefix(key, prefix) && !strings.HasPrefix(prefix, key) ||
				key <= after && !strings.HasPrefix(after, key) {
				continue
			}
		case !de.Type().IsRegular() || !strings.HasPrefix(key, prefix) || key <= after:
			continue
		}
		list = append(list, entry{key, de})
	}
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range list {
		if e.de.IsDir() {
			if err := s.walk(ctx, e.key, prefix, after, fn); err != nil {
				return err
			}
			continue
		}
		info, err := e.de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted while listing
		}
		if err != nil {
			return fail(err)
		}
		if err := fn(storage.Object{Key: e.key, Size: info.Size(), ModTime: info.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes the file and then any directories it leaves empty, up to
// the root.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := storage.CheckKey(key); err != nil {
		return fmt.Errorf("local delete: %w", err)
	}
	p := s.path(key)
	if info, err := os.Lstat(p); err == nil && info.IsDir() {
		return nil // not an object
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("local delete %s: %w", key, classify(err))
	}
	dir := filepath.Dir(p)
	if err := syncDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("local delete %s: %w", key, classify(err))
	}
	for dir != s.root && strings.HasPrefix(dir, s.root) {
		if os.Remove(dir) != nil {
			break // not empty, or gone already
		}
		dir = filepath.Dir(dir)
	}
	return nil
}

// Copy hard-links src to a temporary name and renames that over dst; where
// hard links are not possible it copies the bytes.
func (s *Store) Copy(ctx context.Context, src, dst string) error {
	if err := storage.CheckKey(dst); err != nil {
		return fmt.Errorf("local copy: %w", err)
	}
	f, _, err := s.openFile(src)
	if err != nil {
		return fmt.Errorf("local copy %s to %s: %w", src, dst, err)
	}
	defer f.Close()
	tmp := s.tempName("copy")
	if err := os.Link(s.path(src), tmp); err != nil {
		// No hard links here (another file system, or not supported).
		tmp, err = s.writeTemp(ctx, "copy", f)
		if err != nil {
			return fmt.Errorf("local copy %s to %s: %w", src, dst, err)
		}
	}
	if err := s.publish(tmp, s.path(dst), os.Rename); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("local copy %s to %s: %w", src, dst, classify(err))
	}
	return nil
}
