// Package mem is an in-memory storage.Store for tests. It obeys the whole
// storage contract (see package storage), so code tested against it behaves
// the same on local disk and S3. Contents live as long as the Store value.
package mem

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/binlake/binlake/storage"
)

type object struct {
	data    []byte
	modTime time.Time
}

// Store keeps objects in a map. It is safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	objects map[string]object
}

var _ storage.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{objects: map[string]object{}}
}

// Put stores the bytes of r under key once r is read to the end.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	if err := storage.CheckKey(key); err != nil {
		return fmt.Errorf("mem put: %w", err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("mem put %s: read input: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem put %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = object{data: data, modTime: time.Now()}
	return nil
}

// PutIfAbsent stores a copy of data under key unless key exists.
func (s *Store) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if err := storage.CheckKey(key); err != nil {
		return fmt.Errorf("mem put-if-absent: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem put-if-absent %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[key]; ok {
		return fmt.Errorf("mem put-if-absent %s: %w", key, storage.ErrExists)
	}
	s.objects[key] = object{data: bytes.Clone(data), modTime: time.Now()}
	return nil
}

func (s *Store) lookup(op, key string) (object, error) {
	if err := storage.CheckKey(key); err != nil {
		return object{}, fmt.Errorf("mem %s: %w", op, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.objects[key]
	if !ok {
		return object{}, fmt.Errorf("mem %s %s: %w", op, key, storage.ErrNotFound)
	}
	return o, nil
}

// Get returns a reader over the object. Objects are immutable, so the
// reader is unaffected by later writes.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.GetRange(ctx, key, 0, -1)
}

// GetRange returns a reader over part of the object.
func (s *Store) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	o, err := s.lookup("get", key)
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("mem get %s: negative offset %d: %w", key, off, storage.ErrPermanent)
	}
	data := o.data[min(off, int64(len(o.data))):]
	if length >= 0 && length < int64(len(data)) {
		data = data[:length]
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// Stat describes the object.
func (s *Store) Stat(ctx context.Context, key string) (storage.Object, error) {
	o, err := s.lookup("stat", key)
	if err != nil {
		return storage.Object{}, err
	}
	return storage.Object{Key: key, Size: int64(len(o.data)), ModTime: o.modTime}, nil
}

// List calls fn for each object under prefix in key order. It works on a
// snapshot of the keys, so fn may write to the store.
func (s *Store) List(ctx context.Context, prefix string, fn func(storage.Object) error) error {
	return s.ListAfter(ctx, prefix, "", fn)
}

// ListAfter is List from the first key after after on.
func (s *Store) ListAfter(ctx context.Context, prefix, after string, fn func(storage.Object) error) error {
	if err := storage.CheckPrefix(prefix); err != nil {
		return fmt.Errorf("mem list: %w", err)
	}
	s.mu.RLock()
	var objs []storage.Object
	for k, o := range s.objects {
		if strings.HasPrefix(k, prefix) && k > after {
			objs = append(objs, storage.Object{Key: k, Size: int64(len(o.data)), ModTime: o.modTime})
		}
	}
	s.mu.RUnlock()
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mem list %s: %w", prefix, err)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes the object if it exists.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := storage.CheckKey(key); err != nil {
		return fmt.Errorf("mem delete: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, key)
	return nil
}

// Copy makes dst share src's bytes.
func (s *Store) Copy(ctx context.Context, src, dst string) error {
	o, err := s.lookup("copy", src)
	if err != nil {
		return err
	}
	if err := storage.CheckKey(dst); err != nil {
		return fmt.Errorf("mem copy: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[dst] = object{data: o.data, modTime: time.Now()}
	return nil
}
