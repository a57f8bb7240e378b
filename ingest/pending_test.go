package ingest

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/warehouse"
)

// heldPuts is a store whose Puts wait until release is closed, and
// report on started that they began.
type heldPuts struct {
	storage.Store
	started chan struct{}
	release chan struct{}
}

func (s *heldPuts) Put(ctx context.Context, key string, r io.Reader) error {
	s.started <- struct{}{}
	<-s.release
	return s.Store.Put(ctx, key, r)
}

// Listing a key in a partition's pending record does not wait for a write
// of the record in progress (the run's goroutine lists, an encoder
// writes), and the next write lists every key.
func TestListPendingDuringWrite(t *testing.T) {
	ctx := context.Background()
	st := &heldPuts{Store: mem.New(), started: make(chan struct{}, 2), release: make(chan struct{})}
	r := &run{st: st, id: "run"}
	ps := &partState{id: partitionID{"t", 0}, seq: 1}
	done := make(chan error, 1)
	go func() { done <- r.writePending(ctx, ps, listPending(ps, "a")) }()
	<-st.started
	listed := make(chan int, 1)
	go func() { listed <- listPending(ps, "b") }()
	select {
	case n := <-listed:
		if n != 2 {
			t.Errorf("listPending returned %d, want 2", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("listPending waited for the pending record's write")
	}
	close(st.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := r.writePending(ctx, ps, 2); err != nil {
		t.Fatal(err)
	}
	b, err := storage.ReadAll(ctx, st, warehouse.PendingKey("t", 0, 1, "run"))
	if err != nil {
		t.Fatal(err)
	}
	var p warehouse.Pending
	if err := warehouse.Unmarshal("pending", b, &p); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Keys, []string{"a", "b"}) || ps.pending.durable != 2 {
		t.Errorf("stored keys %v, durable %d; want a and b, 2", p.Keys, ps.pending.durable)
	}
}
