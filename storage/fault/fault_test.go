package fault_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/fault"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/storage/storagetest"
)

// A wrapper with no rules is a faithful store.
func TestContractWithoutRules(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return fault.New(mem.New()) })
}

func stores(t *testing.T) map[string]storage.Store {
	l, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]storage.Store{"mem": mem.New(), "local": l}
}

// Every operation fails on exactly its Nth call with the injected error,
// and a failed call leaves no trace in the inner store.
func TestFailNth(t *testing.T) {
	ctx := context.Background()
	ops := []struct {
		op Op
		// call performs the operation on the i-th key and returns its error.
		call func(s storage.Store, i int) error
		// visible reports whether the i-th call's effect is in the store.
		visible func(inner storage.Store, i int) bool
	}{
		{fault.Put, func(s storage.Store, i int) error {
			return s.Put(ctx, key(i), bytes.NewReader(bytes.Repeat([]byte{'x'}, 1<<20)))
		}, exists("k/")},
		{fault.PutIfAbsent, func(s storage.Store, i int) error {
			return s.PutIfAbsent(ctx, key(i), []byte("c"))
		}, exists("k/")},
		{fault.Copy, func(s storage.Store, i int) error {
			return s.Copy(ctx, "src", key(i))
		}, exists("k/")},
		{fault.Delete, func(s storage.Store, i int) error {
			return s.Delete(ctx, "pre/"+key(i))
		}, func(inner storage.Store, i int) bool { return !exists("pre/k/")(inner, i) }},
		{fault.Get, func(s storage.Store, i int) error {
			rc, err := s.Get(ctx, "src")
			if err == nil {
				_, err = io.ReadAll(rc)
				rc.Close()
			}
			return err
		}, nil},
		{fault.GetRange, func(s storage.Store, i int) error {
			rc, err := s.GetRange(ctx, "src", 1, 2)
			if err == nil {
				rc.Close()
			}
			return err
		}, nil},
		{fault.Stat, func(s storage.Store, i int) error { _, err := s.Stat(ctx, "src"); return err }, nil},
		{fault.List, func(s storage.Store, i int) error {
			return s.List(ctx, "", func(storage.Object) error { return nil })
		}, nil},
	}
	for name, inner := range stores(t) {
		for _, o := range ops {
			t.Run(name+"/"+string(o.op), func(t *testing.T) {
				clear(t, inner)
				if err := inner.Put(ctx, "src", bytes.NewReader([]byte("source"))); err != nil {
					t.Fatal(err)
				}
				for i := range 5 {
					if err := inner.Put(ctx, "pre/"+key(i), bytes.NewReader(nil)); err != nil {
						t.Fatal(err)
					}
				}
				s := fault.New(inner)
				s.Add(fault.Rule{Op: o.op, Nth: 3})
				for i := range 5 {
					err := o.call(s, i)
					if i == 2 {
						if !errors.Is(err, fault.ErrInjected) {
							t.Fatalf("call 3: want the injected error, got %v", err)
						}
					} else if err != nil {
						t.Fatalf("call %d: %v", i+1, err)
					}
					if o.visible != nil && o.visible(inner, i) != (i != 2) {
						t.Errorf("call %d: effect visible = %v, want %v", i+1, o.visible(inner, i), i != 2)
					}
				}
				if got := s.Calls(o.op); got != 5 {
					t.Errorf("calls counted: %d, want 5", got)
				}
			})
		}
	}
}

// Op is a local alias so the table above reads well.
type Op = fault.Op

func key(i int) string { return "k/" + string(rune('a'+i)) }

func exists(prefix string) func(storage.Store, int) bool {
	return func(inner storage.Store, i int) bool {
		ok, err := storage.Exists(context.Background(), inner, prefix+string(rune('a'+i)))
		if err != nil {
			panic(err)
		}
		return ok
	}
}

func clear(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var keys []string
	if err := s.List(ctx, "", func(o storage.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
}

// An After rule lets the call happen and loses its answer: the caller sees
// an error although the object was written. Callers that retry a commit
// must cope with finding their own record.
func TestAfterRule(t *testing.T) {
	ctx := context.Background()
	s := fault.New(mem.New())
	s.Add(fault.Rule{Op: fault.PutIfAbsent, Nth: 1, After: true})
	if err := s.PutIfAbsent(ctx, "commit", []byte("1")); !errors.Is(err, fault.ErrInjected) {
		t.Fatalf("want injected error, got %v", err)
	}
	if err := s.PutIfAbsent(ctx, "commit", []byte("1")); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("retry: want ErrExists, got %v", err)
	}
}

// A rule on Any counts every call, and custom errors are kept.
func TestAnyRuleCustomError(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("disk on fire")
	s := fault.New(mem.New())
	s.Add(fault.Rule{Op: fault.Any, Nth: 2, Err: boom})
	if err := s.PutIfAbsent(ctx, "a", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "a"); !errors.Is(err, boom) {
		t.Fatalf("second call: want custom error, got %v", err)
	}
	if _, err := s.Stat(ctx, "a"); err != nil {
		t.Fatalf("third call: %v", err)
	}
}
