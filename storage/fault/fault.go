// Package fault wraps a storage.Store and makes chosen calls fail, so tests
// can drive every error path of the code above the store: fail the Nth Put,
// lose the answer of a PutIfAbsent that did happen, break an upload half
// way. It is for tests only.
//
// A failed Put is not faked above the store: the inner store receives a
// reader that breaks after half of the bytes, so its own clean-up path
// (temporary file removal, multipart abort) runs for real.
package fault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/binlake/binlake/storage"
)

// ErrInjected is the default error a rule injects.
var ErrInjected = errors.New("injected storage fault")

// Op names a Store method.
type Op string

// The operations a rule can target. Any matches all of them.
const (
	Any         Op = ""
	Put         Op = "put"
	PutIfAbsent Op = "put-if-absent"
	Get         Op = "get"
	GetRange    Op = "get-range"
	Stat        Op = "stat"
	List        Op = "list"
	Delete      Op = "delete"
	Copy        Op = "copy"
)

// Rule fails the Nth call (counting from 1) of Op.
type Rule struct {
	Op  Op
	Nth int
	// Err is returned (wrapped); nil means ErrInjected.
	Err error
	// After performs the call on the inner store first and then reports
	// the error, as when a request succeeds but its answer is lost.
	After bool
}

// Store is a storage.Store that applies rules to calls before passing them
// to the inner store. It is safe for concurrent use.
type Store struct {
	inner storage.Store

	mu    sync.Mutex
	rules []Rule
	calls map[Op]int

	listed atomic.Int64
}

var _ storage.Store = (*Store)(nil)

// New wraps inner with no rules.
func New(inner storage.Store) *Store {
	return &Store{inner: inner, calls: map[Op]int{}}
}

// Add adds a rule. Counting starts at the store's creation, not at Add.
func (s *Store) Add(r Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Err == nil {
		r.Err = ErrInjected
	}
	s.rules = append(s.rules, r)
}

// Calls returns how many calls of op have been made (Any: all calls).
func (s *Store) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Listed returns how many objects listings have reported: what a listing
// costs, where Calls(List) counts requests.
func (s *Store) Listed() int64 { return s.listed.Load() }

// check counts a call and returns the rule that fails it, if any.
func (s *Store) check(op Op) (Rule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	s.calls[Any]++
	for _, r := range s.rules {
		if (r.Op == op && r.Nth == s.calls[op]) || (r.Op == Any && r.Nth == s.calls[Any]) {
			return r, true
		}
	}
	return Rule{}, false
}

func injected(op Op, key string, r Rule) error {
	return fmt.Errorf("fault %s %s (call %d): %w", op, key, r.Nth, r.Err)
}

// do runs fn under the rules for op.
func (s *Store) do(op Op, key string, fn func() error) error {
	r, fail := s.check(op)
	if !fail {
		return fn()
	}
	if r.After {
		if err := fn(); err != nil {
			return err
		}
	}
	return injected(op, key, r)
}

// halfReader passes through half of the data, then fails.
type halfReader struct {
	data []byte
	off  int
	err  error
}

func (h *halfReader) Read(p []byte) (int, error) {
	if h.off >= len(h.data)/2 {
		return 0, h.err
	}
	n := copy(p, h.data[h.off:len(h.data)/2])
	h.off += n
	return n, nil
}

// Put passes a failing reader to the inner store when a rule fails it
// (unless the rule is an After rule).
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	rule, fail := s.check(Put)
	if !fail {
		return s.inner.Put(ctx, key, r)
	}
	if rule.After {
		if err := s.inner.Put(ctx, key, r); err != nil {
			return err
		}
		return injected(Put, key, rule)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	err = injected(Put, key, rule)
	if ierr := s.inner.Put(ctx, key, &halfReader{data: data, err: err}); ierr == nil {
		return fmt.Errorf("fault put %s: inner store accepted a broken upload", key)
	}
	return err
}

// PutIfAbsent applies the rules, then calls the inner store.
func (s *Store) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	return s.do(PutIfAbsent, key, func() error { return s.inner.PutIfAbsent(ctx, key, data) })
}

// Get applies the rules, then calls the inner store.
func (s *Store) Get(ctx context.Context, key string) (rc io.ReadCloser, err error) {
	err = s.do(Get, key, func() error {
		rc, err = s.inner.Get(ctx, key)
		return err
	})
	if err != nil && rc != nil {
		rc.Close()
		rc = nil
	}
	return rc, err
}

// GetRange applies the rules, then calls the inner store.
func (s *Store) GetRange(ctx context.Context, key string, off, length int64) (rc io.ReadCloser, err error) {
	err = s.do(GetRange, key, func() error {
		rc, err = s.inner.GetRange(ctx, key, off, length)
		return err
	})
	if err != nil && rc != nil {
		rc.Close()
		rc = nil
	}
	return rc, err
}

// Stat applies the rules, then calls the inner store.
func (s *Store) Stat(ctx context.Context, key string) (o storage.Object, err error) {
	err = s.do(Stat, key, func() error {
		o, err = s.inner.Stat(ctx, key)
		return err
	})
	return o, err
}

// List applies the rules, then calls the inner store.
func (s *Store) List(ctx context.Context, prefix string, fn func(storage.Object) error) error {
	return s.ListAfter(ctx, prefix, "", fn)
}

// ListAfter applies the rules (as List), then calls the inner store.
func (s *Store) ListAfter(ctx context.Context, prefix, after string, fn func(storage.Object) error) error {
	return s.do(List, prefix, func() error {
		return s.inner.ListAfter(ctx, prefix, after, func(o storage.Object) error {
			s.listed.Add(1)
			return fn(o)
		})
	})
}

// Delete applies the rules, then calls the inner store.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.do(Delete, key, func() error { return s.inner.Delete(ctx, key) })
}

// Copy applies the rules, then calls the inner store.
func (s *Store) Copy(ctx context.Context, src, dst string) error {
	return s.do(Copy, src+" -> "+dst, func() error { return s.inner.Copy(ctx, src, dst) })
}
